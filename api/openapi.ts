// The OpenAPI 3.1 document of the HTTP API, generated from the zod schemas that validate requests
// (api/schemas.ts) and those that type the responses (api/response-schemas.ts); served at
// GET /openapi.json, and browsable at GET /docs (Swagger UI from the swagger-ui-dist package, offline).
import { Router, static as serveStatic, type RequestHandler } from 'express';
import { z } from 'zod';
import type { Scope } from './auth';
import { HttpError } from './errors';
import * as responses from './response-schemas';
import * as requests from './schemas';

type JsonSchema = Record<string, unknown>;
type Method = 'get' | 'put' | 'post' | 'delete';

// ------------------------------------------------------------------------------------ schema components

/** Every schema that becomes a named component, by its component name. */
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
};

const ref = (name: keyof typeof COMPONENTS & string) => ({ $ref: `#/components/schemas/${name}` });

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

// ------------------------------------------------------------------------------------------- operations

interface Operation {
  method: Method;
  /** OpenAPI path template, e.g. /v1/customers/{customerId}. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** The scope the key needs (admin keys may do everything); null for the public endpoints. */
  scope: Scope | null;
  query?: z.ZodType;
  /** Query parameter schemas the zod schema cannot state (a preprocessed or transformed input). */
  queryOverrides?: Record<string, JsonSchema>;
  body?: keyof typeof COMPONENTS & string;
  /** The body's media type; application/json unless given. */
  bodyType?: string;
  /** Header parameters the operation reads (a webhook's signature). */
  headers?: JsonSchema[];
  /** Error descriptions that differ from the usual ones (a 403 that is a bad signature, not a missing scope). */
  errorDescriptions?: Record<number, string>;
  /** Success responses; the error responses follow from the rest. */
  ok: Record<number, { description: string; schema?: keyof typeof COMPONENTS & string; content?: Record<string, { schema: JsonSchema }> }>;
  /** Error statuses besides the ones every such operation has (401/403, 400 for parameters and bodies...). */
  errors?: number[];
  /** The 400 body, when it is not the plain error shape. */
  badRequest?: keyof typeof COMPONENTS & string;
}

const PATH_PARAM_DESCRIPTIONS: Record<string, string> = {
  customerId: "The OMS's customer id.",
  orderId: "The OMS's order id.",
  deviceId: 'The id the app gave the device when it registered it.',
  messageId: 'An inbox message id.',
  id: 'The id of the resource.',
  notificationId: "A notification id as the history shows it, such as `ev-1/push`: percent-encode its '/' (`ev-1%2Fpush`).",
  key: 'A template key: `order.<status>` for each order status, or `order.digest`.',
  channel: 'The channel of the template: push, email, sms or inapp.',
  locale: 'The locale of the template, exactly (BCP 47, such as `fr-CA`); each locale has its own versions.',
  version: 'A version number, counted per key, channel and locale.',
};

/** Path parameters that are not plain ids. */
const PATH_PARAM_SCHEMAS: Record<string, z.ZodType> = {
  notificationId: requests.notificationIdSchema,
  key: requests.templateKeySchema,
  channel: requests.templateChannelParamSchema,
  locale: requests.localeSchema,
  version: requests.templateVersionParamSchema,
};

const HISTORY_DESCRIPTION =
  'Each notification has its attempts and its suppression or failure reason. The filters combine (all must hold); a `nextCursor` ' +
  'is a position in the list, so pass the same filters with it to get the next page.';
const HISTORY_QUERY_OVERRIDES: Record<string, JsonSchema> = {
  status: {
    type: 'string',
    description: `Only notifications in one of these statuses: a comma-separated list of ${requests.NOTIFICATION_STATUSES.join(', ')}.`,
    pattern: requests.NOTIFICATION_STATUS_LIST_PATTERN,
  },
};

