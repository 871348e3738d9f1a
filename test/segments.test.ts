// Segments on the real stack: customers, orders, carts, watches, consents and preferences made through the API,
// then segments put and previewed through the API, each picking exactly the customers it should. Also the rule
// tree's validation (400 naming the node's path), 404 and 409, the customer's country, and the plan PostgreSQL
// makes of a segment: one statement, using the OrderEvent status index.
import type { SegmentRule } from '../domain';
import { Prisma } from '../lib/db';
import { countSegment, pageSegment, segmentCountQuery } from '../store/segments';
import { eventually, iosToken, useHarness } from './support/harness';

const h = useHarness();

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

// The customers (ids sort in this order):
// - a: fr-CA in Canada; two orders: one delivered 35 days ago (its total, 60, only on its confirmed event), one placed 10 days ago (50).
// - b: fr in France; one order placed 100 days ago and delivered, its total revised from 150 to 140 by the delivered event; email marketing consent.
// - c: en-US; no orders; a cart left 48 hours ago; watches FP-M-BLK for a restock; an iPhone.
// - d: en-GB; one order placed 5 days ago, then cancelled (20); a cart updated an hour ago; a price-drop watch; email consent given, then withdrawn.
// - e: de, no country; three orders in the last 3 days (30, 25, 45.5: 100.5), none delivered; promotions consent and opt-in by email.
// - g: a bare profile created 400 days ago.
const A = 'sg-a';
const B = 'sg-b';
const C = 'sg-c';
const D = 'sg-d';
const E = 'sg-e';
const G = 'sg-g';
const EVERYONE = [A, B, C, D, E, G];

let seq = 0;
async function order(customerId: string, orderId: string, status: string, occurredAgoMs: number, data: Record<string, unknown> = {}) {
  const res = await h.api('POST', '/v1/order-events', {
    eventId: `sg-evt-${orderId}-${status}-${++seq}`,
    orderId,
    customerId,
    status,
    occurredAt: ago(occurredAgoMs),
    source: 'oms',
    data,
  });
  expect(res.status).toBe(202);
}

async function cart(customerId: string, cartId: string, updatedAgoMs: number) {
  const res = await h.api('POST', '/v1/cart-events', {
    eventId: `sg-cart-${cartId}-${++seq}`,
    cartId,
    customerId,
    type: 'updated',
    occurredAt: ago(updatedAgoMs),
    items: [{ sku: 'NB-A5', name: 'Dotted notebook', quantity: 1, unitPrice: '12.50' }],
    currency: 'EUR',
    total: '12.50',
  });
  expect(res.status).toBe(202);
}

async function put(customerId: string, profile: Record<string, unknown>) {
  const res = await h.api('PUT', `/v1/customers/${customerId}`, profile);
  expect(res.status).toBe(201);
  return res.body;
}

async function consent(customerId: string, category: string, granted: boolean) {
  expect((await h.api('POST', `/v1/customers/${customerId}/consents`, { channel: 'email', category, granted, source: 'test' })).status).toBe(201);
}

