// "What happened to order X, and why", on the real stack: the order timeline (each event, each notification with
// its hold and escalation reasons, each receipt, the run and its live state), the lookup by any id, the customer
// view and the rejected events, through the API and through the dashboard in headless Chromium.
import Ajv2020 from 'ajv/dist/2020';
import { chromium, type Browser } from 'playwright-core';
import { eventually, iosToken, orderEvent, useHarness } from './support/harness';

const h = useHarness({ env: { HERALD_DIGEST_WINDOW: '0', HERALD_TEMPLATE_CACHE_MS: '0' } });

const HOLD_LABEL = "Held until the customer's quiet hours end";
const ESCALATION_LABEL = 'Sent as a backup: nothing could go on the channels before it';

const hhmm = (d: Date) => d.toISOString().slice(11, 16);

async function post(event: ReturnType<typeof orderEvent>) {
  expect((await h.api('POST', '/v1/order-events', event)).status).toBe(202);
  return event;
}

/**
 * The held order: a customer with only an email address (no device) inside quiet hours that end in two hours.
 * Packed: the push cannot go (no device), so the email goes as the plan's backup (`nothing_sent`), and it waits
 * for quiet hours to end.
 */
let held: ReturnType<typeof orderEvent>;
/** The confirmed order: a push to an iPhone, and the app's delivery receipt for it. */
let receipted: ReturnType<typeof orderEvent>;
/** A critical event the API refused, and a routine one refused before it. */
let rejected: { critical: string; routine: string };

beforeAll(async () => {
  const now = Date.now();
  const start = new Date(now - 60 * 60_000);
  const end = new Date(now + 120 * 60_000);
  expect(
    (await h.api('PUT', '/v1/customers/lk-quiet', { name: 'Ada', email: 'lk-quiet@example.com', timeZone: 'UTC', quietHours: { start: hhmm(start), end: hhmm(end) } })).status,
  ).toBe(201);
  held = await post(orderEvent('ord-lk-quiet', 'lk-quiet', 'packed'));

  expect((await h.api('PUT', '/v1/customers/lk-phone', { name: 'Grace', locale: 'en' })).status).toBe(201);
  expect((await h.api('POST', '/v1/customers/lk-phone/devices', { deviceId: 'lk-phone-iphone', platform: 'ios', token: iosToken('lk-phone') })).status).toBe(201);
  receipted = await post(orderEvent('ord-lk-receipt', 'lk-phone', 'confirmed'));

  const bad = (status: string, eventId: string) => ({ ...orderEvent('ord-lk-bad', 'lk-quiet', status), eventId, occurredAt: 'yesterday' });
  const routine = await h.api('POST', '/v1/order-events', bad('packed', 'evt-lk-bad-routine'));
  const critical = await h.api('POST', '/v1/order-events', bad('shipped', 'evt-lk-bad-critical'));
  expect([routine.status, critical.status]).toEqual([400, 400]);
  rejected = { critical: critical.body.rejectedEventId, routine: routine.body.rejectedEventId };

  // The email is recorded held (the workflow has decided every channel of the step)...
  await eventually(async () => {
    const res = await h.api('GET', `/v1/notifications/${encodeURIComponent(`${held.eventId}/email`)}`);
    expect(res.body).toMatchObject({ status: 'queued', holdReason: 'quiet_hours' });
  }, 60_000);
  // ...and the push was sent, and the app says it arrived.
  await eventually(async () => {
    const res = await h.api('GET', `/v1/notifications/${encodeURIComponent(`${receipted.eventId}/push`)}`);
    expect(res.body.status).toBe('sent');
  }, 60_000);
  const receiptToken = h.deliveredReceiptToken(`${receipted.eventId}/push`);
  const receipt = await h.api('POST', `/v1/notifications/${encodeURIComponent(`${receipted.eventId}/push`)}/events`, { type: 'delivered', eventId: 'lk-receipt-1', receiptToken });
  expect(receipt.status).toBe(202);
}, 120_000);