const OPERATIONS: Operation[] = [
  {
    method: 'post',
    path: '/v1/order-events',
    operationId: 'postOrderEvent',
    tag: 'Order events',
    summary: 'Take an order event',
    description:
      "Stores the event and signals the order's workflow (`order:<orderId>`, signal-with-start). The same eventId again is a duplicate " +
      '(`duplicate: true`, nothing sent again); the same eventId with a different order, customer or status is a 409. An invalid event is ' +
      'a 400 naming every bad field, and its raw payload is kept as a rejected event (`rejectedEventId`).',
    scope: 'ingest',
    body: 'OrderEvent',
    ok: { 202: { description: 'Accepted (stored; its workflow is signalled).', schema: 'AcceptedEvent' } },
    errors: [409],
    badRequest: 'OrderEventError',
  },
  {
    method: 'put',
    path: '/v1/customers/{customerId}',
    operationId: 'putCustomer',
    tag: 'Customers',
    summary: 'Create or update a customer profile',
    description: 'Fields left out keep their value; null clears a nullable one.',
    scope: 'ingest',
    body: 'CustomerInput',
    ok: { 200: { description: 'Updated.', schema: 'Customer' }, 201: { description: 'Created.', schema: 'Customer' } },
  },
  {
    method: 'get',
    path: '/v1/customers/{customerId}',
    operationId: 'getCustomer',
    tag: 'Customers',
    summary: 'A customer profile and its preferences',
    scope: 'read',
    ok: { 200: { description: 'The profile.', schema: 'Customer' } },
    errors: [404],
  },
  {
    method: 'put',
    path: '/v1/customers/{customerId}/preferences',
    operationId: 'putPreferences',
    tag: 'Preferences and consent',
    summary: "Set a customer's channel and category preferences",
    description:
      'Each row is a channel and a category: a class (`transactional`, `marketing`) or one of its topics (`order-updates`; ' +
      '`promotions`, `cart-reminders`, `restock`). A topic row overrides its class row, which overrides the default. ' +
      'A marketing opt-in on push, email or SMS records a granted consent when the request carries `consent { source, recordedAt? }`. ' +
      'Without it, an email or SMS marketing opt-in needs a granted consent on record already: otherwise 409 `consent_required`, ' +
      'naming each such row, and nothing is saved. A marketing opt-out where consent stands records its withdrawal ' +
      '(source `consent.source`, or `preference-opt-out`).',
    scope: 'ingest',
    body: 'PreferencesInput',
    ok: { 200: { description: 'The profile with its preference rows.', schema: 'Customer' } },
    errors: [404, 409],
    errorDescriptions: { 409: '`consent_required`: an email or SMS marketing opt-in without consent; `error.fields` names each row.' },
  },
  {
    method: 'get',
    path: '/v1/customers/{customerId}/preferences',
    operationId: 'getPreferences',
    tag: 'Preferences and consent',
    summary: "A customer's effective preferences per channel and category",
    description:
      'Every channel and category with its value and where it came from (the row for the category, the row for its class, or the ' +
      'default), the consent that marketing needs on the channel, and whether a routine notification may go there.',
    scope: 'read',
    ok: { 200: { description: 'The effective preferences.', schema: 'EffectivePreferences' } },
    errors: [404],
  },
  {
    method: 'post',
    path: '/v1/customers/{customerId}/consents',
    operationId: 'postConsent',
    tag: 'Preferences and consent',
    summary: 'Record that a customer gave or withdrew marketing consent',
    description:
      'Appends to the consent history (never changes it). The record Herald received last among those covering a category (one for ' +
      'the category itself or for its class) decides, so a withdrawal (`granted: false`) takes effect at once; `recordedAt`, when the ' +
      'customer gave it, is kept as evidence. The preference for the same channel and category follows: opted in on a grant, out on a ' +
      'withdrawal.',
    scope: 'ingest',
    body: 'ConsentInput',
    ok: { 201: { description: 'Recorded.', schema: 'Consent' } },
    errors: [404],
  },
  {
    method: 'get',
    path: '/v1/customers/{customerId}/consents',
    operationId: 'listConsents',
    tag: 'Preferences and consent',
    summary: "A customer's consent history, latest first",
    scope: 'read',
    ok: { 200: { description: 'Every record, latest received first.', schema: 'ConsentList' } },
    errors: [404],
  },
  {
    method: 'post',
    path: '/v1/customers/{customerId}/devices',
    operationId: 'postDevice',
    tag: 'Devices',
    summary: 'Register or refresh a device',
    description:
      'iOS devices send their APNs token (hex), Android devices their FCM registration token, web devices their PushSubscription. ' +
      'The same deviceId with a new token replaces the old token; a token that moves to another device leaves its previous owner.',
    scope: 'ingest',
    body: 'DeviceInput',
    ok: { 200: { description: 'Refreshed.', schema: 'Device' }, 201: { description: 'Registered.', schema: 'Device' } },
  },
  {
    method: 'get',
    path: '/v1/customers/{customerId}/devices',
    operationId: 'listDevices',
    tag: 'Devices',
    summary: "A customer's devices, active or not",
    scope: 'read',
    ok: { 200: { description: 'The devices, most recently seen first.', schema: 'DeviceList' } },
  },
  {
    method: 'delete',
    path: '/v1/customers/{customerId}/devices/{deviceId}',
    operationId: 'deleteDevice',
    tag: 'Devices',
    summary: 'Deactivate a device',
    scope: 'ingest',
    ok: { 204: { description: 'Deactivated.' } },
    errors: [404],
  },
  {
    method: 'get',
    path: '/v1/orders/{orderId}/notifications',
    operationId: 'listOrderNotifications',
    tag: 'Delivery history',
    summary: "An order's delivery history, newest first",
    description: HISTORY_DESCRIPTION,
    scope: 'read',
    query: requests.historyQuerySchema,
    queryOverrides: HISTORY_QUERY_OVERRIDES,
    ok: { 200: { description: 'A page of notifications with their attempts.', schema: 'NotificationPage' } },
  },
  {
    method: 'get',
    path: '/v1/customers/{customerId}/notifications',
    operationId: 'listCustomerNotifications',
    tag: 'Delivery history',
    summary: "A customer's delivery history, newest first",
    description: HISTORY_DESCRIPTION,
    scope: 'read',
    query: requests.historyQuerySchema,
    queryOverrides: HISTORY_QUERY_OVERRIDES,
    ok: { 200: { description: 'A page of notifications with their attempts.', schema: 'NotificationPage' } },
  },
  {
    method: 'get',
    path: '/v1/orders/{orderId}/state',
    operationId: 'getOrderState',
    tag: 'Delivery history',
    summary: "The live state of an order's workflow",
    description: "Answered by the workflow's `orderState` query. 503 when the run exists but cannot answer (no worker, or a failing workflow task).",
    scope: 'read',
    ok: { 200: { description: 'The state.', schema: 'OrderState' } },
    errors: [404, 503],
  },
  {
    method: 'get',
    path: '/v1/customers/{customerId}/inbox',
    operationId: 'listInbox',
    tag: 'Inbox',
    summary: 'The in-app inbox: unread first, then newest',
    scope: 'read',
    query: requests.inboxQuerySchema,
    ok: { 200: { description: 'A page of messages, and how many are unread.', schema: 'InboxPage' } },
  },
  {
    method: 'post',
    path: '/v1/customers/{customerId}/inbox/read-all',
    operationId: 'readAllInbox',
    tag: 'Inbox',
    summary: "Mark all of a customer's messages read",
    scope: 'ingest',
    ok: { 200: { description: 'How many messages this marked read.', schema: 'InboxReadAll' } },
  },
  {
    method: 'post',
    path: '/v1/customers/{customerId}/inbox/{messageId}/read',
    operationId: 'readInboxMessage',
    tag: 'Inbox',
    summary: 'Mark one message read',
    description: 'Marking a message read again has no further effect, and answers the same readAt.',
    scope: 'ingest',
    ok: { 200: { description: 'The message.', schema: 'InboxItem' } },
    errors: [404],
  },
  {
    method: 'get',
    path: '/v1/customers/{customerId}/inbox/stream',
    operationId: 'streamInbox',
    tag: 'Inbox',
    summary: 'Server-sent events of inbox changes',
    description:
      '`message` events (data: an InboxItem, id: its messageId) when a message arrives, `read` events when messages are read. ' +
      'Send `Last-Event-ID` to replay what was missed. The stream stays open; a `: keep-alive` comment comes every 15 s.',
    scope: 'read',
    ok: { 200: { description: 'The event stream.', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
    errors: [503],
  },
  {
    method: 'post',
    path: '/v1/api-keys',
    operationId: 'createApiKey',
    tag: 'API keys',
    summary: 'Create a scoped API key',
    description: 'The key is in this answer only; Herald keeps its hash.',
    scope: 'admin',
    body: 'ApiKeyInput',
    ok: { 201: { description: 'Created.', schema: 'ApiKeyCreated' } },
  },
  {
    method: 'get',
    path: '/v1/api-keys',
    operationId: 'listApiKeys',
    tag: 'API keys',
    summary: 'List API keys (never the keys themselves)',
    scope: 'admin',
    ok: { 200: { description: 'The keys, newest first, revoked ones included.', schema: 'ApiKeyList' } },
  },
  {
    method: 'delete',
    path: '/v1/api-keys/{id}',
    operationId: 'revokeApiKey',
    tag: 'API keys',
    summary: 'Revoke an API key',
    description: 'A key cannot revoke itself (409): that would lock its holder out.',
    scope: 'admin',
    ok: { 204: { description: 'Revoked.' } },
    errors: [404, 409],
  },
  {
    method: 'get',
    path: '/v1/stats',
    operationId: 'getStats',
    tag: 'Statistics',
    summary: 'Delivery counts, rates and latency percentiles over a window',
    description:
      'The window [from, to) defaults to the last 24 hours and spans at most 90 days; to must be later than from. ' +
      `With \`bucket\`, every group has a time series of at most 2200 buckets.`,
    scope: 'read',
    query: requests.statsQuerySchema,
    queryOverrides: {
      groupBy: {
        type: 'string',
        description: `A comma-separated list of ${requests.STATS_GROUP_BY.join(', ')}; channel when not given.`,
        pattern: `^(${requests.STATS_GROUP_BY.join('|')})(,(${requests.STATS_GROUP_BY.join('|')}))*$`,
      },
    },
    ok: { 200: { description: 'Totals, groups and their series.', schema: 'Stats' } },
  },
  {
    method: 'get',
    path: '/v1/dead-letters',
    operationId: 'listDeadLetters',
    tag: 'Dead letters',
    summary: 'Deliveries that failed for good, newest first',
    scope: 'read',
    query: requests.pageQuerySchema,
    ok: { 200: { description: 'A page of dead letters.', schema: 'DeadLetterPage' } },
  },
  {
    method: 'post',
    path: '/v1/dead-letters/{id}/replay',
    operationId: 'replayDeadLetter',
    tag: 'Dead letters',
    summary: 'Replay a dead letter through its own workflow',
    scope: 'admin',
    ok: { 202: { description: 'The replay workflow started.', schema: 'ReplayAccepted' } },
    errors: [404, 409],
  },
  {
    method: 'post',
    path: '/v1/notifications/{notificationId}/events',
    operationId: 'postNotificationEvent',
    tag: 'Receipts',
    summary: 'Report that a notification was delivered, opened or clicked',
    description:
      'From the app (it showed the push) or our email tracking (open pixel, click redirect). Records a receipt and moves the ' +
      'notification forward, never back: queued/sent → delivered → opened → clicked; an open also fills `deliveredAt`, a click ' +
      'also `openedAt`. A failed notification becomes delivered (the provider was wrong); a suppressed one only gets the receipt. ' +
      "Then signals the order's workflow (`notificationReceipt`), which stops a pending escalation. The same `eventId` again " +
      'records nothing (`duplicate: true`); the same eventId for another receipt type is a 409.',
    scope: 'ingest',
    body: 'NotificationEventInput',
    ok: { 202: { description: 'Recorded (or recorded before).', schema: 'ReceiptAccepted' } },
    errors: [404, 409],
  },
  {
    method: 'get',
    path: '/v1/notifications/{notificationId}',
    operationId: 'getNotification',
    tag: 'Delivery history',
    summary: 'One notification with its attempts and receipts',
    scope: 'read',
    ok: { 200: { description: 'The notification; receipts oldest first.', schema: 'NotificationDetail' } },
    errors: [404],
  },
  {
    method: 'post',
    path: '/v1/webhooks/email',
    operationId: 'postEmailWebhook',
    tag: 'Receipts',
    summary: "An email provider's delivery, bounce, complaint, open or click event",
    description:
      'One generic shape that an adapter of SES, SendGrid, Postmark or another provider maps its webhook onto. `messageId` is the ' +
      'Message-ID Herald sent the email with (angle brackets optional); `id`, the provider\'s event id, makes a redelivered event ' +
      'record nothing. A hard bounce fails a queued or sent notification (`bounced: <reason>`); a soft bounce is only recorded. ' +
      'A complaint opts the customer out of marketing email (a preference and a consent record with source `complaint`). ' +
      "Every other event is a receipt as in `POST /v1/notifications/{notificationId}/events`, signalled to the order's workflow.",
    scope: 'ingest',
    body: 'EmailWebhookInput',
    ok: { 202: { description: 'Recorded (or recorded before).', schema: 'ReceiptAccepted' } },
    errors: [404, 409],
  },
  {
    method: 'post',
    path: '/v1/webhooks/twilio/status',
    operationId: 'postTwilioStatusCallback',
    tag: 'Receipts',
    summary: "Twilio's message status callback",
    description:
      'Give Twilio `HERALD_PUBLIC_URL` + `/v1/webhooks/twilio/status` as the StatusCallback. Twilio sends no API key: the request ' +
      'is authenticated by `X-Twilio-Signature` (HMAC-SHA1 with `TWILIO_AUTH_TOKEN` over that URL and the form fields). ' +
      '`delivered` records a delivered receipt, `read` an opened one, `failed` and `undelivered` a failed one that fails a queued ' +
      'or sent notification with the ErrorCode; the in-between statuses (queued, sending, sent...) are acknowledged and not ' +
      'recorded. Each MessageSid and status is recorded once.',
    scope: null,
    body: 'TwilioStatusCallback',
    bodyType: 'application/x-www-form-urlencoded',
    headers: [
      {
        name: 'X-Twilio-Signature',
        in: 'header',
        required: true,
        description: 'Base64 HMAC-SHA1 of the URL and the sorted form fields, keyed with the auth token.',
        schema: { type: 'string' },
      },
    ],
    ok: { 204: { description: 'Taken.' } },
    errors: [403, 404],
    errorDescriptions: {
      403: 'X-Twilio-Signature is missing or does not match.',
      404: 'Twilio is not configured on this API, or no SMS was sent with this MessageSid.',
    },
  },
  {
    method: 'get',
    path: '/v1/templates',
    operationId: 'listTemplates',
    tag: 'Templates',
    summary: 'Templates per key, channel and locale, with their published and latest versions',
    scope: 'admin',
    query: requests.templateListQuerySchema,
    ok: { 200: { description: 'One item per key, channel and locale, sorted by them.', schema: 'TemplateList' } },
  },
  {
    method: 'get',
    path: '/v1/templates/{key}',
    operationId: 'getTemplate',
    tag: 'Templates',
    summary: "Every version of a key, per channel and locale, and the variables it may use",
    scope: 'admin',
    query: requests.templateKeyQuerySchema,
    ok: { 200: { description: 'The versions, newest first, grouped by channel and locale.', schema: 'TemplateKey' } },
  },
  {
    method: 'post',
    path: '/v1/templates/{key}/versions',
    operationId: 'createTemplateVersion',
    tag: 'Templates',
    summary: 'Create a draft version',
    description:
      'The new version is the next number for the key, channel and locale, as a draft: nothing renders it for customers until it is ' +
      'published; it lives at `/v1/templates/{key}/{channel}/{locale}/versions/{version}` (the Location header). Strict variables: a template that uses a variable the key does not provide (see `GET /v1/templates/{key}`), an ' +
      'unknown filter, or invalid Liquid is a 400 naming the field (`subject`, `body`, `bodyHtml`) and the variable. Only email has `bodyHtml`.',
    scope: 'admin',
    body: 'TemplateVersionInput',
    ok: { 201: { description: 'The draft.', schema: 'TemplateVersion' } },
  },
  {
    method: 'get',
    path: '/v1/templates/{key}/{channel}/{locale}/versions/{version}',
    operationId: 'getTemplateVersion',
    tag: 'Templates',
    summary: 'One version of a template',
    scope: 'admin',
    ok: { 200: { description: 'The version.', schema: 'TemplateVersion' } },
    errors: [404],
  },
  {
    method: 'put',
    path: '/v1/templates/{key}/{channel}/{locale}/versions/{version}',
    operationId: 'updateTemplateVersion',
    tag: 'Templates',
    summary: 'Edit a draft',
    description:
      'Replaces the subject, body and HTML part (email only) of a draft, with the same checks as creating one. Published and ' +
      'archived versions never change (409).',
    scope: 'admin',
    body: 'TemplateContent',
    ok: { 200: { description: 'The draft.', schema: 'TemplateVersion' } },
    errors: [404, 409],
    errorDescriptions: { 409: '`template_not_draft`: the version is published or archived; create a new version instead.' },
  },
  {
    method: 'post',
    path: '/v1/templates/{key}/{channel}/{locale}/versions/{version}/publish',
    operationId: 'publishTemplateVersion',
    tag: 'Templates',
    summary: 'Publish a version (a draft, or an archived one to roll back to it)',
    description:
      'In one transaction, the published version of the key, channel and locale becomes archived and this one published. New ' +
      "messages use it within the renderer's cache time (`HERALD_TEMPLATE_CACHE_MS`, 30 s by default). Publishing the published " +
      'version changes nothing.',
    scope: 'admin',
    ok: { 200: { description: 'The published version and the one it replaced.', schema: 'TemplatePublished' } },
    errors: [404],
  },
  {
    method: 'post',
    path: '/v1/templates/{key}/{channel}/{locale}/rollback',
    operationId: 'rollbackTemplate',
    tag: 'Templates',
    summary: 'Republish the version in use before the current one',
    description: 'Publishes the newest archived version older than the published one, and archives the published one. Each call steps back once more.',
    scope: 'admin',
    ok: { 200: { description: 'The republished version and the one it replaced.', schema: 'TemplatePublished' } },
    errors: [409],
    errorDescriptions: { 409: '`no_previous_version`: nothing is published, or no older version was published before.' },
  },
  {
    method: 'post',
    path: '/v1/templates/{key}/preview',
    operationId: 'previewTemplate',
    tag: 'Templates',
    summary: 'Render a template for a sample event and customer, without sending or storing anything',
    description:
      "Renders the published version for the first locale of the fallback chain (`fr-CA` → `fr` → `en`) that has one, or the given " +
      "`version` (a draft, say) in the first locale that has it. The key's example values fill in what the sample event and customer do not give.",
    scope: 'admin',
    body: 'TemplatePreviewInput',
    ok: { 200: { description: 'The rendered message and the template that made it.', schema: 'TemplatePreview' } },
    errors: [404],
    errorDescriptions: { 404: 'No such template version, no published template along the fallback chain, or no such customer.' },
  },
  {
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    tag: 'Operations',
    summary: 'The process is up',
    scope: null,
    ok: { 200: { description: 'Up.', schema: 'Health' } },
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readiness',
    tag: 'Operations',
    summary: 'Temporal and PostgreSQL both answer',
    scope: null,
    ok: {
      200: { description: 'Ready.', schema: 'Readiness' },
      503: { description: "Not ready: each check's error.", schema: 'Readiness' },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'Operations',
    summary: 'Prometheus metrics of the API process',
    scope: null,
    ok: { 200: { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: { type: 'string' } } } } },
  },
  {
    method: 'get',
    path: '/dashboard',
    operationId: 'dashboard',
    tag: 'Documentation',
    summary: 'The operations dashboard (it asks for an API key itself)',
    scope: null,
    ok: { 200: { description: 'An HTML page.', content: { 'text/html': { schema: { type: 'string' } } } } },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApiDocument',
    tag: 'Documentation',
    summary: 'This document',
    scope: null,
    ok: { 200: { description: 'OpenAPI 3.1.', content: { 'application/json': { schema: { type: 'object' } } } } },
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'docs',
    tag: 'Documentation',
    summary: 'This document, browsable (Swagger UI)',
    scope: null,
    ok: { 200: { description: 'An HTML page.', content: { 'text/html': { schema: { type: 'string' } } } } },
  },
];

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request: `error.fields` names every bad field or parameter.',
  401: 'Missing, unknown or revoked API key.',
  403: 'The API key lacks the scope this operation needs.',
  404: 'Not found.',
  409: 'Conflict: an eventId already used for a different event, a key revoking itself, or a replay already running.',
  413: 'The body is larger than 256 KiB.',
  415: 'The body has a charset or content encoding the API does not read.',
  503: 'Unavailable for now; try again.',
};