beforeAll(async () => {
  await put(A, { name: 'Amélie', email: 'amelie@shop.example', locale: 'fr-CA', country: 'CA', timeZone: 'America/Toronto' });
  await put(B, { name: 'Bruno', email: 'bruno@shop.example', locale: 'fr', country: 'fr', timeZone: 'Europe/Paris' });
  await put(C, { name: 'Chen', locale: 'en-US', country: 'US', timeZone: 'America/New_York' });
  await put(D, { name: 'Dana', email: 'dana@shop.example', locale: 'en-GB', country: 'GB', timeZone: 'Europe/London' });
  await put(E, { name: 'Eve', locale: 'de' });
  await put(G, { name: 'Gus' });
  // The API cannot backdate a profile: the shop's oldest customer is made so here.
  await h.db.$executeRaw`UPDATE "Customer" SET "createdAt" = now() - interval '400 days' WHERE id = ${G}`;

  await order(A, 'sg-a1', 'confirmed', 40 * DAY, { total: '60.00' });
  await order(A, 'sg-a1', 'delivered', 35 * DAY);
  await order(A, 'sg-a2', 'confirmed', 10 * DAY, { total: 50 });
  await order(B, 'sg-b1', 'confirmed', 100 * DAY, { total: '150.00' });
  await order(B, 'sg-b1', 'delivered', 95 * DAY, { total: '140.00' });
  await order(D, 'sg-d1', 'confirmed', 5 * DAY, { total: 20 });
  await order(D, 'sg-d1', 'cancelled', 4 * DAY);
  await order(E, 'sg-e1', 'confirmed', 3 * DAY, { total: '30' });
  await order(E, 'sg-e2', 'confirmed', 2 * DAY, { total: 25 });
  await order(E, 'sg-e3', 'confirmed', 1 * DAY, { total: 45.5 });

  // After the orders, so no order ends the carts.
  await cart(C, 'sg-cart-c', 48 * HOUR);
  await cart(D, 'sg-cart-d', 1 * HOUR);

  expect((await h.api('POST', `/v1/customers/${C}/watches`, { sku: 'FP-M-BLK', kind: 'restock' })).status).toBe(201);
  expect((await h.api('POST', `/v1/customers/${D}/watches`, { sku: 'NB-A5', kind: 'price_drop' })).status).toBe(201);
  expect((await h.api('POST', `/v1/customers/${C}/devices`, { deviceId: 'sg-c-iphone', platform: 'ios', token: iosToken('sg-c') })).status).toBe(201);

  await consent(B, 'marketing', true);
  await consent(D, 'marketing', true);
  await consent(D, 'marketing', false);
  await consent(E, 'promotions', true);
  expect((await h.api('PUT', `/v1/customers/${E}/preferences`, { preferences: [{ channel: 'email', category: 'promotions', optedIn: true }] })).status).toBe(200);
}, 120_000);

let segmentSeq = 0;

/** Puts the rule as a new segment and previews it: the customers it picks, checked against its size, count and sample. */
async function picks(rule: unknown): Promise<string[]> {
  const segmentId = `sg-rule-${++segmentSeq}`;
  const saved = await h.api('PUT', `/v1/segments/${segmentId}`, { name: `rule ${segmentSeq}`, rule });
  expect({ status: saved.status, error: saved.body.error }).toEqual({ status: 201, error: undefined });
  const preview = await h.api('GET', `/v1/segments/${segmentId}/preview?sample=100`);
  expect(preview.status).toBe(200);
  const ids = preview.body.sample.map((s: { customerId: string }) => s.customerId);
  expect(preview.body.count).toBe(ids.length);
  expect(saved.body.size).toBe(ids.length);
  // The sample is by id.
  expect([...ids].sort()).toEqual(ids);
  return ids;
}

const except = (...ids: string[]) => EVERYONE.filter((id) => !ids.includes(id));

test('order history: a status reached, the last order within N days, how many orders, how much spent', async () => {
  expect(await picks({ orders: { status: ['delivered'] } })).toEqual([A, B]);
  expect(await picks({ orders: { status: ['confirmed'], withinDays: 30 } })).toEqual([A, D, E]);
  expect(await picks({ orders: { withinDays: 30 } })).toEqual([A, D, E]);
  expect(await picks({ orders: { status: ['delivered'], withinDays: 60 } })).toEqual([A]);
  expect(await picks({ orders: {} })).toEqual([A, B, D, E]);
  expect(await picks({ orders: { count: { min: 2 } } })).toEqual([A, E]);
  expect(await picks({ orders: { count: { min: 1, max: 1 } } })).toEqual([B, D]);
  // A customer without orders has none: max 0 picks them.
  expect(await picks({ orders: { count: { max: 0 } } })).toEqual([C, G]);
  expect(await picks({ orders: { status: ['confirmed'], withinDays: 7, count: { min: 3 } } })).toEqual([E]);
  // Totals as numbers and as decimal strings; each order once, with its last total (b's order is 140, not 150 nor 290).
  expect(await picks({ orders: { totalSpent: { min: 100 } } })).toEqual([A, B, E]);
  expect(await picks({ orders: { totalSpent: { min: 120, max: 145 } } })).toEqual([B]);
  expect(await picks({ orders: { totalSpent: { min: 100.5, max: 100.5 } } })).toEqual([E]);
  // The qualifying order's total, whichever of its events carried it: a's delivered order is 60 by its confirmed event.
  expect(await picks({ orders: { status: ['delivered'], totalSpent: { min: 50 } } })).toEqual([A, B]);
  expect(await picks({ orders: { status: ['confirmed'], withinDays: 30, totalSpent: { max: 60 } } })).toEqual([A, B, C, D, G]);
});