test("the order timeline tells the event, what went and why, what waits until when, and links the run", async () => {
  const timeline = await eventually(async () => {
    const res = await h.api('GET', '/v1/orders/ord-lk-quiet/timeline');
    expect(res.status).toBe(200);
    expect(res.body.events[0]).toMatchObject({ disposition: 'announced' });
    expect(res.body.workflow.live?.held).toHaveLength(1);
    return res.body;
  });
  expect(timeline).toMatchObject({ orderId: 'ord-lk-quiet', customerId: 'lk-quiet', eventsOmitted: 0, otherEntries: [] });
  expect(timeline.events).toHaveLength(1);
  const [event] = timeline.events;
  expect(event).toMatchObject({ eventId: held.eventId, status: 'packed', source: 'oms', occurredAt: held.occurredAt });
  const byChannel = Object.fromEntries(event.entries.map((e: any) => [e.notification.channel, e.notification]));
  expect(byChannel.push).toMatchObject({ status: 'suppressed', suppressionReason: 'no_device', suppressionLabel: 'Not sent: the customer has no registered device for push', escalation: null });
  expect(byChannel.email).toMatchObject({
    status: 'queued',
    address: 'lk-quiet@example.com',
    holdReason: 'quiet_hours',
    holdLabel: HOLD_LABEL,
    escalation: { step: 1, reason: 'nothing_sent', label: ESCALATION_LABEL },
  });
  // In time order: the push was decided before its backup.
  expect(event.entries.map((e: any) => e.kind)).toEqual(expect.arrayContaining(['notification']));
  const times = event.entries.map((e: any) => Date.parse(e.at));
  expect([...times].sort((a, b) => a - b)).toEqual(times);

  // The run, its link in the Web UI, and what it waits for: the email, until quiet hours end.
  const { workflow } = timeline;
  expect(workflow).toMatchObject({ workflowId: 'order:ord-lk-quiet', status: 'RUNNING', note: null, runId: expect.any(String) });
  expect(workflow.uiUrl).toBe(`http://127.0.0.1:8233/namespaces/default/workflows/order:ord-lk-quiet/${workflow.runId}/history`);
  expect(workflow.live).toMatchObject({ notificationState: 'waiting-quiet-hours', waitingFor: null });
  expect(workflow.live.held[0]).toMatchObject({ channel: 'email', reason: 'quiet_hours', until: byChannel.email.heldUntil, eventIds: [held.eventId] });
});

test('a receipt stands under its notification, after it', async () => {
  const timeline = await eventually(async () => {
    const res = await h.api('GET', '/v1/orders/ord-lk-receipt/timeline');
    expect(res.body.events[0].entries.some((e: any) => e.kind === 'receipt')).toBe(true);
    return res.body;
  });
  const entries = timeline.events[0].entries;
  const push = entries.findIndex((e: any) => e.kind === 'notification' && e.notification.channel === 'push');
  const receipt = entries.findIndex((e: any) => e.kind === 'receipt');
  expect(push).toBeGreaterThanOrEqual(0);
  expect(receipt).toBeGreaterThan(push);
  expect(entries[receipt].receipt).toMatchObject({ notificationId: `${receipted.eventId}/push`, type: 'delivered', source: 'app', dedupeKey: `app:${receipted.eventId}/push:lk-receipt-1` });
  expect(entries[push].notification).toMatchObject({ status: 'delivered', attempts: [expect.objectContaining({ deviceId: 'lk-phone-iphone', platform: 'ios', status: 'sent' })] });
});

