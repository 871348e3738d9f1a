// The examples of the OpenAPI document (api/examples.ts) are requests that work. For each operation of the
// served document, in an order that makes the story hold (customer, device, event, then what refers to
// them), this sends the operation's own documented example request, with a key of the scope the operation
// declares, and checks that it answers one of its documented successes with a body its zod response
// schema (and the document's JSON Schema) accepts. An operation without examples fails the first test, so
// a route added later brings its examples with it. The error examples are then checked word for word.
// The tests are one story and run in order: the later ones need what the earlier ones created.
import Ajv2020 from 'ajv/dist/2020';
import { z } from 'zod';
import { API_ROUTES } from '../api/app';
import {
  CAMPAIGN_SEGMENT_ID,
  CAMPAIGN_TEMPLATE,
  DEAD_LETTER_ID,
  EMAIL,
  EMAIL_ID,
  EXAMPLE_CLICK_TARGET,
  EMAIL_MESSAGE_ID,
  INBOX_MESSAGE_ID,
  INVALID_ORDER_EVENT,
  OPERATION_EXAMPLES,
  PHONE,
  PUSH_ID,
  QUARANTINED_ERRORS,
  QUARANTINED_EVENT_ID,
  RETIRED_API_KEY_ID,
  RETIRED_SEGMENT_ID,
  SEGMENT_ID,
  SHIPPED_EVENT,
  SHIPPED_WITHOUT_ZONE,
  SMS_ID,
  TWILIO_MESSAGE_SID,
} from '../api/examples';
import { errorResponse } from '../api/response-schemas';
import { isRawBody, type Route } from '../api/route';
import { clickUrl, openUrl, parseTrackingKeys } from '../lib/tracking';
import { createSendGridKeys, heraldSignature, sendGridHeaders } from './fakes/email-webhooks';
import { signTwilioRequest } from './fakes/twilio-server';
import { eventually, useHarness } from './support/harness';

const h = useHarness();

type Doc = { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, any> } };
type Operation = { method: string; template: string; op: any; route: Route; label: string };

const ROUTES = new Map(API_ROUTES.map((route) => [route.operationId, route]));

async function served(): Promise<Doc> {
  const res = await fetch(`${h.stack.apiUrl}/openapi.json`);
  expect(res.status).toBe(200);
  return (await res.json()) as Doc;
}

const operationsOf = (doc: Doc): Operation[] =>
  Object.entries(doc.paths).flatMap(([template, item]) =>
    Object.entries(item).map(([method, op]) => ({ method, template, op, route: ROUTES.get(op.operationId)!, label: `${method.toUpperCase()} ${template} (${op.operationId})` })),
  );

/** The schema a documented answer's body must pass: its declared one, or the error shape (the event's own for its 400). */
function answerSchema(route: Route, status: number): z.ZodType | undefined {
  const answer = route.responses[status];
  if (answer) return answer.body;
  return status === 400 && route.invalidBody ? route.invalidBody.body : errorResponse;
}

test('every operation documents an example request and an example of every answer, each accepted by its schemas', async () => {
  const doc = await served();
  const operations = operationsOf(doc);
  expect(operations.length).toBe(API_ROUTES.length);
  // No example of an operation that is gone.
  expect(Object.keys(OPERATION_EXAMPLES).filter((id) => !ROUTES.has(id))).toEqual([]);
  const problems: string[] = [];
  for (const { op, route, label } of operations) {
    const examples = OPERATION_EXAMPLES[op.operationId];
    if (!examples) {
      problems.push(`${label}: no examples in api/examples.ts`);
      continue;
    }
    for (const p of op.parameters ?? []) if (p.in === 'path' && p.example === undefined) problems.push(`${label}: path parameter ${p.name} has no example`);
    for (const [type, media] of Object.entries<any>(op.requestBody?.content ?? {})) if (media.example === undefined) problems.push(`${label}: ${type} body has no example`);
    for (const [status, answer] of Object.entries<any>(op.responses)) {
      for (const [type, media] of Object.entries<any>(answer.content ?? {})) {
        if (!media.examples || !Object.keys(media.examples).length) problems.push(`${label}: answer ${status} (${type}) has no example`);
      }
    }
    // Each example passes the schema the route checks or answers with.
    const check = (what: string, schema: z.ZodType | undefined, value: unknown) => {
      if (!schema) return;
      const result = schema.safeParse(value);
      if (!result.success) problems.push(`${label}: the ${what} example does not pass its schema: ${z.prettifyError(result.error)}`);
    };
    check('path', route.params, examples.params ?? {});
    if (route.query) check('query', route.query, examples.query ?? {});
    check('body', isRawBody(route.body) ? route.body.schema : route.body, examples.body);
    for (const [status, named] of Object.entries(examples.responses)) {
      if (!(status in op.responses)) problems.push(`${label}: an example of answer ${status}, which it does not document`);
      for (const [name, example] of Object.entries(named)) check(`${status} ${name}`, answerSchema(route, Number(status)), example.value);
    }
  }
  expect(problems).toEqual([]);
});

