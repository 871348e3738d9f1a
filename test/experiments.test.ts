// Experiments against the real stack: an order-update experiment on `shipped` with two content variants (templates
// published through the templates API). Each customer's push carries the words of their recorded variant, and
// keeps it on later orders; conversions are the `confirmed` orders after the send and within the window; the
// p-value is the two-proportion z-test on those counts. A holdout case is counted from assignments written by hand.
import { chromium } from 'playwright-core';
import { assignVariant, compareProportions, proportionInterval } from '../domain/experiments';
import { eventually, iosToken, useHarness } from './support/harness';

// The worker looks the experiment and the templates up for every message (no cache), so what is published is used at once.
const h = useHarness({ env: { HERALD_TEMPLATE_CACHE_MS: '0' } });

const EXPERIMENT = 'exp-shipped-copy';
const DAY = 24 * 3600 * 1000;
const customers = Array.from({ length: 40 }, (_, i) => `exp-c-${i}`);
/** A customer assigned by hand, before any send, to the variant the hash would not give them. */
const PRESET = 'exp-c-preset';
const TITLES = { warm: (orderId: string) => `Good news: ${orderId} is on its way`, short: (orderId: string) => `${orderId} shipped` };

const design = {
  name: 'Shipped push copy',
  kind: 'content',
  variants: [
    { id: 'warm', weight: 1, templates: { push: 'order.shipped.warm' } },
    { id: 'short', weight: 1, templates: { push: 'order.shipped.short' } },
  ],
  control: 'warm',
  notificationType: 'shipped',
};
const designOf = (ids: string[]) => ({ id: EXPERIMENT, variants: design.variants.filter((v) => ids.includes(v.id)), holdout: 0 });

let seq = 0;
const shipped = (customerId: string, orderId: string) => ({
  eventId: `exp-ev-${++seq}`,
  orderId,
  customerId,
  status: 'shipped',
  occurredAt: new Date(Date.UTC(2026, 10, 25, 10, 0, seq)).toISOString(),
  source: 'oms',
  data: { carrier: 'UPS', trackingNumber: `1Z${seq}` },
});
const confirmed = (customerId: string, orderId: string, occurredAt: Date) => ({
  eventId: `exp-conf-${++seq}`,
  orderId,
  customerId,
  status: 'confirmed',
  occurredAt: occurredAt.toISOString(),
  source: 'oms',
  data: {},
});

async function publish(key: string, subject: string, body: string) {
  const draft = await h.api('POST', `/v1/templates/${key}/versions`, { channel: 'push', locale: 'en', subject, body });
  expect(draft.status).toBe(201);
  expect((await h.api('POST', `/v1/templates/${key}/push/en/versions/${draft.body.version}/publish`)).status).toBe(200);
}

/** The sent push of an order, once it is sent. */
const pushOf = (orderId: string) =>
  eventually(async () => {
    const n = await h.db.notification.findFirst({ where: { orderId, channel: 'push' } });
    expect(n?.sentAt).toBeTruthy();
    return n!;
  }, 60_000);

const variantOf = async (customerId: string) =>
  (await h.db.experimentAssignment.findUniqueOrThrow({ where: { experimentId_customerId: { experimentId: EXPERIMENT, customerId } } })).variant as 'warm' | 'short';

test('an order-update experiment: bad designs are refused, naming the field', async () => {
  const holdout = await h.api('PUT', '/v1/experiments/exp-bad', { ...design, holdout: 0.1 });
  expect(holdout.status).toBe(400);
  expect(holdout.body.error.fields).toEqual([{ field: 'holdout', reason: expect.stringContaining('order updates are transactional and never withheld') }]);
  const duplicate = await h.api('PUT', '/v1/experiments/exp-bad', { ...design, variants: [design.variants[0], { ...design.variants[1], id: 'warm' }] });
  expect(duplicate.status).toBe(400);
  expect(duplicate.body.error.fields).toEqual([{ field: 'variants.1.id', reason: expect.stringContaining('unique') }]);
  const control = await h.api('PUT', '/v1/experiments/exp-bad', { ...design, control: 'holdout' });
  expect(control.body.error.fields).toEqual([{ field: 'control', reason: expect.stringContaining('no holdout group') }]);
  const key = await h.api('PUT', '/v1/experiments/exp-bad', { ...design, variants: [design.variants[0], { id: 'short', weight: 1, templates: { push: 'order.delivered.short' } }] });
  expect(key.body.error.fields).toEqual([{ field: 'variants.1.templates.push', reason: 'must be order.shipped or a variant of it, order.shipped.<name>' }]);
  const unknown = await h.api('PUT', '/v1/experiments/exp-bad', { ...design, color: 'blue' });
  expect(unknown.status).toBe(400);
  expect(unknown.body.error.fields[0].field).toBe('(body)');
  expect((await h.api('GET', '/v1/experiments/exp-bad')).status).toBe(404);
  expect((await h.api('GET', '/v1/experiments/exp-bad/results')).status).toBe(404);
  // A variant's template key must be one the templates API knows: order.shipped.<variant> is.
  const badKey = await h.api('POST', '/v1/templates/order.shipped.Nope/versions', { channel: 'push', locale: 'en', subject: 'x', body: 'y' });
  expect(badKey.status).toBe(400);
});