test("an order's current status, as its workflow recorded it", async () => {
  // The Order row is the workflow's: it is there once the events are applied.
  await eventually(async () => expect(await h.db.order.findUnique({ where: { orderId: 'sg-d1' } })).toMatchObject({ status: 'cancelled' }), 60_000);
  await eventually(async () => expect(await h.db.order.findUnique({ where: { orderId: 'sg-a1' } })).toMatchObject({ status: 'delivered' }), 60_000);
  expect(await picks({ orders: { currentStatus: ['cancelled'] } })).toEqual([D]);
  expect(await picks({ orders: { currentStatus: ['delivered', 'cancelled'], withinDays: 30 } })).toEqual([D]);
});

test('carts, watches, reachability', async () => {
  expect(await picks({ openCart: { olderThanHours: 24 } })).toEqual([C]);
  expect(await picks({ openCart: { olderThanHours: 0 } })).toEqual([C, D]);
  expect(await picks({ watches: { sku: 'FP-M-BLK' } })).toEqual([C]);
  expect(await picks({ watches: { kind: 'price_drop' } })).toEqual([D]);
  expect(await picks({ watches: {} })).toEqual([C, D]);
  expect(await picks({ watches: { sku: 'FP-M-BLK', kind: 'price_drop' } })).toEqual([]);
  expect(await picks({ reachable: 'email' })).toEqual([A, B, D]);
  expect(await picks({ reachable: 'push' })).toEqual([C]);
  expect(await picks({ reachable: 'sms' })).toEqual([]);
});

test('attributes: a language matches its regional forms, countries in either case, zones, ids, the created date', async () => {
  expect(await picks({ attribute: 'locale', in: ['fr'] })).toEqual([A, B]);
  expect(await picks({ attribute: 'locale', in: ['fr-CA'] })).toEqual([A]);
  expect(await picks({ attribute: 'locale', in: ['en', 'de'] })).toEqual([C, D, E, G]);
  expect(await picks({ attribute: 'country', in: ['FR'] })).toEqual([B]);
  expect(await picks({ attribute: 'country', in: ['ca', 'gb'] })).toEqual([A, D]);
  expect(await picks({ attribute: 'timeZone', in: ['Europe/Paris', 'UTC'] })).toEqual([B, E, G]);
  expect(await picks({ customerIds: [C, A, 'sg-nobody'] })).toEqual([A, C]);
  expect(await picks({ created: { olderThanDays: 365 } })).toEqual([G]);
  expect(await picks({ created: { withinDays: 1 } })).toEqual(except(G));
});

test('consent and preferences: the latest record covering the category decides', async () => {
  expect(await picks({ consent: { channel: 'email', category: 'marketing', granted: true } })).toEqual([B]);
  // A class grant covers its topics; a topic grant does not cover its class.
  expect(await picks({ consent: { channel: 'email', category: 'promotions', granted: true } })).toEqual([B, E]);
  expect(await picks({ consent: { channel: 'email', category: 'marketing', granted: false } })).toEqual([D]);
  expect(await picks({ consent: { channel: 'sms', category: 'marketing', granted: true } })).toEqual([]);
  expect(await picks({ preference: { channel: 'email', category: 'promotions', optedIn: true } })).toEqual([E]);
});