/** The order the examples tell their story in; an operation not listed goes last. */
const STORY = [
  'health', 'readiness', 'metrics', 'openApiDocument', 'docs', 'dashboard',
  'createApiKey', 'listApiKeys',
  'putCustomer', 'createCustomerToken', 'getCustomer', 'putPreferences', 'getPreferences', 'postConsent', 'listConsents',
  'postDevice', 'listDevices',
  'postOrderEvent',
  'listOrderNotifications', 'listCustomerNotifications', 'getOrderState', 'postNotificationEvent', 'getNotification',
  'postEmailWebhook', 'postSendGridWebhook', 'postTwilioStatusCallback', 'trackEmailOpen', 'trackEmailClick',
  'getOrderTimeline', 'lookup', 'getCustomerTimeline', 'listRejectedEvents', 'getRejectedEvent', 'updateRejectedEvent', 'replayRejectedEvent', 'replayRejectedEvents',
  'listInbox', 'readInboxMessage', 'readAllInbox', 'streamInbox',
  'getStats', 'listDeadLetters', 'replayDeadLetter',
  'listTemplates', 'getTemplate', 'createTemplateVersion', 'getTemplateVersion', 'updateTemplateVersion', 'publishTemplateVersion', 'rollbackTemplate', 'previewTemplate',
  'putExperiment', 'getExperiment', 'listExperiments', 'getExperimentResults', 'stopExperiment',
  'revokeApiKey', 'deleteDevice',
];
const rank = (operationId: string) => (STORY.includes(operationId) ? STORY.indexOf(operationId) : STORY.length);

/**
 * What an example refers to and no documented request can make under the example's id, set up before the
 * operation that needs it: the provider message ids of the shipment's email and SMS, an inbox message (the
 * workflow does not write the inbox yet), a dead letter and a retired key. The lookup operations come after
 * the event and its receipts, so the order's timeline has them; the rejected events list the documented
 * invalid event, posted as the 400 example of POST /v1/order-events shows.
 */
