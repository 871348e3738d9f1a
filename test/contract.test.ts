// The API's contract. Every route is declared once (api/route.ts), and both the router and the OpenAPI
// document (GET /openapi.json) are built from the declarations; these tests check the result from outside:
// - the document is valid OpenAPI 3.1 (the specification's own schema) and each schema in it valid JSON Schema;
// - every documented operation, called with the document's own examples, answers one of its documented 2xx
//   statuses with a body its schema accepts, and an undocumented method on a documented path is a 405;
// - Swagger UI renders it offline (GET /docs), showing the examples;
// - a property-based fuzz run (schemathesis, installed by `npm run tools`) against the real stack finds no 5xx
//   and no answer outside the document.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { chromium } from 'playwright-core';
import { SHIPPED_EVENT } from '../api/examples';
import { PROJECT_ROOT, schemathesisCommand } from '../dev/tools';
import { clickUrl, openUrl, parseTrackingKeys } from '../lib/tracking';
import { heraldSignature, sendGridHeaders } from './fakes/email-webhooks';
import { signTwilioRequest } from './fakes/twilio-server';
import { eventually, useHarness } from './support/harness';
import { CUSTOMER_TOKEN_OPERATIONS, schemathesis, summaryOf } from './support/schemathesis';

const h = useHarness();

type Doc = { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, any>; securitySchemes?: Record<string, any> }; [key: string]: any };

async function served(): Promise<Doc> {
  const res = await fetch(`${h.stack.apiUrl}/openapi.json`); // no key needed
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as Doc;
}

/** Every operation of the document, in its order. */
const operationsOf = (doc: Doc) =>
  Object.entries(doc.paths).flatMap(([template, item]) => Object.entries(item).map(([method, op]) => ({ method, template, op, label: `${method.toUpperCase()} ${template}` })));