test('all, any and not combine them, and not means exactly not', async () => {
  expect(await picks({ any: [{ all: [{ attribute: 'locale', in: ['fr'] }, { orders: { count: { min: 2 } } }] }, { openCart: { olderThanHours: 24 } }] })).toEqual([A, C]);
  // Ordered, but nothing delivered.
  expect(await picks({ all: [{ orders: {} }, { not: { orders: { status: ['delivered'] } } }] })).toEqual([D, E]);
  // A customer without a country is not in France.
  expect(await picks({ not: { attribute: 'country', in: ['FR'] } })).toEqual(except(B));
  // not (two orders and 105 spent): a is the only one with both.
  expect(await picks({ not: { orders: { count: { min: 2 }, totalSpent: { min: 105 } } } })).toEqual(except(A));
  expect(await picks({ not: { consent: { channel: 'email', category: 'marketing', granted: true } } })).toEqual(except(B));
  expect(await picks({ all: [] })).toEqual(EVERYONE);
  expect(await picks({ not: { all: [] } })).toEqual([]);
  expect(
    await picks({
      all: [
        { any: [{ attribute: 'country', in: ['CA', 'FR', 'GB'] }, { attribute: 'locale', in: ['de'] }] },
        { not: { any: [{ orders: { status: ['cancelled'] } }, { reachable: 'email' }] } },
      ],
    }),
  ).toEqual([E]);
});

test('a campaign walks a segment in pages by id, as many as the count says', async () => {
  const rule: SegmentRule = { not: { attribute: 'country', in: ['FR'] } };
  const now = new Date();
  const first = await pageSegment(h.db, rule, null, 3, now);
  const second = await pageSegment(h.db, rule, first[first.length - 1]!, 3, now);
  const third = await pageSegment(h.db, rule, second[second.length - 1]!, 3, now);
  expect([first, second, third]).toEqual([[A, C, D], [E, G], []]);
  expect(await countSegment(h.db, rule, now)).toBe(5);
});

