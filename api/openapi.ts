// The OpenAPI 3.1 document of the HTTP API, generated from the route declarations (api/route.ts): each
// operation's path, scope, parameters, body and answers come from the zod schemas that validate requests
// (api/schemas.ts) and type responses (api/response-schemas.ts). Served at GET /openapi.json, and
// browsable at GET /docs (api/routes/docs.ts).
import { z } from 'zod';
import { commonErrorExamples, OPERATION_EXAMPLES, ORDER_EVENT_EXAMPLES, type Example } from './examples';
import { TOKEN_QUERY_PARAMETER } from './customer-tokens';
import { isRawBody, paramsShape, routeBudget, type ErrorStatus, type JsonSchema, type Method, type Route } from './route';
import type { Budget } from './rate-limits';
import * as responses from './response-schemas';
import * as requests from './schemas';
import * as segments from './segment-schemas';
import * as quarantine from './quarantine-schemas';
import * as sources from './sources/schemas';

// ------------------------------------------------------------------------------------ schema components

/**
 * Every schema that becomes a named component, by its component name. A body or answer whose schema is
 * not here is written inline.
 */
const COMPONENTS: Record<string, z.ZodType> = {
  OrderEvent: requests.orderEventSchema,
  CustomerInput: requests.customerSchema,
  PreferencesInput: requests.preferencesSchema,
  ConsentInput: requests.consentSchema,
  DeviceInput: requests.deviceSchema,
  ApiKeyInput: requests.apiKeySchema,
  Locale: requests.localeSchema,
  TimeZone: requests.timeZoneSchema,
  JsonValue: requests.jsonValueSchema,

  Error: responses.errorResponse,
  FieldError: responses.fieldErrorResponse,
  OrderEventError: responses.orderEventErrorResponse,
  AcceptedEvent: responses.acceptedEventResponse,
  Customer: responses.customerResponse,
  Device: responses.deviceResponse,
  DeviceList: responses.deviceListResponse,
  EffectivePreferences: responses.effectivePreferencesResponse,
  Consent: responses.consentResponse,
  ConsentList: responses.consentListResponse,
  Notification: responses.notificationResponse,
  DeliveryAttempt: responses.attemptResponse,
  NotificationPage: responses.notificationPageResponse,
  InboxItem: responses.inboxItemResponse,
  InboxPage: responses.inboxPageResponse,
  InboxReadAll: responses.inboxReadAllResponse,
  OrderState: responses.orderStateResponse,
  ApiKeyCreated: responses.apiKeyCreatedResponse,
  ApiKey: responses.apiKeyResponse,
  ApiKeyList: responses.apiKeyListResponse,
  Health: responses.healthResponse,
  Readiness: responses.readinessResponse,
  Stats: responses.statsResponse,
  DeadLetter: responses.deadLetterResponse,
  DeadLetterPage: responses.deadLetterPageResponse,
  ReplayAccepted: responses.replayAcceptedResponse,
  NotificationEventInput: requests.notificationEventSchema,
  EmailWebhookInput: requests.emailWebhookSchema,
  TwilioStatusCallback: requests.twilioStatusCallbackSchema,
  Receipt: responses.receiptResponse,
  ReceiptAccepted: responses.receiptAcceptedResponse,
  NotificationDetail: responses.notificationDetailResponse,
  TemplateVersionInput: requests.templateVersionInputSchema,
  TemplateContent: requests.templateContentSchema,
  TemplatePreviewInput: requests.templatePreviewSchema,
  TemplateVersion: responses.templateVersionResponse,
  TemplateList: responses.templateListResponse,
  TemplateKey: responses.templateKeyResponse,
  TemplatePublished: responses.templatePublishedResponse,
  TemplatePreview: responses.templatePreviewResponse,
  RejectedEventPatch: quarantine.rejectedEventPatchSchema,
  RejectedEventReplayFilter: quarantine.bulkReplaySchema,
  RejectedEvent: responses.rejectedEventResponse,
  SegmentRule: segments.segmentNodeSchema,
  SegmentInput: segments.segmentInputSchema,
  Segment: segments.segmentResponse,
  SizedSegment: segments.sizedSegmentResponse,
  SegmentPage: segments.segmentPageResponse,
  SegmentPreview: segments.segmentPreviewResponse,
  SourceInput: sources.sourceInputSchema,
  ValidationProfile: sources.validationProfileSchema,
  Source: sources.sourceResponse,
  SourceList: sources.sourceListResponse,
  SourceEventAnswer: sources.sourceEventAnswer,
  SourceEventError: sources.sourceEventErrorResponse,
};