const errorContent = (schema: keyof typeof COMPONENTS & string = 'Error') => ({ 'application/json': { schema: ref(schema) } });

function pathParameters(path: string): JsonSchema[] {
  const idSchema = inlineSchema(requests.pathIdSchema);
  return [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
    name,
    in: 'path',
    required: true,
    description: PATH_PARAM_DESCRIPTIONS[name!],
    schema: PATH_PARAM_SCHEMAS[name!] ? inlineSchema(PATH_PARAM_SCHEMAS[name!]!) : idSchema,
  }));
}

function queryParameters(query: z.ZodType | undefined, overrides: Record<string, JsonSchema> = {}): JsonSchema[] {
  if (!query) return [];
  const schema = inlineSchema(query) as { properties: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(schema.properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: schema.required?.includes(name) ?? false,
    ...(typeof (overrides[name] ?? property).description === 'string' ? { description: (overrides[name] ?? property).description } : {}),
    schema: overrides[name] ?? property,
  }));
}

function operationObject(op: Operation): JsonSchema {
  const parameters = [...pathParameters(op.path), ...queryParameters(op.query, op.queryOverrides), ...(op.headers ?? [])];
  const errors = new Set(op.errors ?? []);
  if (op.scope) {
    errors.add(401);
    errors.add(403);
  }
  if (parameters.length || op.body) errors.add(400);
  if (op.body) {
    errors.add(413);
    errors.add(415);
  }
  const answers: Record<string, JsonSchema> = {};
  for (const [status, ok] of Object.entries(op.ok)) {
    answers[status] = { description: ok.description, ...(ok.schema ? { content: { 'application/json': { schema: ref(ok.schema) } } } : ok.content ? { content: ok.content } : {}) };
  }
  for (const status of [...errors].sort()) {
    answers[String(status)] = { description: op.errorDescriptions?.[status] ?? ERROR_DESCRIPTIONS[status]!, content: errorContent(status === 400 ? op.badRequest : undefined) };
  }
  const scopeNote = op.scope
    ? `Needs an API key with the \`${op.scope}\` scope${op.scope === 'admin' ? '' : ' (or `admin`)'}.`
    : 'Needs no API key.';
  return {
    operationId: op.operationId,
    tags: [op.tag],
    summary: op.summary,
    description: [op.description, scopeNote].filter(Boolean).join('\n\n'),
    security: op.scope ? [{ bearer: [] }] : [],
    ...(op.scope ? { 'x-required-scope': op.scope } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(op.body ? { requestBody: { required: true, content: { [op.bodyType ?? 'application/json']: { schema: ref(op.body) } } } } : {}),
    responses: answers,
  };
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: Record<string, unknown>;
  paths: Record<string, Partial<Record<Method, JsonSchema>>>;
  components: Record<string, unknown>;
  [key: string]: unknown;
}

function buildDocument(): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operationObject(op);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Herald',
      version: '0.1.0',
      description:
        'Order notification engine on Temporal. The `/v1` routes need `Authorization: Bearer <key>`; a key carries the scopes ' +
        '`ingest` (post events, write customers and devices), `read` (history and state) and `admin` (everything, including keys). ' +
        'Every error has one shape: `{ "error": { "code", "message", "fields": [{ "field", "reason" }] } }`.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    tags: [...new Set(OPERATIONS.map((op) => op.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'A Herald API key: `Authorization: Bearer hk_...`.' } },
    },
  };
}