test("each customer's shipped push carries their recorded variant's words, on every order", async () => {
  await publish('order.shipped.warm', 'Good news: {{ orderId }} is on its way', 'Hi {{ customerName }}, {{ carrier }} has it: {{ trackingNumber }}.');
  await publish('order.shipped.short', '{{ orderId }} shipped', '{{ carrier }} {{ trackingNumber }}');
  const created = await h.api('PUT', `/v1/experiments/${EXPERIMENT}`, design);
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ experimentId: EXPERIMENT, status: 'active', holdout: 0, attributionWindowSeconds: 7 * 24 * 3600, notificationType: 'shipped', assigned: 0, campaignId: null });
  // Only one active experiment varies an order notification.
  const second = await h.api('PUT', '/v1/experiments/exp-shipped-other', { ...design, name: 'Another' });
  expect(second.status).toBe(409);
  expect(second.body.error.code).toBe('experiment_conflict');

  for (const id of [...customers, PRESET]) {
    expect((await h.api('PUT', `/v1/customers/${id}`, { name: `Customer ${id}`, locale: 'en' })).status).toBe(201);
    expect((await h.api('POST', `/v1/customers/${id}/devices`, { deviceId: `${id}-iphone`, platform: 'ios', token: iosToken(id) })).status).toBe(201);
  }
  // The preset customer's recorded variant is the other one than the hash's: the record wins.
  const computed = assignVariant(designOf(['warm', 'short']), PRESET);
  const preset = computed === 'warm' ? 'short' : 'warm';
  await h.db.experimentAssignment.create({ data: { experimentId: EXPERIMENT, customerId: PRESET, variant: preset } });

  const everyone = [...customers, PRESET];
  for (const id of everyone) expect((await h.api('POST', '/v1/order-events', shipped(id, `${id}-o1`))).status).toBe(202);
  for (const id of everyone) {
    const push = await pushOf(`${id}-o1`);
    const variant = await variantOf(id);
    expect({ id, experimentId: push.experimentId, variant: push.variant, title: push.title }).toEqual({ id, experimentId: EXPERIMENT, variant, title: TITLES[variant](`${id}-o1`) });
    // What APNs got is those words.
    const sent = h.apns.requestsFor(iosToken(id)).find((r) => (r.body as any).orderId === `${id}-o1`);
    expect((sent!.body as any).aps.alert.title).toBe(TITLES[variant](`${id}-o1`));
    if (id !== PRESET) expect(variant).toBe(assignVariant(designOf(['warm', 'short']), id));
  }
  expect(await variantOf(PRESET)).toBe(preset);
  const assignments = await h.db.experimentAssignment.findMany({ where: { experimentId: EXPERIMENT } });
  expect(assignments).toHaveLength(everyone.length);
  expect(new Set(assignments.map((a) => a.variant))).toEqual(new Set(['warm', 'short']));
  // Exposure is the first send.
  await eventually(async () => {
    for (const a of await h.db.experimentAssignment.findMany({ where: { experimentId: EXPERIMENT } })) {
      const push = await h.db.notification.findFirstOrThrow({ where: { orderId: `${a.customerId}-o1`, channel: 'push' } });
      expect(a.exposedAt?.toISOString()).toBe(push.sentAt!.toISOString());
    }
  });
  // The email of the shipment (these customers have no address) carries the experiment too; other order types do not.
  expect(await h.db.notification.count({ where: { orderId: `${customers[0]}-o1`, channel: 'email', experimentId: EXPERIMENT } })).toBe(1);

  // Later orders and a re-sent event: the same variant, nothing assigned twice.
  const exposedBefore = new Map(assignments.map((a) => [a.customerId, a.exposedAt]));
  for (const id of customers.slice(0, 6)) expect((await h.api('POST', '/v1/order-events', shipped(id, `${id}-o2`))).status).toBe(202);
  const again = await h.api('POST', '/v1/order-events', { ...shipped(customers[0]!, `${customers[0]}-o1`), eventId: 'exp-ev-1' });
  expect(again.body.duplicate).toBe(true);
  for (const id of customers.slice(0, 6)) {
    const push = await pushOf(`${id}-o2`);
    const variant = await variantOf(id);
    expect(push.variant).toBe(variant);
    expect(push.title).toBe(TITLES[variant](`${id}-o2`));
  }
  expect(await h.db.experimentAssignment.count({ where: { experimentId: EXPERIMENT } })).toBe(everyone.length);
  const after = await h.db.experimentAssignment.findMany({ where: { experimentId: EXPERIMENT, customerId: { in: customers.slice(0, 6) } } });
  for (const a of after) expect(a.exposedAt).toEqual(exposedBefore.get(a.customerId));
  expect(await h.db.notification.count({ where: { orderId: `${customers[0]}-o1`, channel: 'push' } })).toBe(1);
}, 240_000);