/** The component name of each named schema: a body or answer of one of these is a $ref to it. */
const COMPONENT_NAMES = new Map<z.ZodType, string>(Object.entries(COMPONENTS).map(([name, schema]) => [schema, name]));

/** JSON Schema 2020-12 of the wire format (`io: 'input'`: request bodies before defaults, times as strings). */
function componentSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENTS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    target: 'draft-2020-12',
    io: 'input',
    uri: (id) => `#/components/schemas/${id}`,
  });
  // Each schema is a component of the document, not a standalone JSON Schema resource.
  return Object.fromEntries(
    Object.entries(schemas).map(([id, schema]) => {
      const { $schema: _schema, $id: _id, ...rest } = schema as JsonSchema;
      return [id, rest];
    }),
  );
}

function inlineSchema(schema: z.ZodType): JsonSchema {
  const { $schema: _schema, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as JsonSchema;
  return rest;
}

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: `error.fields` names every bad field or parameter.',
  401: 'Missing, unknown or revoked API key; or a customer token that is malformed, altered, signed by a retired key or expired.',
  403: "The API key lacks the scope this operation needs; or a customer token, where the operation takes none or not for this customer.",
  404: 'Not found.',
  409: 'Conflict.',
  413: 'The body is larger than 256 KiB.',
  415: 'The body has a charset or content encoding the API does not read.',
  503: 'Unavailable for now; try again.',
};

/** A $ref to the schema's component, or the schema itself. */
const schemaOf = (schema: z.ZodType): JsonSchema => {
  const name = COMPONENT_NAMES.get(schema);
  return name ? { $ref: `#/components/schemas/${name}` } : inlineSchema(schema);
};

const jsonContent = (schema: z.ZodType) => ({ 'application/json': { schema: schemaOf(schema) } });

/** What a 429 means for an operation that spends `budget` (api/rate-limits.ts). */
function rateLimitedDescription(budget: Budget): string {
  const address = 'from this client address (`HERALD_ADDRESS_RATE_LIMIT`)';
  const spent =
    budget === 'address'
      ? `Too many requests ${address}`
      : `Too many requests with this key (${budget === 'intake' ? "its intake budget, `HERALD_INTAKE_RATE_LIMIT`" : '`HERALD_KEY_RATE_LIMIT`'}), or with a key this API instance does not know yet ${address}`;
  return `${spent}: \`rate_limited\`. Retry after \`Retry-After\` seconds.`;
}

/** The headers of a 429 (api/rate-limits.ts). */
const RATE_LIMITED_HEADERS = {
  'Retry-After': { description: 'Whole seconds (1 or more) until the budget has a request again.', required: true, schema: { type: 'integer', minimum: 1 } },
  RateLimit: { description: 'What is left of the budget: `"<budget>";r=<requests left>;t=<seconds until it is full>`.', schema: { type: 'string' } },
  'RateLimit-Policy': { description: 'The budget: `"<budget>";q=<burst>;w=<seconds to refill it>`.', schema: { type: 'string' } },
};

/** The operation's examples (api/examples.ts); an operation without them is documented without examples. */
const examplesOf = (route: Route) => OPERATION_EXAMPLES[route.operationId];

/**
 * A parameter from one property of a parameter object: its description is the parameter's too, and its
 * example is the operation's (api/examples.ts), else the property's first.
 */
function parameter(name: string, where: 'path' | 'query', schema: JsonSchema, required: boolean, example: unknown): JsonSchema {
  const examples = schema.examples as unknown[] | undefined;
  const chosen = example ?? examples?.[0];
  return {
    name,
    in: where,
    required,
    ...(typeof schema.description === 'string' ? { description: schema.description } : {}),
    schema,
    ...(chosen !== undefined ? { example: chosen } : {}),
  };
}