function run(command: string, args: string[], env: NodeJS.ProcessEnv, input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

// The OpenAPI 3.1 schema as the specification publishes it (https://spec.openapis.org/oas/3.1/schema/2022-10-07),
// as schemathesis ships it, checked with the JSON Schema validator schemathesis uses.
const OAS_31_CHECK = `
import json, sys
import jsonschema_rs
from schemathesis.specs.openapi.definitions import OPENAPI_31
validator = jsonschema_rs.Draft202012Validator(OPENAPI_31)
errors = ['/' + '/'.join(map(str, e.instance_path)) + ': ' + e.message for e in validator.iter_errors(json.load(sys.stdin))]
print(json.dumps({'schema': OPENAPI_31['$id'], 'errors': errors}))
`;

async function openApi31Errors(doc: unknown): Promise<{ schema: string; errors: string[] }> {
  const { command, env } = schemathesisCommand();
  const result = await run(command, ['-c', OAS_31_CHECK], env, JSON.stringify(doc));
  if (result.code !== 0) throw new Error(`the OpenAPI 3.1 check failed to run: ${result.stderr}`);
  return JSON.parse(result.stdout) as { schema: string; errors: string[] };
}

/** Every Schema Object of the document, with where it is. */
function schemaObjects(doc: Doc): Array<{ at: string; schema: unknown }> {
  const found: Array<{ at: string; schema: unknown }> = Object.entries(doc.components.schemas).map(([name, schema]) => ({ at: `components/${name}`, schema }));
  for (const { label, op } of operationsOf(doc)) {
    for (const p of op.parameters ?? []) found.push({ at: `${label} ${p.in}:${p.name}`, schema: p.schema });
    for (const [type, media] of Object.entries<any>(op.requestBody?.content ?? {})) found.push({ at: `${label} body ${type}`, schema: media.schema });
    for (const [status, answer] of Object.entries<any>(op.responses)) {
      for (const [type, media] of Object.entries<any>(answer.content ?? {})) found.push({ at: `${label} ${status} ${type}`, schema: media.schema });
    }
  }
  return found;
}

test('GET /openapi.json is valid OpenAPI 3.1, and every schema in it valid JSON Schema 2020-12', async () => {
  const doc = await served();
  expect(doc).toMatchObject({ openapi: '3.1.0', info: { title: 'Herald' }, components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } });

  const verdict = await openApi31Errors(doc);
  expect(verdict).toEqual({ schema: expect.stringContaining('oas/3.1/schema'), errors: [] });
  // The check does find what is wrong: a document without info, an answer without its description, a parameter in no place.
  const broken = structuredClone(doc);
  delete broken.info;
  delete broken.paths['/healthz']!.get.responses['200'].description;
  broken.paths['/v1/api-keys/{id}']!.delete.parameters[0].in = 'body';
  expect((await openApi31Errors(broken)).errors).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^\/: "info" is a required property/),
      expect.stringMatching(/^\/paths\/\/healthz\/get\/responses\/200: "description" is a required property/),
      expect.stringMatching(/^\/paths\/\/v1\/api-keys\/\{id\}\/delete\/parameters\/0/),
    ]),
  );

  // The OpenAPI schema leaves Schema Objects to JSON Schema: each must be a valid 2020-12 schema.
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  const schemas = schemaObjects(doc);
  expect(schemas.length).toBeGreaterThan(150);
  const invalid = schemas.filter(({ schema }) => !ajv.validateSchema(schema as object)).map(({ at }) => `${at}: ${ajv.errorsText()}`);
  expect(invalid).toEqual([]);
  expect(ajv.validateSchema({ type: 'strnig', minLength: -1 })).toBe(false);

  const operations = operationsOf(doc);
  expect(operations.length).toBeGreaterThan(40);
  expect(new Set(operations.map(({ op }) => op.operationId)).size).toBe(operations.length);
  for (const { template, op, label } of operations) {
    // A success, or a redirect that is the operation's answer (a tracked email link's 302).
    expect({ label, hasSuccess: Object.keys(op.responses).some((s) => /^[23]/.test(s)) }).toEqual({ label, hasSuccess: true });
    // Providers cannot send a key: their webhooks are authenticated by a signature header instead (Twilio, SendGrid, the generic one).
    const signed = op.parameters?.some((p: any) => p.in === 'header' && p.required && /Signature$/.test(p.name)) ?? false;
    if (template.startsWith('/v1/') && !signed) {
      // Key and scope: documented per operation, and the errors they cause; a customer token where the operation takes one.
      const security = op['x-customer-token']
        ? [{ bearer: [] }, { customerToken: [] }, ...(template.endsWith('/inbox/stream') ? [{ customerTokenQuery: [] }] : [])]
        : [{ bearer: [] }, ...(op['x-keyless'] ? [{}] : [])];
      expect({ label, security: op.security, scope: op['x-required-scope'] }).toEqual({ label, security, scope: expect.stringMatching(/^(ingest|read|tokens|admin)$/) });
      expect(op.description).toContain(`\`${op['x-required-scope']}\` scope`);
      expect(op.responses['401'].content['application/json'].schema.$ref).toBe('#/components/schemas/Error');
      expect(op.responses['403']).toBeDefined();
    } else {
      expect({ label, security: op.security }).toEqual({ label, security: [] });
    }
    // Every path parameter has its pattern and an example; every request body an example the docs page offers.
    for (const name of template.match(/\{\w+\}/g) ?? []) {
      const parameter = op.parameters.find((p: any) => p.in === 'path' && `{${p.name}}` === name);
      expect({ label, name, pattern: parameter?.schema?.pattern, example: parameter?.example }).toEqual({ label, name, pattern: expect.any(String), example: expect.any(String) });
    }
    for (const [type, media] of Object.entries<any>(op.requestBody?.content ?? {})) expect({ label, type, example: media.example }).toEqual({ label, type, example: expect.any(Object) });
  }
  const list = doc.paths['/v1/customers/{customerId}/inbox']!.get.parameters.map((p: any) => `${p.in}:${p.name}`);
  expect(list).toEqual(['path:customerId', 'query:limit', 'query:cursor', 'query:unread']);
  expect(doc.paths['/metrics']!.get.responses['200'].content['text/plain']).toBeDefined();
  expect(doc.paths['/readyz']!.get.responses['503']).toBeDefined();
  expect(doc.paths['/v1/webhooks/twilio/status']!.post).toMatchObject({ security: [], responses: { 204: expect.anything(), 403: expect.anything() } });
  for (const webhook of ['/v1/webhooks/email', '/v1/webhooks/sendgrid']) {
    expect(doc.paths[webhook]!.post).toMatchObject({ security: [], responses: { 401: expect.anything(), 404: expect.anything() } });
  }
  expect(doc.components.schemas.Error).toMatchObject({ type: 'object', required: ['error'], additionalProperties: false });
  // The operations a customer's app may call with its customer token, and the two ways it sends one.
  expect(operationsOf(doc).filter(({ op }) => op['x-customer-token']).map(({ op }) => op.operationId).sort()).toEqual(CUSTOMER_TOKEN_OPERATIONS);
  expect(doc.components.securitySchemes).toMatchObject({
    customerToken: { type: 'http', scheme: 'bearer' },
    customerTokenQuery: { type: 'apiKey', in: 'query', name: 'access_token' },
  });
  // The example of POST /v1/order-events is the story's shipped event (api/examples.ts), and reads like a real one.
  expect(doc.paths['/v1/order-events']!.post.requestBody.content['application/json'].example).toEqual(SHIPPED_EVENT);
  expect(SHIPPED_EVENT).toMatchObject({
    status: 'shipped',
    occurredAt: expect.stringMatching(/^2026-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    data: expect.objectContaining({ carrier: 'UPS', trackingNumber: expect.stringMatching(/^1Z/) }),
  });
  expect(doc.components.schemas.OrderEvent.properties.eventId.description).toEqual(expect.any(String));
});