test('results count the confirmed orders after the send and within the window, and the p-value is the z-test on them', async () => {
  const assignments = await h.db.experimentAssignment.findMany({ where: { experimentId: EXPERIMENT } });
  const exposedAt = new Map(assignments.map((a) => [a.customerId, a.exposedAt!]));
  const converting = customers.slice(0, 14);
  const before = customers[14]!;
  const late = customers[15]!;
  for (const id of converting) {
    expect((await h.api('POST', '/v1/order-events', confirmed(id, `${id}-next`, new Date(exposedAt.get(id)!.getTime() + 3600_000)))).status).toBe(202);
  }
  // Two orders of one customer count once.
  expect((await h.api('POST', '/v1/order-events', confirmed(converting[0]!, `${converting[0]}-next2`, new Date(exposedAt.get(converting[0]!)!.getTime() + 2 * DAY)))).status).toBe(202);
  // Before the send, and after the 7-day window: not conversions.
  expect((await h.api('POST', '/v1/order-events', confirmed(before, `${before}-prev`, new Date(exposedAt.get(before)!.getTime() - 3600_000)))).status).toBe(202);
  expect((await h.api('POST', '/v1/order-events', confirmed(late, `${late}-late`, new Date(exposedAt.get(late)!.getTime() + 7 * DAY + 60_000)))).status).toBe(202);
  // An open from the app, and an opt-out of order updates after the send.
  const opener = customers[20]!;
  const openerPush = await h.db.notification.findFirstOrThrow({ where: { orderId: `${opener}-o1`, channel: 'push' } });
  const receiptToken = h.deliveredReceiptToken(openerPush.id);
  expect((await h.api('POST', `/v1/notifications/${encodeURIComponent(openerPush.id)}/events`, { type: 'opened', occurredAt: new Date().toISOString(), source: 'app', receiptToken })).status).toBe(202);
  const leaver = customers[21]!;
  expect((await h.api('PUT', `/v1/customers/${leaver}/preferences`, { preferences: [{ channel: 'push', category: 'order-updates', optedIn: false }] })).status).toBe(200);

  const variantOfId = new Map(assignments.map((a) => [a.customerId, a.variant]));
  const expected = (variant: string) => ({
    assigned: assignments.filter((a) => a.variant === variant).length,
    conversions: converting.filter((id) => variantOfId.get(id) === variant).length,
    opened: variantOfId.get(opener) === variant ? 1 : 0,
    unsubscribed: variantOfId.get(leaver) === variant ? 1 : 0,
  });
  const results = await eventually(async () => {
    const res = await h.api('GET', `/v1/experiments/${EXPERIMENT}/results`);
    expect(res.status).toBe(200);
    for (const variant of ['warm', 'short']) {
      expect(res.body.variants.find((v: any) => v.variant === variant)).toMatchObject(expected(variant));
    }
    return res.body;
  }, 60_000);
  expect(results.variants.map((v: any) => v.variant)).toEqual(['warm', 'short']);
  const [warm, short] = results.variants;
  for (const v of results.variants) {
    expect(v).toMatchObject({ exposed: v.assigned, sent: v.assigned, maturing: v.assigned, conversionRate: v.conversions / v.assigned });
    expect(v.delivered).toBeGreaterThanOrEqual(v.opened);
  }
  expect(warm).toMatchObject({ isControl: true, vsControl: null, vsHoldout: null });
  const byHand = compareProportions(short.conversions, short.assigned, warm.conversions, warm.assigned);
  expect(short.vsControl).toEqual({ baseline: 'warm', ...byHand });
  expect(short.vsControl.pValue).toBeGreaterThan(0);
  expect(short.vsHoldout).toBeNull();
  expect(results).toMatchObject({ experimentId: EXPERIMENT, control: 'warm', confidence: 0.95, attributionWindowSeconds: 604800 });
}, 120_000);