function pathParameters(route: Route): JsonSchema[] {
  const shape = paramsShape(route.params);
  const examples = examplesOf(route)?.params ?? {};
  // In the order the path names them.
  return [...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => parameter(name!, 'path', inlineSchema(shape[name!]!), true, examples[name!]));
}

function queryParameters(route: Route): JsonSchema[] {
  if (!route.query) return [];
  const schema = inlineSchema(route.query) as { properties: Record<string, JsonSchema>; required?: string[] };
  const examples = examplesOf(route)?.query ?? {};
  return Object.entries(schema.properties).map(([name, property]) => parameter(name, 'query', property, schema.required?.includes(name) ?? false, examples[name]));
}

function headerParameters(route: Route): JsonSchema[] {
  const examples = examplesOf(route)?.headers ?? {};
  return (route.headers ?? []).map((h) => ({ ...h, in: 'header', ...(examples[h.name] !== undefined ? { example: examples[h.name] } : {}) }));
}

/** The named examples of one answer, as Swagger UI offers them in a drop-down. */
const namedExamples = (examples: Record<string, Example> | undefined) => (examples && Object.keys(examples).length ? { examples } : {});

function requestBody(route: Route): JsonSchema | undefined {
  if (!route.body) return undefined;
  const [mediaType, schema] = isRawBody(route.body) ? [route.body.mediaType, route.body.schema] : ['application/json', route.body as z.ZodType];
  const example = examplesOf(route)?.body;
  // The media type's example is what Swagger UI puts in the request it offers to send. A schema that takes no body makes it optional.
  const required = isRawBody(route.body) || !(route.body as z.ZodType).safeParse(undefined).success;
  return { required, content: { [mediaType]: { schema: schemaOf(schema), ...(example !== undefined ? { example } : {}) } } };
}