let cached: OpenApiDocument | undefined;

/** The document (built once per process). */
export function openApiDocument(): OpenApiDocument {
  return (cached ??= buildDocument());
}

// ------------------------------------------------------------------------------------------------ routes

// Resolved like require('swagger-ui-dist').getAbsoluteFSPath(), without loading the package's code here.
const SWAGGER_UI_DIR = (require('swagger-ui-dist') as { getAbsoluteFSPath(): string }).getAbsoluteFSPath();

const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Herald API</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" sizes="32x32">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/herald-init.js"></script>
</body>
</html>
`;

const DOCS_INIT = `window.ui = SwaggerUIBundle({
  url: '/openapi.json',
  dom_id: '#swagger-ui',
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
  validatorUrl: null,
  persistAuthorization: false,
});
`;

// Everything the page loads comes from this origin (swagger-ui-dist, served below); nothing from a CDN.
const DOCS_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

/** GET /openapi.json, GET /docs and its assets. None needs an API key. */
export function docsRoutes(): Router {
  const router = Router();
  router.get('/openapi.json', (_req, res) => {
    res.set('cache-control', 'no-cache').json(openApiDocument());
  });
  router.get('/docs', (_req, res) => {
    res.set(DOCS_HEADERS).set('cache-control', 'no-cache').type('html').send(DOCS_HTML);
  });
  router.get('/docs/assets/herald-init.js', (_req, res) => {
    res.set(DOCS_HEADERS).set('cache-control', 'no-cache').type('js').send(DOCS_INIT);
  });
  router.use('/docs/assets', serveStatic(SWAGGER_UI_DIR, { index: false, maxAge: '1d', fallthrough: true }));
  return router;
}

/**
 * A known path with a method it does not have is a 405 with an Allow header (the error shape), rather
 * than a 404. Goes after every route, before the 404 handler.
 */
export const methodNotAllowed: RequestHandler = (req, res, next) => {
  const document = openApiDocument();
  for (const [template, item] of Object.entries(document.paths)) {
    const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+')}/?$`);
    if (!pattern.test(req.path)) continue;
    const allowed = Object.keys(item).map((m) => m.toUpperCase());
    if (allowed.includes('GET')) allowed.push('HEAD');
    if (allowed.includes(req.method)) break;
    res.set('allow', allowed.join(', '));
    next(new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.path}; use ${allowed.join(', ')}`));
    return;
  }
  next();
};