test('the lookup says what a string is: an order, a customer or an event; an unknown order is a 404 naming it', async () => {
  expect((await h.api('GET', '/v1/lookup?q=ord-lk-quiet')).body).toEqual({
    q: 'ord-lk-quiet',
    matches: [{ kind: 'order', id: 'ord-lk-quiet', orderId: 'ord-lk-quiet', customerId: 'lk-quiet', href: '/v1/orders/ord-lk-quiet/timeline' }],
  });
  expect((await h.api('GET', '/v1/lookup?q=lk-quiet')).body.matches).toEqual([
    { kind: 'customer', id: 'lk-quiet', orderId: null, customerId: 'lk-quiet', href: '/v1/customers/lk-quiet/timeline' },
  ]);
  expect((await h.api('GET', `/v1/lookup?q=${held.eventId}`)).body.matches).toEqual([
    { kind: 'event', id: held.eventId, orderId: 'ord-lk-quiet', customerId: 'lk-quiet', href: '/v1/orders/ord-lk-quiet/timeline' },
  ]);
  expect((await h.api('GET', '/v1/lookup?q=nobody-at-all')).body).toEqual({ q: 'nobody-at-all', matches: [] });
  expect((await h.api('GET', '/v1/lookup?q=a%20b')).status).toBe(400);
  expect((await h.api('GET', '/v1/lookup')).status).toBe(400);

  const missing = await h.api('GET', '/v1/orders/ord-lk-nope/timeline');
  expect(missing).toMatchObject({ status: 404, body: { error: { code: 'not_found', message: expect.stringContaining('ord-lk-nope') } } });
  expect((await h.api('GET', '/v1/customers/lk-nobody/timeline')).status).toBe(404);
  // The read scope suffices; no key is a 401.
  const reader = await h.api('POST', '/v1/api-keys', { name: 'support desk', scopes: ['read'] });
  expect((await h.api('GET', '/v1/orders/ord-lk-quiet/timeline', undefined, reader.body.key)).status).toBe(200);
  expect((await fetch(`${h.stack.apiUrl}/v1/orders/ord-lk-quiet/timeline`)).status).toBe(401);
});

test("the customer view has the profile, the devices by the app's id and the orders with their events", async () => {
  const res = await h.api('GET', '/v1/customers/lk-phone/timeline');
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({
    customerId: 'lk-phone',
    profile: { name: 'Grace', email: null, quietHours: null },
    devices: [{ deviceId: 'lk-phone-iphone', platform: 'ios', active: true }],
    orders: [{ orderId: 'ord-lk-receipt', events: [{ eventId: receipted.eventId, status: 'confirmed' }] }],
    nextCursor: null,
  });
  expect(JSON.stringify(res.body)).not.toContain(iosToken('lk-phone'));

  // Two orders, one a page: the cursor leads to the older one.
  await post(orderEvent('ord-lk-second', 'lk-phone', 'confirmed'));
  const first = await h.api('GET', '/v1/customers/lk-phone/timeline?limit=1');
  expect(first.body.orders.map((o: any) => o.orderId)).toEqual(['ord-lk-second']);
  const second = await h.api('GET', `/v1/customers/lk-phone/timeline?limit=1&cursor=${first.body.nextCursor}`);
  expect(second.body).toMatchObject({ orders: [{ orderId: 'ord-lk-receipt' }], nextCursor: null });
  // A forged cursor with a year PostgreSQL cannot hold is a 400, not a 500.
  const forged = Buffer.from(JSON.stringify(['0000-01-01T00:00:00.000Z', 'ord-x'])).toString('base64url');
  expect((await h.api('GET', `/v1/customers/lk-phone/timeline?cursor=${forged}`)).status).toBe(400);
});

test('the rejected events come critical first, with their errors', async () => {
  const res = await h.api('GET', '/v1/rejected-events');
  expect(res.status).toBe(200);
  const ids = res.body.items.map((r: any) => r.rejectedEventId);
  expect(ids.indexOf(rejected.critical)).toBeLessThan(ids.indexOf(rejected.routine));
  expect(res.body.items.find((r: any) => r.rejectedEventId === rejected.critical)).toMatchObject({
    eventId: 'evt-lk-bad-critical',
    orderId: 'ord-lk-bad',
    status: 'shipped',
    critical: true,
    source: 'oms',
    errors: [{ field: 'occurredAt', reason: expect.stringContaining('ISO-8601') }],
  });
  const page = await h.api('GET', '/v1/rejected-events?limit=1');
  expect(page.body.items.map((r: any) => r.rejectedEventId)).toEqual([rejected.critical]);
  const next = await h.api('GET', `/v1/rejected-events?limit=1&cursor=${page.body.nextCursor}`);
  expect(next.body.items.map((r: any) => r.rejectedEventId)).toEqual([rejected.routine]);
  expect((await h.api('GET', '/v1/rejected-events?cursor=bm90LWEtY3Vyc29y')).status).toBe(400);
  const forged = Buffer.from(JSON.stringify([true, '0000-01-01T00:00:00.000Z', 'x'])).toString('base64url');
  expect((await h.api('GET', `/v1/rejected-events?cursor=${forged}`)).status).toBe(400);
});