/** The request an operation's documented examples make: path parameters, query parameters and body. */
function exampleRequest(template: string, op: any): { path: string; query: URLSearchParams; body?: { type: string; text: string } } {
  const parameters: any[] = op.parameters ?? [];
  const path = template.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(parameters.find((p) => p.in === 'path' && p.name === name).example));
  const query = new URLSearchParams(parameters.filter((p) => p.in === 'query' && p.example !== undefined).map((p): [string, string] => [p.name, String(p.example)]));
  const [type, media] = Object.entries<any>(op.requestBody?.content ?? {})[0] ?? [];
  if (!type) return { path, query };
  const text = type === 'application/json' ? JSON.stringify(media.example) : new URLSearchParams(media.example).toString();
  return { path, query, body: { type, text } };
}

/**
 * What the examples refer to and no request makes with a fixed id: a notification of the example event on each
 * channel with its provider message ids, an inbox message, another API key and a dead letter, under the ids
 * the document's examples use.
 */
async function seedExampleResources(doc: Doc): Promise<void> {
  const pathExample = (template: string, method: string, name: string): string => doc.paths[template]![method].parameters.find((p: any) => p.name === name).example;
  const bodyExample = (template: string, method: string): any => Object.values<any>(doc.paths[template]![method].requestBody.content)[0].example;
  const event = bodyExample('/v1/order-events', 'post');
  const customerId = pathExample('/v1/customers/{customerId}', 'put', 'customerId');
  expect(event.customerId).toBe(customerId);
  expect((await h.api('PUT', `/v1/customers/${customerId}`, bodyExample('/v1/customers/{customerId}', 'put'))).status).toBe(201);
  expect((await h.api('POST', `/v1/customers/${customerId}/devices`, bodyExample('/v1/customers/{customerId}/devices', 'post'))).status).toBe(201);
  expect((await h.api('POST', '/v1/order-events', event)).status).toBe(202);
  // The real workflow announces the event: the push notification the receipt examples name.
  const pushId = pathExample('/v1/notifications/{notificationId}', 'get', 'notificationId');
  expect(pushId).toBe(`${event.eventId}/push`);
  await eventually(async () => expect(await h.db.notification.findUnique({ where: { id: pushId } })).not.toBeNull(), 60_000);
  // Its push reached the APNs fake with the receipt token the receipt example must echo.
  await eventually(() => expect(h.deliveredReceiptToken(pushId)).toEqual(expect.any(String)), 60_000);

  const email = bodyExample('/v1/webhooks/email', 'post');
  const sms = bodyExample('/v1/webhooks/twilio/status', 'post');
  for (const [channel, providerMessageId, address] of [['email', email.messageId, 'ada@example.com'], ['sms', sms.MessageSid, '+447700900123']] as const) {
    const notificationId = `${event.eventId}/${channel}`;
    // A shipment's plan emails too, so the workflow may have made the email already: this one is the example's.
    const fields = {
      orderId: event.orderId, customerId, eventId: event.eventId, type: 'order.shipped', priority: 'critical', category: 'transactional',
      channel, status: 'sent', sentAt: new Date(), address, title: 'Shipped', body: 'Your order is on its way',
    } as const;
    await h.db.notification.upsert({ where: { id: notificationId }, create: { id: notificationId, ...fields }, update: fields });
    await h.db.deliveryAttempt.create({
      data: { id: `${notificationId}:example`, notificationId, channel, provider: channel === 'email' ? 'smtp' : 'twilio', status: 'sent', attemptNumber: 1, providerMessageId, address, finishedAt: new Date() },
    });
  }
  await h.db.inboxMessage.create({
    data: {
      id: pathExample('/v1/customers/{customerId}/inbox/{messageId}/read', 'post', 'messageId'),
      customerId, orderId: event.orderId, category: 'transactional', title: 'Your order has shipped', body: 'With UPS, arriving Monday.', data: {},
    },
  });
  // The example watch, under the example's id: POST watches then updates it (200) and DELETE removes it.
  const watch = bodyExample('/v1/customers/{customerId}/watches', 'post');
  await h.db.watch.create({ data: { id: pathExample('/v1/customers/{customerId}/watches/{watchId}', 'delete', 'watchId'), customerId, sku: watch.sku, kind: watch.kind } });
  // The example campaign's segment and a draft of its template per channel: PUT campaigns then makes the draft.
  const campaign = bodyExample('/v1/campaigns/{campaignId}', 'put');
  await h.db.segment.upsert({ where: { id: campaign.segmentId }, create: { id: campaign.segmentId, name: 'EU customers', rule: { customerIds: [customerId] } }, update: {} });
  for (const [channel, key] of Object.entries<string>(campaign.templates)) {
    expect((await h.api('POST', `/v1/templates/${key}/versions`, { channel, locale: 'en', subject: 'Black Friday', body: 'Everything is 30% off today.' })).status).toBe(201);
  }
  // A segment no campaign targets, for the DELETE example to remove.
  await h.db.segment.create({ data: { id: pathExample('/v1/segments/{segmentId}', 'delete', 'segmentId'), name: 'Summer sale 2026', rule: { attribute: 'country', in: ['GB'] } } });
  await h.db.apiKey.create({ data: { id: pathExample('/v1/api-keys/{id}', 'delete', 'id'), name: 'retired OMS key', keyHash: `example-${Date.now()}`, prefix: 'hk_examp', scopes: ['ingest'] } });
  // The shipment's first try, refused for its time: the PATCH example fixes it and the replay example sends it again.
  const quarantined = doc.paths['/v1/rejected-events/{id}']!.get.responses['200'].content['application/json'].examples.quarantined.value;
  await h.db.rejectedEvent.create({
    data: {
      id: pathExample('/v1/rejected-events/{id}', 'get', 'id'), source: quarantined.source, eventId: quarantined.eventId, orderId: quarantined.orderId,
      status: quarantined.status, critical: quarantined.critical, payload: quarantined.payload, errors: quarantined.errors, reason: quarantined.reason,
    },
  });
  await h.db.deadLetter.create({
    data: {
      id: pathExample('/v1/dead-letters/{id}/replay', 'post', 'id'),
      notificationId: pushId, orderId: event.orderId, customerId, channel: 'push', provider: 'apns',
      target: { platform: 'ios', token: bodyExample('/v1/customers/{customerId}/devices', 'post').token, app: null },
      message: { orderId: event.orderId, title: 'Your order has shipped', body: 'With UPS.', priority: 'critical', category: 'transactional', data: {} },
      errors: [{ attempt: 1, error: 'apns 500 InternalServerError' }], lastError: 'apns 500 InternalServerError',
    },
  });
}