test('the design is fixed once anyone is assigned; the name may change, and a stopped experiment assigns nobody', async () => {
  const reweighted = await h.api('PUT', `/v1/experiments/${EXPERIMENT}`, { ...design, variants: [design.variants[0], { ...design.variants[1], weight: 3 }] });
  expect(reweighted.status).toBe(409);
  expect(reweighted.body.error).toMatchObject({ code: 'experiment_has_assignments', message: expect.stringContaining('41 assigned customers') });
  const renamed = await h.api('PUT', `/v1/experiments/${EXPERIMENT}`, { ...design, name: 'Shipped push copy (round 1)' });
  expect(renamed.status).toBe(200);
  expect(renamed.body).toMatchObject({ name: 'Shipped push copy (round 1)', assigned: 41 });
  const list = await h.api('GET', '/v1/experiments?limit=1');
  expect(list.status).toBe(200);
  expect(list.body.items.map((e: any) => e.experimentId)).toEqual([EXPERIMENT]);

  const stopped = await h.api('POST', `/v1/experiments/${EXPERIMENT}/stop`);
  expect(stopped.status).toBe(200);
  expect(stopped.body.status).toBe('stopped');
  expect((await h.api('GET', '/v1/experiments?status=active')).body.items).toEqual([]);
  // A new customer's shipment now goes with the default words, outside the experiment.
  expect((await h.api('PUT', '/v1/customers/exp-c-new', { name: 'New', locale: 'en' })).status).toBe(201);
  expect((await h.api('POST', '/v1/customers/exp-c-new/devices', { deviceId: 'exp-c-new-iphone', platform: 'ios', token: iosToken('exp-c-new') })).status).toBe(201);
  expect((await h.api('POST', '/v1/order-events', shipped('exp-c-new', 'exp-c-new-o1'))).status).toBe(202);
  const push = await pushOf('exp-c-new-o1');
  expect({ experimentId: push.experimentId, variant: push.variant, title: push.title }).toEqual({ experimentId: null, variant: null, title: 'Order exp-c-new-o1 has shipped' });
  expect(await h.db.experimentAssignment.count({ where: { experimentId: EXPERIMENT } })).toBe(41);
}, 120_000);