const SETUP: Record<string, () => Promise<void>> = {
  // The workflow announces the event: the push the receipts and the history examples name.
  listOrderNotifications: async () => {
    await eventually(async () => expect(await h.db.notification.findUnique({ where: { id: PUSH_ID } })).toMatchObject({ status: expect.stringMatching(/^(sent|delivered)$/) }), 60_000);
  },
  postEmailWebhook: () => sentWith(EMAIL_ID, 'email', 'smtp', EMAIL, EMAIL_MESSAGE_ID),
  postTwilioStatusCallback: () => sentWith(SMS_ID, 'sms', 'twilio', PHONE, TWILIO_MESSAGE_SID),
  // The documented invalid event, as POST answers it, and the shipment's first try under the id the quarantine examples fix and replay.
  listRejectedEvents: async () => {
    expect((await h.api('POST', '/v1/order-events', INVALID_ORDER_EVENT)).status).toBe(400);
    await h.db.rejectedEvent.create({
      data: {
        id: QUARANTINED_EVENT_ID, source: SHIPPED_WITHOUT_ZONE.source, eventId: SHIPPED_WITHOUT_ZONE.eventId, orderId: SHIPPED_WITHOUT_ZONE.orderId, status: 'shipped', critical: true,
        payload: JSON.parse(JSON.stringify(SHIPPED_WITHOUT_ZONE)), errors: QUARANTINED_ERRORS, reason: 'invalid_field',
      },
    });
  },
  listInbox: async () => {
    await h.db.inboxMessage.create({
      data: { id: INBOX_MESSAGE_ID, customerId: SHIPPED_EVENT.customerId, orderId: SHIPPED_EVENT.orderId, category: 'transactional', title: 'Order 1001 has shipped', body: 'Your order 1001 is on its way with UPS.', data: {} },
    });
  },
  listDeadLetters: async () => {
    await h.db.deadLetter.create({
      data: {
        id: DEAD_LETTER_ID, notificationId: PUSH_ID, orderId: SHIPPED_EVENT.orderId, customerId: SHIPPED_EVENT.customerId, channel: 'push', provider: 'apns',
        target: { platform: 'ios', token: (OPERATION_EXAMPLES.postDevice!.body as { token: string }).token, app: 'com.example.shop' },
        message: { orderId: SHIPPED_EVENT.orderId, title: 'Order 1001 has shipped', body: 'Your order 1001 is on its way with UPS.', priority: 'critical', category: 'transactional', data: {} },
        errors: [{ attempt: 1, error: 'apns 500 InternalServerError' }], lastError: 'apns 500 InternalServerError',
      },
    });
  },
  // The example watch under the example's id: POST watches then updates it (its documented 200) and DELETE removes it.
  postWatch: async () => {
    const watch = OPERATION_EXAMPLES.postWatch!.body as { sku: string; kind: 'restock' | 'price_drop' };
    const watchId = OPERATION_EXAMPLES.deleteWatch!.params!.watchId!;
    await h.db.watch.create({ data: { id: watchId, customerId: SHIPPED_EVENT.customerId, sku: watch.sku, kind: watch.kind } });
  },
  // What the example campaign names: its segment (the story's customer) and a draft of its template on each channel.
  putCampaign: async () => {
    await h.db.segment.upsert({ where: { id: CAMPAIGN_SEGMENT_ID }, create: { id: CAMPAIGN_SEGMENT_ID, name: 'EU customers', rule: { customerIds: [SHIPPED_EVENT.customerId] } }, update: {} });
    for (const channel of ['push', 'email']) {
      const created = await h.api('POST', `/v1/templates/${CAMPAIGN_TEMPLATE}/versions`, { channel, locale: 'en', subject: 'Black Friday: 30% off', body: 'Hello {{ customerName }}, everything is 30% off today.' });
      expect({ channel, status: created.status, body: created.status === 201 ? null : created.body }).toEqual({ channel, status: 201, body: null });
    }
  },
  // A segment no campaign targets, for DELETE to remove.
  deleteSegment: async () => {
    await h.db.segment.create({ data: { id: RETIRED_SEGMENT_ID, name: 'Summer sale 2026', rule: { attribute: 'country', in: ['GB'] } } });
  },
  revokeApiKey: async () => {
    await h.db.apiKey.create({ data: { id: RETIRED_API_KEY_ID, name: 'oms-staging', keyHash: `example-${Date.now()}`, prefix: 'hk_7nWq2', scopes: ['ingest'] } });
  },
};

/** The shipment's email or SMS as sent, with the provider's message id a report names. The plan may have made it already. */
async function sentWith(id: string, channel: 'email' | 'sms', provider: string, address: string, providerMessageId: string): Promise<void> {
  const fields = {
    orderId: SHIPPED_EVENT.orderId, customerId: SHIPPED_EVENT.customerId, eventId: SHIPPED_EVENT.eventId, type: 'order.shipped', priority: 'critical', category: 'transactional',
    channel, status: 'sent', sentAt: new Date(), address, title: 'Order 1001 has shipped', body: 'Your order 1001 is on its way with UPS.',
  } as const;
  await h.db.notification.upsert({ where: { id }, create: { id, ...fields }, update: fields });
  await h.db.deliveryAttempt.create({ data: { id: `${id}:example`, notificationId: id, channel, provider, status: 'sent', attemptNumber: 1, providerMessageId, address, finishedAt: new Date() } });
}

