// The API's contract: the OpenAPI document (GET /openapi.json) covers every route, Swagger UI renders it
// offline (GET /docs), and a property-based fuzz run (schemathesis, installed by `npm run tools`) against
// the real stack finds no 5xx and no answer outside the document.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { createApp, type AppDependencies } from '../api/app';
import { PROJECT_ROOT, schemathesisCommand } from '../lib/tools';
import { useHarness } from './support/harness';

const h = useHarness();

interface ExpressLayer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: ExpressLayer[] };
  rawPath?: string;
  slash?: boolean;
}

/** Every method and path express routes, as OpenAPI templates (`:id` becomes `{id}`). */
function expressRoutes(stack: ExpressLayer[], prefix = ''): Array<{ method: string; path: string }> {
  const found: Array<{ method: string; path: string }> = [];
  for (const layer of stack) {
    if (layer.route) {
      const template = `${prefix}${layer.route.path}`.replace(/:(\w+)/g, '{$1}');
      for (const method of Object.keys(layer.route.methods)) if (method !== '_all') found.push({ method, path: template });
    } else if (layer.handle?.stack) {
      const mount = layer.slash || typeof layer.rawPath !== 'string' ? '' : layer.rawPath;
      found.push(...expressRoutes(layer.handle.stack, `${prefix}${mount}`));
    }
  }
  return found;
}

test('GET /openapi.json is an OpenAPI 3.1 document with an operation for every route express serves', async () => {
  const res = await fetch(`${h.stack.apiUrl}/openapi.json`); // no key needed
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  const doc = (await res.json()) as any;
  expect(doc).toMatchObject({ openapi: '3.1.0', info: { title: 'Herald' }, components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } });

  // The routes as the app registers them (dependencies are only used once a request comes in).
  const app = createApp({} as AppDependencies) as unknown as { router: { stack: ExpressLayer[] } };
  const routes = expressRoutes(app.router.stack)
    // Static files of the docs and dashboard pages are not API operations.
    .filter((r) => !r.path.includes('/assets/'));
  expect(routes.length).toBeGreaterThan(15);
  const missing = routes.filter((r) => !doc.paths[r.path]?.[r.method]).map((r) => `${r.method.toUpperCase()} ${r.path}`);
  expect(missing).toEqual([]);

  for (const [template, item] of Object.entries<any>(doc.paths)) {
    for (const [method, op] of Object.entries<any>(item)) {
      const label = `${method.toUpperCase()} ${template}`;
      expect({ label, hasSuccess: Object.keys(op.responses).some((s) => s.startsWith('2')) }).toEqual({ label, hasSuccess: true });
      // Twilio cannot send a key: its status callback is authenticated by its X-Twilio-Signature header instead.
      const signed = op.parameters?.some((p: any) => p.in === 'header' && p.name === 'X-Twilio-Signature') ?? false;
      if (template.startsWith('/v1/') && !signed) {
        // Key and scope: documented per operation, and the errors they cause.
        expect({ label, security: op.security, scope: op['x-required-scope'] }).toEqual({ label, security: [{ bearer: [] }], scope: expect.stringMatching(/^(ingest|read|admin)$/) });
        expect(op.description).toContain(`\`${op['x-required-scope']}\` scope`);
        expect(op.responses['401'].content['application/json'].schema.$ref).toBe('#/components/schemas/Error');
        expect(op.responses['403']).toBeDefined();
      }
      for (const name of template.match(/\{\w+\}/g) ?? []) {
        const parameter = op.parameters.find((p: any) => p.in === 'path' && `{${p.name}}` === name);
        expect({ label, name, pattern: parameter?.schema?.pattern }).toEqual({ label, name, pattern: expect.any(String) });
      }
    }
  }
  const list = doc.paths['/v1/customers/{customerId}/inbox'].get.parameters.map((p: any) => `${p.in}:${p.name}`);
  expect(list).toEqual(['path:customerId', 'query:limit', 'query:cursor', 'query:unread']);
  expect(doc.paths['/metrics'].get.responses['200'].content['text/plain']).toBeDefined();
  expect(doc.paths['/readyz'].get.responses['503']).toBeDefined();
  expect(doc.paths['/v1/webhooks/twilio/status'].post).toMatchObject({ security: [], responses: { 204: expect.anything(), 403: expect.anything() } });
  expect(doc.components.schemas.Error).toMatchObject({ type: 'object', required: ['error'], additionalProperties: false });
});

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

test('GET /docs renders the document in headless Chromium, with nothing loaded from elsewhere', async () => {
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
  const { command, args, env } = schemathesisCommand();
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
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn(command, fuzzArgs, { cwd: reportDir, env: { ...process.env, ...env, SCHEMATHESIS_TELEMETRY: 'false' } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 330_000);
    child.on('error', reject);
    child.on('exit', (exitCode) => {
      clearTimeout(timer);
      resolve({ code: exitCode, output });
    });
  });
  fs.rmSync(reportDir, { recursive: true, force: true });
  const summary = output.slice(output.lastIndexOf('\n', output.lastIndexOf(' SUMMARY ')) + 1);
  if (code !== 0) console.error(`schemathesis ${fuzzArgs.join(' ').replace(h.adminKey, '<adminKey>')}\n${output}`);
  else console.log(`schemathesis passed in ${((Date.now() - started) / 1000).toFixed(0)} s:\n${summary}`);
  expect({ code, summary }).toEqual({ code: 0, summary: expect.stringContaining('Test cases') });
  expect(output).toMatch(/Coverage[\s\S]*Fuzzing[\s\S]*Stateful/);
  // The run did not lock itself out (say, by revoking its own key): its last answers meant something.
  expect((await h.api('GET', '/v1/api-keys')).status).toBe(200);
}, 360_000);