test('every documented operation, called with the examples of the document, answers one of its documented 2xx (or 3xx) statuses', async () => {
  const doc = await served();
  await seedExampleResources(doc);
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  ajv.addSchema({ $id: 'herald-openapi.json', components: doc.components });
  const answered: string[] = [];
  for (const { method, template, op, label } of operationsOf(doc)) {
    const { path: urlPath, query, body } = exampleRequest(template, op);
    const headers: Record<string, string> = {};
    if (op.security.length) headers.authorization = `Bearer ${h.adminKey}`;
    if (body) headers['content-type'] = body.type;
    let url = `${h.stack.apiUrl}${urlPath}${query.size ? `?${query}` : ''}`;
    // The documented tracking links are signed with an example key: the real ones with the stack's secret.
    const tracking = { keys: parseTrackingKeys(h.stack.env.HERALD_TRACKING_SECRET!), publicUrl: h.stack.apiUrl };
    const emailId = `${Object.values<any>(doc.paths['/v1/order-events']!.post.requestBody.content)[0].example.eventId}/email`;
    if (op.operationId === 'trackEmailOpen') url = openUrl(tracking, emailId);
    if (op.operationId === 'trackEmailClick') url = clickUrl(tracking, emailId, query.get('url')!);
    if (op.parameters?.some((p: any) => p.name === 'X-Twilio-Signature')) {
      headers['x-twilio-signature'] = signTwilioRequest(h.twilio.authToken, url, Object.fromEntries(new URLSearchParams(body!.text)));
    }
    // The email webhooks' documented signatures are placeholders; the app's receipt takes the token its push carried.
    if (op.operationId === 'postSendGridWebhook') Object.assign(headers, sendGridHeaders(h.sendgrid.privateKey, body!.text));
    if (op.operationId === 'postEmailWebhook') headers['x-herald-signature'] = heraldSignature([h.emailWebhookSecret], body!.text);
    if (op.operationId === 'postNotificationEvent') {
      body!.text = JSON.stringify({ ...JSON.parse(body!.text), receiptToken: h.deliveredReceiptToken(decodeURIComponent(urlPath.split('/')[3]!)) });
    }
    const abort = new AbortController();
    // A redirect is the answer (a tracked click's), not followed.
    const res = await fetch(url, { method: method.toUpperCase(), headers, body: body?.text, signal: abort.signal, redirect: 'manual' });
    const type = (res.headers.get('content-type') ?? '').split(';')[0]!;
    // An event stream stays open: its status and type are the answer.
    const text = type === 'text/event-stream' ? (abort.abort(), '') : await res.text();
    const success = Object.keys(op.responses).filter((s) => /^[23]/.test(s));
    // The answer's text is shown when it is not a documented success.
    expect({ label, status: res.status, documented: success.includes(String(res.status)) ? true : text }).toEqual({ label, status: res.status, documented: true });
    const answer = op.responses[String(res.status)];
    if (answer.content) expect({ label, type, documented: type in answer.content }).toEqual({ label, type, documented: true });
    const schema = answer.content?.['application/json']?.schema;
    if (schema && type === 'application/json') {
      const validate = ajv.compile(schema.$ref ? { $ref: `herald-openapi.json${schema.$ref}` } : schema);
      expect({ label, valid: validate(JSON.parse(text)), errors: validate.errors ?? null }).toEqual({ label, valid: true, errors: null });
    }
    answered.push(label);
  }
  expect(answered).toHaveLength(operationsOf(doc).length);

  // The same paths, with a method they do not have: 405, and Allow names the documented ones.
  for (const [template, item] of Object.entries(doc.paths)) {
    const anyOp = Object.values<any>(item)[0];
    const { path: urlPath } = exampleRequest(template, anyOp);
    const method = ['PATCH', 'PUT', 'DELETE'].find((m) => !(m.toLowerCase() in item))!;
    const res = await fetch(`${h.stack.apiUrl}${urlPath}`, { method, headers: { authorization: `Bearer ${h.adminKey}` } });
    const methods = Object.keys(item).map((m) => m.toUpperCase());
    if (methods.includes('GET')) methods.push('HEAD');
    expect({ template, status: res.status, allow: res.headers.get('allow')?.split(', ').sort() }).toEqual({ template, status: 405, allow: methods.sort() });
  }
}, 120_000);