test("every operation, sent its own documented example with a key of its scope, answers a documented success its schema accepts", async () => {
  const doc = await served();
  const keys: Record<string, string> = { admin: h.adminKey };
  for (const scope of ['ingest', 'read', 'tokens'] as const) {
    const created = await h.api('POST', '/v1/api-keys', { name: `examples-${scope}`, scopes: [scope] });
    expect(created.status).toBe(201);
    keys[scope] = created.body.key;
  }
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  ajv.addSchema({ $id: 'herald-openapi.json', components: doc.components });

  const operations = operationsOf(doc).sort((a, b) => rank(a.op.operationId) - rank(b.op.operationId));
  const answered: string[] = [];
  for (const { method, template, op, route, label } of operations) {
    await SETUP[op.operationId]?.();
    const parameters: any[] = op.parameters ?? [];
    const urlPath = template.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(parameters.find((p) => p.in === 'path' && p.name === name).example));
    const query = new URLSearchParams(parameters.filter((p) => p.in === 'query' && p.example !== undefined).map((p): [string, string] => [p.name, String(p.example)]));
    let url = `${h.stack.apiUrl}${urlPath}${query.size ? `?${query}` : ''}`;
    // The documented tracking links are signed with an example key: the real ones with the stack's secret.
    const tracking = { keys: parseTrackingKeys(h.stack.env.HERALD_TRACKING_SECRET!), publicUrl: h.stack.apiUrl };
    if (op.operationId === 'trackEmailOpen') url = openUrl(tracking, EMAIL_ID);
    if (op.operationId === 'trackEmailClick') url = clickUrl(tracking, EMAIL_ID, EXAMPLE_CLICK_TARGET);
    const headers: Record<string, string> = {};
    if (op['x-required-scope']) headers.authorization = `Bearer ${keys[op['x-required-scope']]}`;
    const [type, media] = Object.entries<any>(op.requestBody?.content ?? {})[0] ?? [];
    let body: string | undefined;
    if (type) {
      headers['content-type'] = type;
      // The documented receipt token is signed with an example key: the real one is what the delivered push carried.
      const example = op.operationId === 'postNotificationEvent' ? { ...media.example, receiptToken: h.deliveredReceiptToken(PUSH_ID) } : media.example;
      body = type === 'application/json' ? JSON.stringify(example) : new URLSearchParams(example).toString();
    }
    // The documented signatures are placeholders: the real ones are made with the stack's Twilio auth token, SendGrid key and webhook secret.
    if (parameters.some((p) => p.in === 'header' && p.name === 'X-Twilio-Signature')) headers['x-twilio-signature'] = signTwilioRequest(h.twilio.authToken, url, media.example);
    if (op.operationId === 'postSendGridWebhook') Object.assign(headers, sendGridHeaders(h.sendgrid.privateKey, body!));
    if (op.operationId === 'postEmailWebhook') headers['x-herald-signature'] = heraldSignature([h.emailWebhookSecret], body!);

    const abort = new AbortController();
    // A redirect is the answer (the click's), not followed.
    const res = await fetch(url, { method: method.toUpperCase(), headers, body, signal: abort.signal, redirect: 'manual' });
    const answerType = (res.headers.get('content-type') ?? '').split(';')[0]!;
    // An event stream stays open: its status and type are the answer.
    const text = answerType === 'text/event-stream' ? (abort.abort(), '') : await res.text();
    const success = Object.keys(route.responses).filter((s) => /^[23]/.test(s));
    expect({ label, status: res.status, text: success.includes(String(res.status)) ? '' : text }).toEqual({ label, status: expect.any(Number), text: '' });
    const answer = route.responses[res.status]!;
    if (answer.content) expect({ label, type: answerType }).toEqual({ label, type: answer.content.mediaType });
    if (answer.body) {
      expect({ label, type: answerType }).toEqual({ label, type: 'application/json' });
      const json = JSON.parse(text);
      const parsed = answer.body.safeParse(json);
      expect({ label, problems: parsed.success ? null : z.prettifyError(parsed.error) }).toEqual({ label, problems: null });
      const schema = op.responses[String(res.status)].content['application/json'].schema;
      const validate = ajv.compile(schema.$ref ? { $ref: `herald-openapi.json${schema.$ref}` } : schema);
      expect({ label, valid: validate(json), errors: validate.errors ?? null }).toEqual({ label, valid: true, errors: null });
    }
    answered.push(op.operationId);
  }
  expect(answered).toEqual(STORY.filter((id) => ROUTES.has(id)).concat(operations.map((o) => o.op.operationId).filter((id) => !STORY.includes(id))));
}, 240_000);