test('lift over a holdout, from assignments and orders written directly', async () => {
  const put = await h.api('PUT', '/v1/experiments/exp-holdout', {
    name: 'Spring promotion',
    kind: 'content',
    variants: [
      { id: 'a', weight: 1, templates: { push: 'spring-a' } },
      { id: 'b', weight: 1, templates: { push: 'spring-b' } },
    ],
    control: 'a',
    holdout: 0.3,
    attributionWindow: '3d',
  });
  expect(put.status).toBe(201);
  expect(put.body.attributionWindowSeconds).toBe(3 * 24 * 3600);
  const exposed = new Date('2026-11-01T10:00:00Z');
  const groups = { a: { n: 100, converted: 20 }, b: { n: 100, converted: 30 }, holdout: { n: 100, converted: 10 } };
  const rows = Object.entries(groups).flatMap(([variant, g]) =>
    Array.from({ length: g.n }, (_, i) => ({ experimentId: 'exp-holdout', customerId: `hold-${variant}-${i}`, variant, assignedAt: new Date(exposed.getTime() - 3600_000), exposedAt: exposed })),
  );
  // One never sent: its window starts at its assignment (intent to treat).
  rows.push({ experimentId: 'exp-holdout', customerId: 'hold-a-unsent', variant: 'a', assignedAt: exposed, exposedAt: null as unknown as Date });
  await h.db.experimentAssignment.createMany({ data: rows });
  const order = (customerId: string, at: Date, i: number) => ({
    eventId: `hold-order-${customerId}-${i}`, orderId: `hold-order-${customerId}-${i}`, customerId, status: 'confirmed', occurredAt: at, source: 'test', data: {},
    // Already relayed and settled: the API's relay leaves them be.
    signalledAt: new Date(), processedAt: new Date(),
  });
  const orders = Object.entries(groups).flatMap(([variant, g]) => Array.from({ length: g.converted }, (_, i) => order(`hold-${variant}-${i}`, new Date(exposed.getTime() + DAY), 0)));
  orders.push(order('hold-a-unsent', new Date(exposed.getTime() + 2 * DAY), 0));
  // After the 3-day window, and a status other than confirmed: not conversions.
  orders.push(order('hold-holdout-50', new Date(exposed.getTime() + 4 * DAY), 0), { ...order('hold-b-60', new Date(exposed.getTime() + DAY), 1), status: 'shipped' });
  await h.db.orderEvent.createMany({ data: orders });

  const res = await h.api('GET', '/v1/experiments/exp-holdout/results');
  expect(res.status).toBe(200);
  const [a, b, holdout] = res.body.variants;
  expect([a.variant, b.variant, holdout.variant]).toEqual(['a', 'b', 'holdout']);
  expect(a).toMatchObject({ assigned: 101, exposed: 100, conversions: 21, maturing: 0, sent: 0 });
  expect(b).toMatchObject({ assigned: 100, conversions: 30, maturing: 0 });
  expect(holdout).toMatchObject({ assigned: 100, conversions: 10, conversionRate: 0.1, isControl: false, vsHoldout: null });
  // b against the holdout: 30% vs 10%, a lift of (0.3 - 0.1) / 0.1 = 2.
  expect(b.vsHoldout.lift).toBeCloseTo(2, 10);
  expect(b.vsHoldout).toEqual({ baseline: 'holdout', ...compareProportions(30, 100, 10, 100) });
  expect(b.vsControl).toEqual({ baseline: 'a', ...compareProportions(30, 100, 21, 101) });
  expect(holdout.vsControl).toEqual({ baseline: 'a', ...compareProportions(10, 100, 21, 101) });
  expect(a.vsHoldout).toEqual({ baseline: 'holdout', ...compareProportions(21, 101, 10, 100) });
  expect(holdout.conversionRateInterval).toEqual(proportionInterval(10, 100));
  expect(res.body.firstExposedAt).toBe(new Date(exposed.getTime()).toISOString());
});

test('the dashboard lists the experiments and shows the picked one\'s results, with its chart', async () => {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    // CSP violations and script errors show up here.
    page.on('console', (m) => m.type() === 'error' && !/Failed to load resource.*404/.test(m.text()) && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(e.message));
    await page.addInitScript((key) => (globalThis as any).sessionStorage.setItem('herald.dashboard.apiKey', key), h.adminKey);
    await page.goto(`${h.stack.apiUrl}/dashboard#experiments-title`);
    // The newest experiment comes first: the holdout case.
    const holdoutRow = page.locator('#experiment-results tr[data-variant="holdout"]');
    await holdoutRow.waitFor({ timeout: 60_000 });
    const cells = async (variant: string) => page.locator(`#experiment-results tr[data-variant="${variant}"] > *`).allInnerTexts();
    const header = await page.locator('#experiment-results thead th').allInnerTexts();
    const row = (texts: string[]) => Object.fromEntries(header.map((h, i) => [h, texts[i]]));
    expect(row(await cells('b'))).toMatchObject({ Variant: 'b', Assigned: '100', Conversions: '30', 'Conversion rate': '30.0%', 'Lift vs holdout': '+200.0%' });
    expect(row(await cells('holdout'))).toMatchObject({ Conversions: '10', 'Lift vs holdout': '-' });
    expect(await page.locator('#chart-experiment').getAttribute('aria-label')).toMatch(/^Conversion rate per variant: a 20\.79% .*; b 30\.0% .*; holdout 10\.0% /);
    expect(await page.locator('#experiment-summary').innerText()).toContain(`b vs a: lift +44.3%, p = ${compareProportions(30, 100, 21, 101).pValue!.toFixed(4)}`);

    await page.locator('#experiment-select').selectOption(EXPERIMENT);
    await page.locator('#experiment-results tr[data-variant="short"]').waitFor();
    const results = (await h.api('GET', `/v1/experiments/${EXPERIMENT}/results`)).body;
    const short = results.variants.find((v: any) => v.variant === 'short');
    expect(row(await cells('short'))).toMatchObject({ Variant: 'short', Assigned: String(short.assigned), Conversions: String(short.conversions), 'p-value vs control': short.vsControl.pValue.toFixed(4) });
    expect(row(await cells('warm'))).toMatchObject({ Variant: 'warm (control)', 'Lift vs control': '-' });
    await page.locator('#experiments').screenshot({ path: '/tmp/herald-experiments.png' });
    expect(problems).toEqual([]);
  } finally {
    await browser.close();
  }
}, 120_000);