test('what the fuzzer found stays fixed: 400 or 405 with the error shape, never a 500', async () => {
  const event = { eventId: 'contract-1', orderId: 'contract-o', customerId: 'contract-c', status: 'shipped', occurredAt: '2026-11-21T10:00:00Z', source: 'oms' };
  // PostgreSQL refuses offsets past ±15:59 and the year 0; the API now refuses them itself.
  for (const occurredAt of ['2026-01-09T20:11:22-16:16', '0000-01-01T00:00:00Z']) {
    const res = await h.api('POST', '/v1/order-events', { ...event, occurredAt });
    expect(res.status).toBe(400);
    expect(res.body.error.fields).toEqual([{ field: 'occurredAt', reason: expect.stringContaining('ISO-8601') }]);
  }
  // U+0000 cannot be stored in text or jsonb: refused, and the rejected payload is still kept.
  const nul = await h.api('POST', '/v1/order-events', { ...event, source: 'o\u0000ms', data: { note: 'a\u0000b' } });
  expect(nul.status).toBe(400);
  expect(nul.body.error.fields.map((f: any) => f.field).sort()).toEqual(['data.note', 'source']);
  expect(await h.db.rejectedEvent.findUniqueOrThrow({ where: { id: nul.body.rejectedEventId } })).toMatchObject({ source: 'o\uFFFDms' });
  const named = await h.api('PUT', '/v1/customers/contract-c', { name: 'A\u0000da' });
  expect(named.body.error.fields).toEqual([{ field: 'name', reason: expect.stringContaining('U+0000') }]);
  // A body that is not JSON at all is a rejected event too (its payload kept as JSON null).
  const form = await fetch(`${h.stack.apiUrl}/v1/order-events`, { method: 'POST', headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': 'text/plain' }, body: 'hello' });
  expect(form.status).toBe(400);
  expect(((await form.json()) as any).rejectedEventId).toEqual(expect.any(String));
  // Path parameters with characters no id has.
  expect((await h.api('DELETE', '/v1/api-keys/%00')).status).toBe(400);
  expect((await h.api('DELETE', '/v1/customers/contract-c/devices/a%20b')).status).toBe(400);
  // A cursor is checked before it reaches SQL.
  const cursor = Buffer.from(JSON.stringify(['2026-01-01T00:00:00.000Z', 'a\u0000'])).toString('base64url');
  expect((await h.api('GET', `/v1/orders/contract-o/notifications?cursor=${cursor}`)).status).toBe(400);
  // A known path with a method it lacks: 405 with Allow, in the error shape.
  const patch = await fetch(`${h.stack.apiUrl}/v1/customers/contract-c`, { method: 'PATCH', headers: { authorization: `Bearer ${h.adminKey}` } });
  expect(patch.status).toBe(405);
  expect(patch.headers.get('allow')).toBe('PUT, GET, HEAD');
  expect(((await patch.json()) as any).error.code).toBe('method_not_allowed');
  expect((await h.api('GET', '/v1/nowhere')).status).toBe(404);
  // The fuzzer's stateful phase listed the keys and revoked its own: a key cannot revoke itself.
  const keys = await h.api('GET', '/v1/api-keys');
  const own = keys.body.items.find((k: any) => k.prefix === h.adminKey.slice(0, 8));
  const self = await h.api('DELETE', `/v1/api-keys/${own.id}`);
  expect(self).toMatchObject({ status: 409, body: { error: { code: 'key_in_use' } } });
});

test('GET /docs renders the document in headless Chromium, with its examples and nothing loaded from elsewhere', async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
    const requested: string[] = [];
    const problems: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    const res = await page.goto(`${h.stack.apiUrl}/docs`);
    expect(res?.status()).toBe(200);
    const orderEvents = page.locator('.opblock-post', { hasText: '/v1/order-events' }).first();
    await orderEvents.waitFor({ timeout: 30_000 });
    expect(await orderEvents.locator('.opblock-summary-method').innerText()).toBe('POST');
    // Opened, the operation offers the document's example event as the request to try.
    await orderEvents.locator('.opblock-summary').first().click();
    const example = orderEvents.locator('.body-param__example, .opblock-section-request-body pre').first();
    await example.waitFor({ timeout: 10_000 });
    expect(await example.innerText()).toMatch(/"trackingNumber": "1Z999AA10123456784"[\s\S]*"carrier"|"carrier": "UPS"/);
    expect(await page.locator('.opblock').count()).toBeGreaterThan(15);
    // Swagger UI shows no problem with the document (parse errors, or warnings such as an unsupported field).
    expect(await page.locator('.errors-wrapper').count()).toBe(0);
    expect(await page.getByText('Warning', { exact: true }).count()).toBe(0);
    await page.screenshot({ path: path.join(os.tmpdir(), 'herald-docs.png'), fullPage: false });
    expect(requested.filter((url) => !url.startsWith(h.stack.apiUrl))).toEqual([]);
    expect(requested).toContain(`${h.stack.apiUrl}/openapi.json`);
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
  }
}, 60_000);