test('POST /v1/order-events answers the documented 400 to the documented invalid event, and its accepted example to the shipped one', async () => {
  const doc = await served();
  const documented = doc.paths['/v1/order-events']!.post.responses;
  const invalidExample = documented['400'].content['application/json'].examples.invalidEvent;
  expect(invalidExample.description).toContain(JSON.stringify(INVALID_ORDER_EVENT));
  const rejected = await h.api('POST', '/v1/order-events', INVALID_ORDER_EVENT);
  expect(rejected.status).toBe(400);
  expect(rejected.body).toEqual({ ...invalidExample.value, rejectedEventId: expect.any(String) });
  expect(await h.db.rejectedEvent.findUnique({ where: { id: rejected.body.rejectedEventId } })).toMatchObject({ eventId: INVALID_ORDER_EVENT.eventId, status: 'posted' });

  // The shipped event, posted twice: the second time is the documented duplicate answer, word for word.
  const shipped = doc.paths['/v1/order-events']!.post.requestBody.content['application/json'].example;
  expect((await h.api('POST', '/v1/order-events', shipped)).status).toBe(202);
  expect(await h.api('POST', '/v1/order-events', shipped)).toEqual({ status: 202, body: documented['202'].content['application/json'].examples.duplicate.value });
});

/**
 * The error examples are what the API answers, word for word: each request here makes the error one
 * example documents (in the state the story left; the customer, the event and the templates exist).
 */