function operationObject(route: Route): JsonSchema {
  const parameters = [...pathParameters(route), ...queryParameters(route), ...headerParameters(route)];
  const errors: Record<number, string> = Object.fromEntries(Object.entries(route.errors ?? {}).filter(([, description]) => description !== undefined));
  if (route.scope) {
    errors[401] ??= ERROR_DESCRIPTIONS[401]!;
    errors[403] ??= ERROR_DESCRIPTIONS[403]!;
  }
  if (parameters.length || route.body) errors[400] ??= ERROR_DESCRIPTIONS[400]!;
  if (route.body) {
    errors[413] ??= ERROR_DESCRIPTIONS[413]!;
    errors[415] ??= ERROR_DESCRIPTIONS[415]!;
  }
  const budget = routeBudget(route);
  if (budget) errors[429] ??= rateLimitedDescription(budget);
  const answerExamples = examplesOf(route)?.responses ?? {};
  const common = commonErrorExamples(route.scope, budget, route.customer);
  const answers: Record<string, JsonSchema> = {};
  for (const [status, answer] of Object.entries(route.responses)) {
    const examples = namedExamples(answerExamples[Number(status)]);
    answers[status] = {
      description: answer.description,
      ...(answer.headers ? { headers: answer.headers } : {}),
      ...(answer.body
        ? { content: { 'application/json': { ...jsonContent(answer.body)['application/json'], ...examples } } }
        : answer.content
          ? { content: { [answer.content.mediaType]: { schema: answer.content.schema, ...examples } } }
          : {}),
    };
  }
  for (const status of Object.keys(errors).map(Number).sort()) {
    const body = status === 400 && route.invalidBody ? route.invalidBody.body : responses.errorResponse;
    // A keyed operation's own 403 examples come beside the common ones (a missing scope, a customer token's).
    const own = status === 403 && route.scope ? { ...common[status], ...answerExamples[status] } : answerExamples[status];
    const examples = namedExamples(own ?? common[status]);
    answers[String(status)] = {
      description: errors[status],
      ...(status === 429 ? { headers: RATE_LIMITED_HEADERS } : route.errorHeaders?.[status as ErrorStatus] ? { headers: route.errorHeaders[status as ErrorStatus] } : {}),
      content: { 'application/json': { ...jsonContent(body)['application/json'], ...examples } },
    };
  }
  // Node's HTTP parser refuses a request line and headers over 16 KiB (a very long query, say) before any route runs: no body.
  answers['431'] = { description: 'The request line and headers are larger than 16 KiB: refused before the request is read, without a body.' };
  const scopeNote = route.scope
    ? `Needs an API key with the \`${route.scope}\` scope${route.scope === 'admin' ? '' : ' (or `admin`)'}${customerNote(route)}${route.keyless ? ', except the requests the description says are authenticated otherwise (they need none)' : ''}.`
    : 'Needs no API key.';
  const body = requestBody(route);
  return {
    operationId: route.operationId,
    tags: [route.tag],
    summary: route.summary,
    description: [route.description, scopeNote].filter(Boolean).join('\n\n'),
    // A keyless route's key is optional: `{}` is OpenAPI's "or none".
    security: route.scope ? [...securityOf(route), ...(route.keyless ? [{}] : [])] : [],
    ...(route.scope ? { 'x-required-scope': route.scope } : {}),
    ...(route.keyless ? { 'x-keyless': true } : {}),
    ...(route.customer ? { 'x-customer-token': true } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(body ? { requestBody: body } : {}),
    responses: answers,
  };
}

/** What a customer token may do here (api/route.ts `customer`). */
function customerNote(route: Route): string {
  const access = route.customer;
  if (!access) return '';
  if ('owner' in access) return ', or a customer token of the customer it belongs to (another customer\'s is answered as one that does not exist)';
  const query = access.tokenInQuery ? ` (as \`Authorization: Bearer\`, or as the \`${TOKEN_QUERY_PARAMETER}\` query parameter where a header cannot be set)` : '';
  return `, or a customer token for the \`${access.param}\` of the path${query}`;
}

/** The ways to call an operation: a key; for one that declares `customer`, also a customer token. */
function securityOf(route: Route): JsonSchema[] {
  const access = route.customer;
  if (!access) return [{ bearer: [] }];
  return [{ bearer: [] }, { customerToken: [] }, ...('param' in access && access.tokenInQuery ? [{ customerTokenQuery: [] }] : [])];
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: Record<string, unknown>;
  paths: Record<string, Partial<Record<Method, JsonSchema>>>;
  components: Record<string, unknown>;
  [key: string]: unknown;
}

function buildDocument(routes: Route[]): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method] = operationObject(route);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Herald',
      version: '0.1.0',
      description:
        'Order notification engine on Temporal. The `/v1` routes need `Authorization: Bearer <key>`; a key carries the scopes ' +
        '`ingest` (post events, write customers and devices), `read` (history and state), `tokens` (mint customer tokens) and ' +
        "`admin` (everything, including keys). A customer's app uses a customer token instead (`hct_...`, minted by the shop's " +
        'backend with POST /v1/customers/{customerId}/tokens): it may call only the operations marked `x-customer-token`, for ' +
        'its own customer. ' +
        'Every error has one shape: `{ "error": { "code", "message", "fields": [{ "field", "reason" }] } }`. Requests are rate-limited per key ' +
        'and per client address, per API instance: a spent budget is a 429 with `Retry-After`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: [...new Set(routes.map((route) => route.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: withOrderEventExamples(componentSchemas()),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'A Herald API key: `Authorization: Bearer hk_...`.' },
        customerToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'hct_<keyId>.<payload>.<signature>',
          description: "A customer token (POST /v1/customers/{customerId}/tokens), for one customer's app: `Authorization: Bearer hct_...`.",
        },
        customerTokenQuery: {
          type: 'apiKey',
          in: 'query',
          name: TOKEN_QUERY_PARAMETER,
          description: "A customer token as a query parameter, for a browser's EventSource (which cannot send headers); only the inbox stream takes it.",
        },
      },
    },
  };
}

/** The order event component shows one event per kind of status, with the data keys its templates read. */
function withOrderEventExamples(schemas: Record<string, JsonSchema>): Record<string, JsonSchema> {
  return { ...schemas, OrderEvent: { ...schemas.OrderEvent, examples: Object.values(ORDER_EVENT_EXAMPLES).map((e) => e.value) } };
}

const built = new WeakMap<Route[], OpenApiDocument>();

/** The document of these routes (built once per list). */
export function openApiDocument(routes: Route[]): OpenApiDocument {
  let document = built.get(routes);
  if (!document) built.set(routes, (document = buildDocument(routes)));
  return document;
}