test('each answer is what the OpenAPI document says', async () => {
  const doc = (await (await fetch(`${h.stack.apiUrl}/openapi.json`)).json()) as any;
  const ajv = new Ajv2020({ strict: false, validateFormats: false });
  ajv.addSchema({ $id: 'herald-openapi.json', components: doc.components });
  const calls: Array<[string, string, string]> = [
    ['/v1/orders/{orderId}/timeline', '/v1/orders/ord-lk-quiet/timeline', '200'],
    ['/v1/orders/{orderId}/timeline', '/v1/orders/ord-lk-receipt/timeline', '200'],
    ['/v1/orders/{orderId}/timeline', '/v1/orders/ord-lk-nope/timeline', '404'],
    ['/v1/lookup', `/v1/lookup?q=${held.eventId}`, '200'],
    ['/v1/customers/{customerId}/timeline', '/v1/customers/lk-phone/timeline', '200'],
    ['/v1/customers/{customerId}/timeline', '/v1/customers/lk-quiet/timeline', '200'],
    ['/v1/rejected-events', '/v1/rejected-events', '200'],
  ];
  for (const [template, url, status] of calls) {
    const op = doc.paths[template].get;
    expect(op['x-required-scope']).toBe('read');
    const res = await h.api('GET', url);
    expect({ url, status: String(res.status) }).toEqual({ url, status });
    const schema = op.responses[status].content['application/json'].schema;
    const validate = ajv.compile(schema.$ref ? { $ref: `herald-openapi.json${schema.$ref}` } : schema);
    expect({ url, valid: validate(res.body), errors: validate.errors ?? null }).toEqual({ url, valid: true, errors: null });
  }
});