test('the documented error examples are the answers the API gives', async () => {
  const doc = await served();
  const read = (await h.api('POST', '/v1/api-keys', { name: 'examples-errors-read', scopes: ['read'] })).body.key as string;
  const keysOf = { ingest: (await h.api('POST', '/v1/api-keys', { name: 'examples-errors-ingest', scopes: ['ingest'] })).body.key as string };
  const send = async (method: string, urlPath: string, options: { body?: string; type?: string; key?: string | null; headers?: Record<string, string> } = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.key !== null) headers.authorization = `Bearer ${options.key ?? h.adminKey}`;
    if (options.body !== undefined) headers['content-type'] = options.type ?? 'application/json';
    const res = await fetch(`${h.stack.apiUrl}${urlPath}`, { method, headers, body: options.body });
    return { status: res.status, body: await res.json() };
  };
  const json = (value: unknown) => ({ body: JSON.stringify(value) });
  /** A body the stack's generic webhook secret signs (or, with `signed`, another body's signature). */
  const heraldSigned = (value: unknown, signed?: unknown) => ({ ...json(value), key: null, headers: { 'x-herald-signature': heraldSignature([h.emailWebhookSecret], JSON.stringify(signed ?? value)) } });
  const sendGridSigned = (value: unknown, privateKey = h.sendgrid.privateKey) => ({ ...json(value), key: null, headers: sendGridHeaders(privateKey, JSON.stringify(value)) });
  const pushToken = h.deliveredReceiptToken(PUSH_ID)!;
  const pushEvents = `/v1/notifications/${encodeURIComponent(PUSH_ID)}/events`;
  const tracking = { keys: parseTrackingKeys(h.stack.env.HERALD_TRACKING_SECRET!), publicUrl: h.stack.apiUrl };
  const shipped = OPERATION_EXAMPLES.postOrderEvent!.body as Record<string, unknown>;
  const cartEvent = OPERATION_EXAMPLES.postCartEvent!.body as Record<string, unknown>;
  const experimentInput = OPERATION_EXAMPLES.putExperiment!.body as Record<string, unknown>;
  // Customer tokens: Ada's, and another customer's app's.
  const tokenOf = async (customerId: string) => (await h.api('POST', `/v1/customers/${customerId}/tokens`, {})).body.token as string;
  const ada = await tokenOf('c-42');
  const other = await tokenOf('c-43');
  const cases: Array<[operationId: string, status: number, example: string, request: () => ReturnType<typeof send>]> = [
    ['createCustomerToken', 400, 'tooLong', () => send('POST', '/v1/customers/c-42/tokens', json({ ttlSeconds: 86_401 }))],
    ['getCustomer', 403, 'customerToken', () => send('GET', '/v1/customers/c-42', { key: ada })],
    ['listInbox', 403, 'otherCustomer', () => send('GET', '/v1/customers/c-42/inbox', { key: other })],
    // Ada's iPhone, registered again (the story removed it last), then claimed by another customer's app.
    ['postDevice', 409, 'ownedByOther', async () => {
      expect((await send('POST', '/v1/customers/c-42/devices', json(OPERATION_EXAMPLES.postDevice!.body))).status).toBe(200);
      return send('POST', '/v1/customers/c-43/devices', { ...json(OPERATION_EXAMPLES.postDevice!.body), key: other });
    }],
    ['postOrderEvent', 401, 'missingKey', () => send('POST', '/v1/order-events', { ...json(shipped), key: null })],
    ['postOrderEvent', 403, 'missingScope', () => send('POST', '/v1/order-events', { ...json(shipped), key: read })],
    ['postOrderEvent', 409, 'conflict', () => send('POST', '/v1/order-events', json({ ...shipped, status: 'delivered' }))],
    ['putCustomer', 400, 'invalidPhone', () => send('PUT', '/v1/customers/c-42', json({ phone: '07700 900123' }))],
    ['putCustomer', 413, 'tooLarge', () => send('PUT', '/v1/customers/c-42', json({ name: 'x'.repeat(300_000) }))],
    ['putCustomer', 415, 'unsupported', () => send('PUT', '/v1/customers/c-42', { body: '{}', type: 'application/json; charset=iso-8859-1' })],
    ['getCustomer', 400, 'invalidPath', () => send('GET', '/v1/customers/c%2042')],
    ['postDevice', 400, 'invalidToken', () => send('POST', '/v1/customers/c-42/devices', json({ deviceId: 'iphone-ada', platform: 'ios', token: 'abc' }))],
    ['putPreferences', 409, 'consentRequired', () => send('PUT', '/v1/customers/c-42/preferences', json({ preferences: [{ channel: 'sms', category: 'marketing', optedIn: true }] }))],
    ['listOrderNotifications', 400, 'invalidStatus', () => send('GET', '/v1/orders/1001/notifications?status=posted')],
    ['listInbox', 400, 'invalidUnread', () => send('GET', '/v1/customers/c-42/inbox?unread=yes')],
    ['listDeadLetters', 400, 'invalidLimit', () => send('GET', '/v1/dead-letters?limit=101')],
    ['getOrderTimeline', 404, 'noOrder', () => send('GET', '/v1/orders/10001/timeline', { key: read })],
    ['getOrderTimeline', 400, 'invalidPath', () => send('GET', '/v1/orders/1001%20/timeline', { key: read })],
    ['lookup', 400, 'invalidQuery', () => send('GET', '/v1/lookup?q=order%201001', { key: read })],
    ['getCustomerTimeline', 400, 'invalidLimit', () => send('GET', '/v1/customers/c-42/timeline?limit=51', { key: read })],
    ['getCustomerTimeline', 404, 'noCustomer', () => send('GET', '/v1/customers/c-24/timeline', { key: read })],
    ['listRejectedEvents', 400, 'invalidLimit', () => send('GET', '/v1/rejected-events?limit=101', { key: read })],
    ['listRejectedEvents', 400, 'invalidReason', () => send('GET', '/v1/rejected-events?reason=typo', { key: read })],
    ['getRejectedEvent', 404, 'unknown', () => send('GET', '/v1/rejected-events/7a1c3e5f-2b4d-4f6a-8c0e-9d1b3f5a7c92', { key: read })],
    // The story replayed the fixed shipment: it cannot change or go again.
    ['updateRejectedEvent', 409, 'replayed', () => send('PATCH', `/v1/rejected-events/${QUARANTINED_EVENT_ID}`, json({ state: 'discarded' }))],
    ['updateRejectedEvent', 400, 'nothing', () => send('PATCH', `/v1/rejected-events/${QUARANTINED_EVENT_ID}`, json({}))],
    ['updateRejectedEvent', 404, 'unknown', () => send('PATCH', '/v1/rejected-events/7a1c3e5f-2b4d-4f6a-8c0e-9d1b3f5a7c92', json({ state: 'discarded' }))],
    ['getRejectedEvent', 400, 'invalidPath', () => send('GET', '/v1/rejected-events/d2f4a6c8%200e2a', { key: read })],
    ['replayRejectedEvent', 409, 'replayed', () => send('POST', `/v1/rejected-events/${QUARANTINED_EVENT_ID}/replay`)],
    ['replayRejectedEvent', 404, 'unknown', () => send('POST', '/v1/rejected-events/7a1c3e5f-2b4d-4f6a-8c0e-9d1b3f5a7c92/replay')],
    ['replayRejectedEvents', 400, 'tooMany', () => send('POST', '/v1/rejected-event-replays', json({ limit: 1001 }))],
    ['getStats', 400, 'invalidRange', () => send('GET', '/v1/stats?from=2026-12-01T00:00:00Z&to=2026-11-30T00:00:00Z')],
    ['createApiKey', 400, 'noScopes', () => send('POST', '/v1/api-keys', json({ name: 'oms-production', scopes: [] }))],
    ['postNotificationEvent', 400, 'invalidType', () => send('POST', pushEvents, json({ type: 'read' }))],
    ['postNotificationEvent', 403, 'noToken', () => send('POST', pushEvents, json({ type: 'opened' }))],
    ['postNotificationEvent', 403, 'wrongToken', () => send('POST', pushEvents, json({ type: 'opened', receiptToken: `${pushToken.split('.')[0]}.${'A'.repeat(43)}` }))],
    ['postEmailWebhook', 400, 'noBounceType', () => send('POST', '/v1/webhooks/email', heraldSigned({ type: 'bounced', messageId: EMAIL_MESSAGE_ID }))],
    // An ingest key is no signature.
    ['postEmailWebhook', 401, 'unsigned', () => send('POST', '/v1/webhooks/email', { ...json({ type: 'delivered', messageId: EMAIL_MESSAGE_ID }), key: keysOf.ingest })],
    ['postEmailWebhook', 401, 'badSignature', () => send('POST', '/v1/webhooks/email', heraldSigned({ type: 'complained', messageId: EMAIL_MESSAGE_ID }, { type: 'delivered', messageId: EMAIL_MESSAGE_ID }))],
    ['postSendGridWebhook', 400, 'notAnArray', () => send('POST', '/v1/webhooks/sendgrid', sendGridSigned({ event: 'delivered', 'smtp-id': EMAIL_MESSAGE_ID }))],
    ['postSendGridWebhook', 401, 'badSignature', () => send('POST', '/v1/webhooks/sendgrid', sendGridSigned([{ event: 'delivered', 'smtp-id': EMAIL_MESSAGE_ID }], createSendGridKeys().privateKey))],
    ['getTemplate', 400, 'invalidKey', () => send('GET', '/v1/templates/order.posted')],
    ['createTemplateVersion', 400, 'unknownVariable', () => send('POST', '/v1/templates/order.shipped/versions', json({ channel: 'push', locale: 'en', subject: 'Order {{ orderId }}', body: 'Parcel {{ parcelId }} is on its way' }))],
    ['updateTemplateVersion', 409, 'notDraft', () => send('PUT', '/v1/templates/order.shipped/push/en/versions/1', json({ subject: 'Shipped', body: 'On its way' }))],
    ['rollbackTemplate', 400, 'invalidChannel', () => send('POST', '/v1/templates/order.shipped/fax/en/rollback')],
    ['rollbackTemplate', 409, 'nothingOlder', () => send('POST', '/v1/templates/order.shipped/push/en/rollback')],
    ['trackEmailOpen', 404, 'altered', () => send('GET', new URL(openUrl(tracking, EMAIL_ID)).pathname.replace(/(.)\.gif$/, (_m, last: string) => `${last === 'A' ? 'B' : 'A'}.gif`), { key: null })],
    ['trackEmailClick', 404, 'altered', () => send('GET', `${new URL(clickUrl(tracking, EMAIL_ID, EXAMPLE_CLICK_TARGET)).pathname}?url=${encodeURIComponent('https://evil.example/')}`, { key: null })],
    ['trackEmailOpen', 400, 'notAToken', () => send('GET', '/t/o/not-a-token', { key: null })],
    ['trackEmailClick', 400, 'noUrl', () => send('GET', new URL(clickUrl(tracking, EMAIL_ID, EXAMPLE_CLICK_TARGET)).pathname, { key: null })],
    ['previewTemplate', 400, 'invalidChannel', () => send('POST', '/v1/templates/order.shipped/preview', json({ channel: 'fax' }))],
    ['postCartEvent', 400, 'invalidType', () => send('POST', '/v1/cart-events', json({ ...cartEvent, type: 'abandoned' }))],
    ['postCartEvent', 409, 'conflict', () => send('POST', '/v1/cart-events', json({ ...cartEvent, type: 'checked_out' }))],
    ['getCart', 400, 'invalidCartId', () => send('GET', '/v1/carts/cart%208841', { key: read })],
    ['getCart', 404, 'unknown', () => send('GET', '/v1/carts/cart-0000', { key: read })],
    ['putCampaign', 400, 'transactional', () => send('PUT', '/v1/campaigns/spring-sale', json({ ...(OPERATION_EXAMPLES.putCampaign!.body as object), category: 'transactional' }))],
    ['putCampaign', 400, 'noSegment', () => send('PUT', '/v1/campaigns/spring-sale', json({ ...(OPERATION_EXAMPLES.putCampaign!.body as object), segmentId: 'lapsed-buyers' }))],
    ['getCampaign', 400, 'invalidPath', () => send('GET', '/v1/campaigns/black%20friday', { key: read })],
    ['getCampaign', 404, 'unknown', () => send('GET', '/v1/campaigns/spring-sale', { key: read })],
    ['startCampaign', 404, 'unknown', () => send('POST', '/v1/campaigns/spring-sale/start')],
    ['putSegment', 400, 'invalidStatus', () => send('PUT', `/v1/segments/${SEGMENT_ID}`, json({ name: 'x', rule: { all: [{ attribute: 'country', in: ['GB'] }, { orders: { status: ['posted'] } }] } }))],
    ['putSegment', 400, 'minAboveMax', () => send('PUT', `/v1/segments/${SEGMENT_ID}`, json({ name: 'x', rule: { orders: { count: { min: 3, max: 1 } } } }))],
    ['getSegment', 404, 'noSegment', () => send('GET', '/v1/segments/lapsed-fr', { key: read })],
    ['previewSegment', 400, 'invalidSample', () => send('GET', `/v1/segments/${SEGMENT_ID}/preview?sample=101`, { key: read })],
    ['deleteSegment', 404, 'noSegment', () => send('DELETE', '/v1/segments/lapsed-fr')],
    ['putExperiment', 400, 'holdout', () => send('PUT', '/v1/experiments/exp-shipped-copy', json({ ...experimentInput, holdout: 0.1 }))],
    ['getExperiment', 404, 'unknown', () => send('GET', '/v1/experiments/exp-unknown', { key: read })],
    ['getExperiment', 400, 'invalidPath', () => send('GET', '/v1/experiments/exp%20shipped', { key: read })],
    ['listExperiments', 400, 'invalidStatus', () => send('GET', '/v1/experiments?status=paused', { key: read })],
    ['getSource', 404, 'unknown', () => send('GET', '/v1/sources/shopify-eu', { key: read })],
    ['getSource', 400, 'invalidPath', () => send('GET', '/v1/sources/acme%20oms', { key: read })],
    ['postSourceEvent', 404, 'unknown', () => send('POST', '/v1/sources/shopify-eu/events', json(OPERATION_EXAMPLES.postSourceEvent!.body))],
    ['getExperimentResults', 404, 'unknown', () => send('GET', '/v1/experiments/exp-unknown/results', { key: read })],
  ];
  const byId = new Map(operationsOf(doc).map((o) => [o.op.operationId, o.op]));
  for (const [operationId, status, name, request] of cases) {
    const documented = byId.get(operationId)!.responses[String(status)].content['application/json'].examples[name].value;
    const answer = await request();
    expect({ operationId, name, ...answer }).toEqual({ operationId, name, status, body: documented });
  }
});