/**
 * The fuzz run. Bounded: a fixed seed, 30 examples per operation and phase, one worker. `--checks all`,
 * with these exceptions (and the per-operation settings in test/contract/schemathesis.toml):
 * - The inbox stream is left out: it is an endless Server-Sent Events response, so every generated request
 *   waits for the request timeout (about 50 s for this operation alone). Its parameters are validated
 *   like the other inbox routes'; the stream itself is tested in test/inbox.test.ts.
 */
test('schemathesis finds no server error and no answer outside the document', async () => {
  const { args } = schemathesisCommand();
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-schemathesis-'));
  const api = h.stack.apiUrl;
  const fuzzArgs = [
    ...args,
    '--config-file', path.join(PROJECT_ROOT, 'test/contract/schemathesis.toml'),
    '--no-color',
    'run', `${api}/openapi.json`,
    '--url', api,
    '-H', `Authorization: Bearer ${h.adminKey}`,
    '--checks', 'all',
    '--exclude-path', '/v1/customers/{customerId}/inbox/stream',
    // 20 examples an operation keeps the run near two minutes for the whole API on two cores.
    '--max-examples', '20',
    '--seed', '20261121',
    '--workers', '1',
    '--request-timeout', '10',
    '--generation-database', 'none',
    '--report-dir', reportDir,
  ];
  const started = Date.now();
  const { code, output } = await schemathesis(fuzzArgs, {}, reportDir, 540_000);
  fs.rmSync(reportDir, { recursive: true, force: true });
  const summary = summaryOf(output);
  if (code !== 0) console.error(`schemathesis ${fuzzArgs.join(' ').replace(h.adminKey, '<adminKey>')}\n${output}`);
  else console.log(`schemathesis passed in ${((Date.now() - started) / 1000).toFixed(0)} s:\n${summary}`);
  expect({ code, summary }).toEqual({ code: 0, summary: expect.stringContaining('Test cases') });
  expect(output).toMatch(/Coverage[\s\S]*Fuzzing[\s\S]*Stateful/);
  // The run did not lock itself out (say, by revoking its own key): its last answers meant something.
  expect((await h.api('GET', '/v1/api-keys')).status).toBe(200);
}, 570_000);