describe('the dashboard', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  test("finds an order by its id and shows its timeline: the hold, the escalation, and a link to the run; then the customer's orders and the rejected events", async () => {
    const run = (await h.api('GET', '/v1/orders/ord-lk-quiet/timeline')).body.workflow;
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    // CSP violations and script errors show up here.
    page.on('console', (m) => m.type() === 'error' && !/Failed to load resource.*404/.test(m.text()) && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    // The key as the page keeps it once entered (dashboard.js asks for it; the statistics test covers the form).
    await page.addInitScript((key) => (globalThis as any).sessionStorage.setItem('herald.dashboard.apiKey', key), h.adminKey);
    await page.goto(`${h.stack.apiUrl}/dashboard`);

    const search = page.getByLabel('Order id, customer id or event id');
    await search.waitFor({ state: 'visible', timeout: 60_000 });
    await search.fill('ord-lk-quiet');
    await page.getByRole('button', { name: 'Look up' }).click();

    const order = page.locator('article[data-order-id="ord-lk-quiet"]');
    await order.waitFor({ timeout: 30_000 });
    expect(await order.getByRole('heading', { name: 'Order ord-lk-quiet' }).isVisible()).toBe(true);
    const text = await order.innerText();
    expect(text).toContain(HOLD_LABEL);
    expect(text).toContain(ESCALATION_LABEL);
    expect(text).toContain('Not sent: the customer has no registered device for push');
    expect(text).toContain('lk-quiet@example.com');
    expect(text).toContain("waiting for the customer's quiet hours to end");
    const link = order.getByRole('link', { name: 'Open the run in the Temporal Web UI' });
    const href = await link.getAttribute('href');
    expect(href).toContain('order:ord-lk-quiet');
    expect(href).toContain(run.runId);
    expect(await link.getAttribute('target')).toBe('_blank');
    expect(await link.getAttribute('rel')).toContain('noopener');
    expect(await page.getByRole('status').filter({ hasText: 'Order ord-lk-quiet' }).count()).toBe(1);
    await order.screenshot({ path: '/tmp/herald-lookup-order.png' });

    // The customer, from the order: their orders, and one click back into an order's timeline.
    await order.getByRole('button', { name: 'lk-quiet' }).click();
    const customer = page.locator('article[data-customer-id="lk-quiet"]');
    await customer.waitFor();
    expect(await customer.innerText()).toContain('No registered devices.');
    await customer.getByRole('button', { name: 'Order ord-lk-quiet' }).click();
    await page.locator('article[data-order-id="ord-lk-quiet"]').waitFor();

    // A customer id and an event id in the same box.
    await search.fill('lk-phone');
    await page.getByRole('button', { name: 'Look up' }).click();
    await page.locator('article[data-customer-id="lk-phone"]').waitFor();
    const phone = await page.locator('article[data-customer-id="lk-phone"]').innerText();
    expect(phone).toContain('lk-phone-iphone');
    expect(phone).toContain('Order ord-lk-receipt');
    await search.fill(receipted.eventId);
    await page.getByRole('button', { name: 'Look up' }).click();
    const receiptOrder = page.locator('article[data-order-id="ord-lk-receipt"]');
    await receiptOrder.waitFor();
    await eventually(async () => expect(await receiptOrder.innerText()).toMatch(/Receipt\s+delivered/));
    expect(await receiptOrder.innerText()).toContain('device lk-phone-iphone (ios)');

    // Nothing found says so.
    await search.fill('nobody-at-all');
    await page.getByRole('button', { name: 'Look up' }).click();
    await eventually(async () => expect(await page.locator('#lookup-status').innerText()).toContain('No order, customer or event has the id nobody-at-all'));

    // Up top, the open critical rejects: how many, and the newest with source, order, reason and a link to its API item.
    const critical = page.locator('#critical-rejects-section');
    await eventually(async () => expect(await page.locator('#critical-rejects-count').innerText()).toContain('1 open critical rejected event:'));
    expect(await critical.getAttribute('class')).toContain('alert');
    const criticalRow = critical.locator(`tr[data-critical-reject-id="${rejected.critical}"]`);
    const criticalText = await criticalRow.innerText();
    expect(criticalText).toContain('oms');
    expect(criticalText).toContain('ord-lk-bad');
    expect(criticalText).toContain('shipped');
    expect(criticalText).toContain('invalid_field');
    expect(await critical.locator('tr[data-critical-reject-id]').count()).toBe(1);
    // Its link opens the item with the page's key.
    await criticalRow.getByRole('link', { name: `/v1/rejected-events/${rejected.critical}` }).click();
    await eventually(async () => expect(await critical.locator('pre.item').first().innerText()).toContain('"eventId": "evt-lk-bad-critical"'));
    await critical.screenshot({ path: '/tmp/herald-critical-rejects.png' });

    // The rejected events, critical first, with their errors.
    const rows = page.locator('#rejected-events tbody tr');
    await rows.first().waitFor();
    expect(await rows.first().getAttribute('data-rejected-id')).toBe(rejected.critical);
    const first = await rows.first().innerText();
    expect(first).toContain('evt-lk-bad-critical');
    expect(first).toContain('critical');
    expect(first).toMatch(/occurredAt: must be an ISO-8601/);

    await page.screenshot({ path: '/tmp/herald-lookup.png', fullPage: true });
    await page.locator('#lookup').screenshot({ path: '/tmp/herald-lookup-rejected.png' });
    expect(problems).toEqual([]);
    await page.close();
  }, 120_000);
});

test('without a worker the timeline still comes from the database, and says why there is no live state', async () => {
  await h.stack.worker.stop();
  const res = await h.api('GET', '/v1/orders/ord-lk-quiet/timeline');
  expect(res.status).toBe(200);
  expect(res.body.events[0].entries).toHaveLength(2);
  expect(res.body.workflow).toMatchObject({ runId: expect.any(String), status: 'RUNNING', live: null, note: expect.stringContaining('no worker') });
}, 60_000);