test('put creates then replaces, get shows the size now, the list pages, the sample is bounded', async () => {
  const rule = { orders: { status: ['delivered'] } };
  const created = await h.api('PUT', '/v1/segments/sg-crud', { name: 'Delivered', description: 'at least one', rule });
  expect(created).toMatchObject({ status: 201, body: { segmentId: 'sg-crud', name: 'Delivered', description: 'at least one', rule, size: 2 } });
  const replaced = await h.api('PUT', '/v1/segments/sg-crud', { name: 'Delivered twice', rule: { orders: { status: ['delivered'], count: { min: 2 } } } });
  expect(replaced).toMatchObject({ status: 200, body: { name: 'Delivered twice', description: null, size: 0, createdAt: created.body.createdAt } });
  expect(await h.api('GET', '/v1/segments/sg-crud')).toMatchObject({ status: 200, body: { name: 'Delivered twice', size: 0 } });

  const preview = await h.api('GET', '/v1/segments/sg-rule-1/preview?sample=1');
  expect(preview.body).toMatchObject({ count: 2, sample: [{ customerId: A, name: 'Amélie', locale: 'fr-CA', country: 'CA', timeZone: 'America/Toronto' }] });
  expect((await h.api('GET', '/v1/segments/sg-rule-1/preview?sample=0')).body).toMatchObject({ count: 2, sample: [] });

  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { status: number; body: any } = await h.api('GET', `/v1/segments?limit=7${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    seen.push(...page.body.items.map((s: { segmentId: string }) => s.segmentId));
    cursor = page.body.nextCursor;
  } while (cursor);
  const all = await h.db.segment.findMany({ orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], select: { id: true } });
  expect(seen).toEqual(all.map((s) => s.id));
  expect(seen.length).toBeGreaterThan(7);
});

test('a bad rule is a 400 naming the node, an unknown segment a 404, a segment in use a 409', async () => {
  const bad = async (rule: unknown) => {
    const res = await h.api('PUT', '/v1/segments/sg-bad', { name: 'bad', rule });
    expect(res.status).toBe(400);
    return res.body.error.fields;
  };
  expect(await bad({ all: [{ reachable: 'email' }, { orders: { status: ['posted'] } }] })).toEqual([
    { field: 'rule.all.1.orders.status.0', reason: expect.stringContaining('must be one of confirmed') },
  ]);
  expect(await bad({ all: [{ orders: { withinDays: 1.5 } }] })).toEqual([{ field: 'rule.all.0.orders.withinDays', reason: 'must be a whole number' }]);
  expect(await bad({ orders: { count: { min: 3, max: 1 } } })).toEqual([{ field: 'rule.orders.count.max', reason: 'must be at least min (3)' }]);
  expect(await bad({ orders: { totalSpent: {} } })).toEqual([{ field: 'rule.orders.totalSpent', reason: 'must give min, max or both' }]);
  let deep: unknown = { reachable: 'email' };
  for (let i = 0; i < 8; i++) deep = { not: deep };
  expect(await bad(deep)).toEqual([{ field: 'rule.not.not.not.not.not.not.not.not', reason: 'nests deeper than 8 levels' }]);
  // Thousands deep is the same 400, found before the tree is walked.
  // (Written out by hand: JSON.stringify itself recurses.)
  const deeper = await h.api('PUT', '/v1/segments/sg-bad', `{"name":"bad","rule":${'{"not":'.repeat(5000)}{"all":[]}${'}'.repeat(5000)}}`);
  expect(deeper.status).toBe(400);
  // So deep that the API's own JSON depth limit (api/json-depth.ts) refuses the body before the rule's is checked.
  expect(deeper.body.error.fields[0].reason).toBe('nested deeper than 32 levels');
  const nine = await h.api('PUT', '/v1/segments/sg-bad', `{"name":"bad","rule":${'{"not":'.repeat(9)}{"all":[]}${'}'.repeat(9)}}`);
  expect(nine.status).toBe(400);
  expect(nine.body.error.fields[0].reason).toBe('nests deeper than 8 levels');
  expect(await bad({ any: Array.from({ length: 51 }, () => ({ all: [{ reachable: 'email' }, { reachable: 'sms' }] })) })).toEqual([
    { field: 'rule', reason: 'holds 102 conditions; at most 100' },
  ]);
  expect(await bad({ orders: {}, reachable: 'email' })).toEqual([{ field: 'rule', reason: expect.stringContaining('holds reachable and orders') }]);
  expect(await bad({})).toEqual([{ field: 'rule', reason: expect.stringContaining('must hold exactly one of all, any, not') }]);
  expect(await bad({ attribute: 'country', in: ['FRA'] })).toEqual([{ field: 'rule.in.0', reason: expect.stringContaining('ISO 3166-1 alpha-2') }]);
  expect(await bad({ attribute: 'locale' })).toEqual([{ field: 'rule.in', reason: 'is required with attribute' }]);
  expect(await bad({ preference: { channel: 'email', category: 'news', optedIn: true } })).toEqual([{ field: 'rule.preference.category', reason: expect.stringContaining('promotions') }]);
  expect(await bad({ watches: { kind: 'restock', size: 'M' } })).toEqual([{ field: 'rule.watches', reason: expect.stringContaining('size') }]);
  expect(await h.db.segment.findUnique({ where: { id: 'sg-bad' } })).toBeNull();

  expect(await h.api('GET', '/v1/segments/sg-none')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
  expect((await h.api('GET', '/v1/segments/sg-none/preview')).status).toBe(404);
  expect((await h.api('DELETE', '/v1/segments/sg-none')).status).toBe(404);
  expect((await h.api('GET', '/v1/segments/sg-rule-1/preview?sample=101')).body.error.fields).toEqual([{ field: 'sample', reason: 'must be at most 100' }]);

  expect((await h.api('PUT', '/v1/segments/sg-used', { name: 'used', rule: { reachable: 'email' } })).status).toBe(201);
  await h.db.$executeRaw`INSERT INTO "Campaign" (id, name, "segmentId", category, channels, templates, schedule, "updatedAt")
    VALUES ('sg-campaign', 'Spring', 'sg-used', 'promotions', ARRAY['email']::"Channel"[], '{}'::jsonb, '{"type":"now"}'::jsonb, now())`;
  expect(await h.api('DELETE', '/v1/segments/sg-used')).toMatchObject({
    status: 409,
    body: { error: { code: 'segment_in_use', fields: [{ field: 'campaignId', reason: 'sg-campaign targets this segment' }] } },
  });
  expect((await h.api('GET', '/v1/segments/sg-used')).status).toBe(200);
  await h.db.$executeRaw`DELETE FROM "Campaign" WHERE id = 'sg-campaign'`;
  expect((await h.api('DELETE', '/v1/segments/sg-used')).status).toBe(204);
  expect((await h.api('GET', '/v1/segments/sg-used')).status).toBe(404);
});

test("the customer's country: two letters, kept upper-case, null clears it", async () => {
  expect((await h.api('GET', `/v1/customers/${B}`)).body.country).toBe('FR');
  expect(await h.api('PUT', '/v1/customers/sg-country', { country: 'de' })).toMatchObject({ status: 201, body: { country: 'DE' } });
  expect((await h.api('PUT', '/v1/customers/sg-country', { name: 'Kai' })).body.country).toBe('DE');
  const bad = await h.api('PUT', '/v1/customers/sg-country', { country: 'DEU' });
  expect(bad.status).toBe(400);
  expect(bad.body.error.fields).toEqual([{ field: 'country', reason: 'must be an ISO 3166-1 alpha-2 country code such as FR' }]);
  expect((await h.api('PUT', '/v1/customers/sg-country', { country: null })).body.country).toBeNull();
  await h.db.customer.delete({ where: { id: 'sg-country' } });
});

test('a segment is one SQL statement, and a status rule uses the OrderEvent status index', async () => {
  const rule: SegmentRule = { all: [{ orders: { status: ['returned'], withinDays: 30 } }, { not: { attribute: 'country', in: ['FR'] } }] };
  const query = segmentCountQuery(rule);
  expect(query.sql.includes(';')).toBe(false);
  expect(query.sql.trim()).toMatch(/^SELECT count\(\*\)/);
  // A shop's worth of order history for other customers, a status rule's status rare in it, and fresh statistics.
  await h.db.$executeRaw`INSERT INTO "OrderEvent" ("eventId", "orderId", "customerId", status, "occurredAt", source, data, "signalledAt", disposition)
    SELECT 'sg-bulk-' || n, 'sg-bulk-o' || (n / 3), 'sg-bulk-c' || (n / 9), CASE WHEN n % 500 = 0 THEN 'returned' ELSE 'confirmed' END,
      now() - (n % 400) * interval '1 day', 'bulk', '{}'::jsonb, now(), 'announced'::"EventDisposition"
    FROM generate_series(1, 30000) n`;
  await h.db.$executeRaw`ANALYZE "OrderEvent"`;
  const [plan] = await h.db.$queryRaw<Array<{ 'QUERY PLAN': unknown }>>(Prisma.sql`EXPLAIN (FORMAT JSON) ${query}`);
  const text = JSON.stringify(plan!['QUERY PLAN']);
  expect(text).toContain('OrderEvent_status_customerId_occurredAt_idx');
  expect(text).not.toMatch(/"Relation Name":"OrderEvent"[^}]*"Node Type":"Seq Scan"|"Node Type":"Seq Scan"[^}]*"Relation Name":"OrderEvent"/);
  // The bulk history belongs to no profile: the segments above still pick the same customers.
  expect(await picks({ orders: { status: ['delivered'] } })).toEqual([A, B]);
});
