// The quarantine on the real stack: an invalid critical event is kept and listed first with its reason, fixed with
// PATCH, replayed through intake, and its notification reaches the APNs fake once, however often it is replayed;
// a fix that is still invalid stays open with its new errors; the list's filters and paging; the bulk replay
// with a filter, called again; the rejects metric by source and reason.
import { eventually, iosToken, orderEvent, useHarness } from './support/harness';

const h = useHarness({ env: { HERALD_DIGEST_WINDOW: '0' } });

const CUSTOMER = 'q-ada';
const TOKEN = iosToken('q-ada');

beforeAll(async () => {
  expect((await h.api('PUT', `/v1/customers/${CUSTOMER}`, { name: 'Ada', locale: 'en' })).status).toBe(201);
  expect((await h.api('POST', `/v1/customers/${CUSTOMER}/devices`, { deviceId: 'q-ada-iphone', platform: 'ios', token: TOKEN })).status).toBe(201);
});

/** Posts an event intake refuses; answers the id it is kept under. */
async function reject(body: unknown): Promise<string> {
  const res = await h.api('POST', '/v1/order-events', body);
  expect(res.status).toBe(400);
  expect(res.body.rejectedEventId).toEqual(expect.any(String));
  return res.body.rejectedEventId as string;
}

/** The pushes APNs received for the customer's iPhone about an order, by status. */
const pushesFor = (orderId: string) =>
  h.apns
    .requestsFor(TOKEN)
    .map((r) => r.body as { orderId?: string; status?: string })
    .filter((b) => b.orderId === orderId)
    .map((b) => b.status);

const list = async (query: string) => {
  const res = await h.api('GET', `/v1/rejected-events?${query}`);
  expect(res.status).toBe(200);
  return res.body as { items: any[]; nextCursor: string | null; total: number };
};

test('reject, fix, replay: listed first with its reason, notified once however often it is replayed', async () => {
  const shipped = { ...orderEvent('q-ord-1', CUSTOMER, 'shipped', { data: { carrier: 'UPS' } }), source: 'q-cycle', occurredAt: '01/12/2026 09:30' };
  const routine = await reject({ ...orderEvent('q-ord-1', CUSTOMER, 'packed'), source: 'q-cycle', occurredAt: 'yesterday' });
  const id = await reject(shipped);

  // Critical first, although it came later; with its reason and state.
  const page = await list('source=q-cycle');
  expect(page.total).toBe(2);
  expect(page.items.map((r) => r.rejectedEventId)).toEqual([id, routine]);
  expect(page.items[0]).toMatchObject({
    eventId: shipped.eventId, orderId: 'q-ord-1', status: 'shipped', critical: true, reason: 'invalid_field', state: 'open', source: 'q-cycle', sourceId: null,
    errors: [{ field: 'occurredAt', reason: expect.stringContaining('ISO-8601') }], payload: shipped, originalPayload: null, replayCount: 0, lastReplayAt: null,
  });
  expect((await h.api('GET', `/v1/rejected-events/${id}`)).body).toEqual(page.items[0]);

  // Replayed as it is, it is refused again: 422 with the same field, still open, the replay counted.
  const unfixed = await h.api('POST', `/v1/rejected-events/${id}/replay`);
  expect(unfixed.status).toBe(422);
  expect(unfixed.body.error).toMatchObject({ code: 'validation_failed', fields: [{ field: 'occurredAt', reason: expect.stringContaining('ISO-8601') }] });
  expect(unfixed.body.rejectedEvent).toMatchObject({ state: 'open', replayCount: 1, lastReplayAt: expect.any(String), replayedAt: null });

  // The fix: the time as ISO-8601; the payload that came is kept, once (a second fix keeps the first original).
  const fixed = { ...shipped, occurredAt: '2026-12-01T09:30:00Z' };
  const patched = await h.api('PATCH', `/v1/rejected-events/${id}`, { payload: { ...fixed, data: {} } });
  expect(patched.status).toBe(200);
  expect(patched.body).toMatchObject({ payload: { ...fixed, data: {} }, originalPayload: shipped, state: 'open' });
  const again = await h.api('PATCH', `/v1/rejected-events/${id}`, { payload: fixed });
  expect(again.body).toMatchObject({ payload: fixed, originalPayload: shipped });
  expect(Date.parse(again.body.updatedAt)).toBeGreaterThan(Date.parse(again.body.receivedAt));

  const replay = await h.api('POST', `/v1/rejected-events/${id}/replay`);
  expect(replay.status).toBe(200);
  expect(replay.body).toMatchObject({
    outcome: 'accepted',
    accepted: { eventId: shipped.eventId, workflowId: 'order:q-ord-1', duplicate: false },
    ignoredReason: null,
    rejectedEvent: { state: 'replayed', replayCount: 2, replayedEventId: shipped.eventId, replayedAt: expect.any(String) },
  });
  await eventually(() => expect(pushesFor('q-ord-1')).toEqual(['shipped']), 60_000);
  expect(h.apns.requestsFor(TOKEN).find((r) => (r.body as any).orderId === 'q-ord-1')!.headers['apns-priority']).toBe('10');

  // Replayed once more: 409, and it cannot be changed any more.
  const twice = await h.api('POST', `/v1/rejected-events/${id}/replay`);
  expect(twice.status).toBe(409);
  expect(twice.body.error.code).toBe('already_replayed');
  expect((await h.api('PATCH', `/v1/rejected-events/${id}`, { state: 'discarded' })).status).toBe(409);
  // Gone from the open list, there with ?status=replayed.
  expect((await list('source=q-cycle')).items.map((r) => r.rejectedEventId)).toEqual([routine]);
  expect((await list('source=q-cycle&status=replayed')).items.map((r) => r.rejectedEventId)).toEqual([id]);

  // The OMS had sent the same bad event twice: its second copy, fixed and replayed, is a duplicate of the accepted one.
  const copy = await reject(shipped);
  expect((await h.api('PATCH', `/v1/rejected-events/${copy}`, { payload: fixed })).status).toBe(200);
  const duplicate = await h.api('POST', `/v1/rejected-events/${copy}/replay`);
  expect(duplicate.status).toBe(200);
  expect(duplicate.body).toMatchObject({ accepted: { eventId: shipped.eventId, duplicate: true }, rejectedEvent: { state: 'replayed' } });

  // A later event of the order is announced after anything a replay might have signalled: still one shipped push.
  expect((await h.api('POST', '/v1/order-events', { ...orderEvent('q-ord-1', CUSTOMER, 'delivered'), occurredAt: '2026-12-01T15:00:00Z' })).status).toBe(202);
  await eventually(() => expect(pushesFor('q-ord-1')).toEqual(['shipped', 'delivered']), 60_000);
  const history = await h.api('GET', '/v1/orders/q-ord-1/notifications?channel=push');
  expect(history.body.items.map((n: any) => n.type).sort()).toEqual(['order.delivered', 'order.shipped']);
}, 120_000);

test('a fix that is still invalid stays open with the new errors and reason', async () => {
  const sent = { ...orderEvent('q-ord-2', CUSTOMER, 'shiped'), source: 'q-refix' };
  const id = await reject(sent);
  expect((await h.api('GET', `/v1/rejected-events/${id}`)).body).toMatchObject({ critical: false, reason: 'invalid_field', errors: [{ field: 'status' }] });

  // The status fixed, but the customer left out: the row now reads as critical (its columns follow the fixed payload).
  const withoutCustomer: Record<string, unknown> = { ...sent, status: 'cancelled' };
  delete withoutCustomer.customerId;
  const patched = await h.api('PATCH', `/v1/rejected-events/${id}`, { payload: withoutCustomer });
  expect(patched.body).toMatchObject({ critical: true, status: 'cancelled', errors: [{ field: 'status' }] });

  const replay = await h.api('POST', `/v1/rejected-events/${id}/replay`);
  expect(replay.status).toBe(422);
  expect(replay.body.error.fields).toEqual([{ field: 'customerId', reason: 'is required' }]);
  expect(replay.body.rejectedEvent).toMatchObject({ state: 'open', reason: 'missing_field', errors: [{ field: 'customerId', reason: 'is required' }] });
  expect((await list('reason=missing_field&source=q-refix')).items.map((r) => r.rejectedEventId)).toEqual([id]);
  expect((await list('reason=invalid_field&source=q-refix')).items).toEqual([]);
  expect(pushesFor('q-ord-2')).toEqual([]);

  // Discarded: out of the default list, nothing to replay; opened again, it is back.
  expect((await h.api('PATCH', `/v1/rejected-events/${id}`, { state: 'discarded' })).body.state).toBe('discarded');
  expect((await list('source=q-refix')).total).toBe(0);
  expect((await list('source=q-refix&status=discarded')).items.map((r) => r.rejectedEventId)).toEqual([id]);
  expect((await h.api('POST', `/v1/rejected-events/${id}/replay`)).body.error.code).toBe('rejected_event_discarded');
  expect((await h.api('PATCH', `/v1/rejected-events/${id}`, { state: 'open' })).body.state).toBe('open');
  expect((await list('source=q-refix')).total).toBe(1);

  // Bad requests name the field.
  expect((await h.api('PATCH', `/v1/rejected-events/${id}`, {})).body.error.fields).toEqual([{ field: '(body)', reason: 'must give payload or state' }]);
  expect((await h.api('PATCH', `/v1/rejected-events/${id}`, { state: 'replayed' })).body.error.fields).toEqual([{ field: 'state', reason: 'must be open or discarded' }]);
  expect((await h.api('PATCH', `/v1/rejected-events/${id}`, { payload: [1] })).body.error.fields).toEqual([{ field: 'payload', reason: expect.stringContaining('JSON object') }]);
  expect((await h.api('GET', '/v1/rejected-events/00000000-0000-4000-8000-000000000000')).status).toBe(404);
  expect((await h.api('POST', '/v1/rejected-events/00000000-0000-4000-8000-000000000000/replay')).status).toBe(404);
  // Fixing and replaying are for admin keys; reading for read keys.
  const ingest = (await h.api('POST', '/v1/api-keys', { name: 'q-ingest', scopes: ['ingest'] })).body.key as string;
  const read = (await h.api('POST', '/v1/api-keys', { name: 'q-read', scopes: ['read'] })).body.key as string;
  expect((await h.api('PATCH', `/v1/rejected-events/${id}`, { state: 'discarded' }, ingest)).status).toBe(403);
  expect((await h.api('POST', `/v1/rejected-events/${id}/replay`, undefined, read)).status).toBe(403);
  expect((await h.api('GET', `/v1/rejected-events/${id}`, undefined, read)).status).toBe(200);
});

test('filters and paging: by source, reason, status sent, criticality and time, the cursor holding across filters', async () => {
  const started = new Date();
  const ids: Record<string, string> = {};
  for (const [name, status] of [['c1', 'shipped'], ['r1', 'packed'], ['c2', 'delayed'], ['r2', 'packed'], ['c3', 'cancelled']] as const) {
    ids[name] = await reject({ ...orderEvent(`q-ord-f-${name}`, CUSTOMER, status), source: 'q-filter', occurredAt: 'now' });
  }
  // Not a JSON object: not_json, with no source of its own.
  const notJson = await reject([{ source: 'q-filter' }]);
  expect((await h.api('GET', `/v1/rejected-events/${notJson}`)).body).toMatchObject({ reason: 'not_json', source: null, critical: false });
  // A configured source's event (as the sources pipeline keeps one): found by its sourceId.
  const fromSource = await h.db.rejectedEvent.create({
    data: { sourceId: 'q-shop-eu', source: null, orderId: 'q-ord-f-s', status: 'orders/paid', payload: { id: 820982911946154 }, errors: [{ field: 'customerId', reason: 'is required' }], reason: 'missing_field', headers: { 'x-shopify-topic': 'orders/paid' } },
  });

  // Critical first, then newest; two a page, the total on every page.
  const order = [ids.c3, ids.c2, ids.c1, ids.r2, ids.r1];
  const seen: string[] = [];
  let cursor: string | null = null;
  do {
    const page = await list(`source=q-filter&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.total).toBe(5);
    seen.push(...page.items.map((r) => r.rejectedEventId));
    cursor = page.nextCursor;
  } while (cursor);
  expect(seen).toEqual(order);

  expect((await list('source=q-filter&critical=false')).items.map((r) => r.rejectedEventId)).toEqual([ids.r2, ids.r1]);
  expect((await list('source=q-filter&critical=true&limit=1')).items.map((r) => r.rejectedEventId)).toEqual([ids.c3]);
  expect((await list('source=q-filter&orderStatus=packed')).items.map((r) => r.rejectedEventId)).toEqual([ids.r2, ids.r1]);
  expect((await list('orderStatus=orders/paid')).items.map((r) => r.rejectedEventId)).toEqual([fromSource.id]);
  expect((await list('source=q-shop-eu')).items).toEqual([
    expect.objectContaining({ rejectedEventId: fromSource.id, sourceId: 'q-shop-eu', reason: 'missing_field', headers: { 'x-shopify-topic': 'orders/paid' } }),
  ]);
  expect((await list('reason=not_json&limit=100')).items.map((r) => r.rejectedEventId)).toContain(notJson);
  expect((await list('reason=not_json&limit=100')).items.every((r) => r.reason === 'not_json')).toBe(true);

  // Time: from is inclusive, to exclusive, on receivedAt.
  const rows = await h.db.rejectedEvent.findMany({ where: { id: { in: [ids.r1!, ids.c2!] } } });
  const at = (id: string) => rows.find((r) => r.id === id)!.receivedAt.toISOString();
  const window = await list(`source=q-filter&from=${encodeURIComponent(at(ids.r1!))}&to=${encodeURIComponent(at(ids.c2!))}`);
  expect(window.items.map((r) => r.rejectedEventId)).toEqual([ids.r1]);
  expect((await list(`source=q-filter&from=${encodeURIComponent(started.toISOString())}`)).total).toBe(5);
  expect((await list('source=q-filter&to=2026-01-01T00:00:00Z')).total).toBe(0);

  // status=all includes the others; a bad filter is a 400 naming it.
  await h.api('PATCH', `/v1/rejected-events/${ids.r1}`, { state: 'discarded' });
  expect((await list('source=q-filter')).total).toBe(4);
  expect((await list('source=q-filter&status=all')).total).toBe(5);
  for (const [query, field] of [['reason=bogus', 'reason'], ['status=closed', 'status'], ['critical=yes', 'critical'], ['from=yesterday', 'from']]) {
    const res = await h.api('GET', `/v1/rejected-events?${query}`);
    expect({ query, status: res.status, fields: res.body.error?.fields?.map((f: any) => f.field) }).toEqual({ query, status: 400, fields: [field] });
  }
});

test('bulk replay with a filter: oldest first, up to its limit, and safe to call again', async () => {
  const bad = (orderId: string, source = 'q-bulk') => ({ ...orderEvent(orderId, CUSTOMER, 'shipped'), source, occurredAt: '2026/12/01' });
  const fix = async (id: string) => {
    const row = (await h.api('GET', `/v1/rejected-events/${id}`)).body;
    expect((await h.api('PATCH', `/v1/rejected-events/${id}`, { payload: { ...row.payload, occurredAt: '2026-12-01T10:00:00Z' } })).status).toBe(200);
  };
  const first = await reject(bad('q-ord-b1'));
  const unfixed = await reject(bad('q-ord-b2'));
  const third = await reject(bad('q-ord-b3'));
  const otherSource = await reject(bad('q-ord-b4', 'q-bulk-other'));
  await fix(first);
  await fix(third);
  await fix(otherSource);

  const bulk = async (body: Record<string, unknown>) => {
    const res = await h.api('POST', '/v1/rejected-event-replays', body);
    expect(res.status).toBe(200);
    return res.body;
  };
  expect(await bulk({ source: 'q-bulk', limit: 1 })).toEqual({ replayed: 1, rejected: 0, ignored: 0, remaining: 2 });
  expect((await h.api('GET', `/v1/rejected-events/${first}`)).body.state).toBe('replayed');
  expect(await bulk({ source: 'q-bulk' })).toEqual({ replayed: 1, rejected: 1, ignored: 0, remaining: 0 });
  // Again: the refused one is skipped until it is fixed, nothing is replayed twice.
  expect(await bulk({ source: 'q-bulk' })).toEqual({ replayed: 0, rejected: 0, ignored: 0, remaining: 0 });
  // ...or until asked to retry what was refused before now (after a change to the validation).
  expect(await bulk({ source: 'q-bulk', retryRejectedBefore: new Date(Date.now() + 60_000).toISOString() })).toEqual({ replayed: 0, rejected: 1, ignored: 0, remaining: 0 });
  expect((await h.api('GET', `/v1/rejected-events/${unfixed}`)).body).toMatchObject({ state: 'open', replayCount: 2, errors: [{ field: 'occurredAt' }] });
  await fix(unfixed);
  expect(await bulk({ source: 'q-bulk', critical: true, reason: 'invalid_field' })).toEqual({ replayed: 1, rejected: 0, ignored: 0, remaining: 0 });
  // The other source's fixed one was not in the filter.
  expect((await h.api('GET', `/v1/rejected-events/${otherSource}`)).body.state).toBe('open');

  // Each replayed shipment told the customer once.
  for (const orderId of ['q-ord-b1', 'q-ord-b2', 'q-ord-b3']) await eventually(() => expect(pushesFor(orderId)).toEqual(['shipped']), 60_000);
  expect(pushesFor('q-ord-b4')).toEqual([]);

  const tooMany = await h.api('POST', '/v1/rejected-event-replays', { limit: 1001 });
  expect(tooMany.status).toBe(400);
  expect(tooMany.body.error.fields).toEqual([{ field: 'limit', reason: 'must be at most 1000' }]);
  expect((await h.api('POST', '/v1/rejected-event-replays', { status: 'open' })).status).toBe(400);
}, 120_000);

/** The value of one series of /metrics, matched by its labels in any order; 0 when absent. */
async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${h.stack.apiUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

test('the rejects metric counts by source and reason; replays by outcome', async () => {
  const name = 'herald_order_events_rejected_total';
  const invalid = { source: 'q-metrics', reason: 'invalid_field', critical: 'true' };
  const missing = { source: 'q-metrics', reason: 'missing_field', critical: 'false' };
  const before = { invalid: await metric(name, invalid), missing: await metric(name, missing), accepted: await metric('herald_rejected_event_replays_total', { outcome: 'accepted' }) };

  const id = await reject({ ...orderEvent('q-ord-m1', CUSTOMER, 'delayed'), source: 'q-metrics', occurredAt: 'soon' });
  await reject({ ...orderEvent('q-ord-m2', CUSTOMER, 'packed'), source: 'q-metrics', eventId: undefined, customerId: undefined });
  await reject({ ...orderEvent('q-ord-m3', CUSTOMER, 'delayed'), source: 'q-metrics', data: 'late' });
  expect(await metric(name, invalid)).toBe(before.invalid + 2);
  expect(await metric(name, missing)).toBe(before.missing + 1);

  expect((await h.api('PATCH', `/v1/rejected-events/${id}`, { payload: { ...orderEvent('q-ord-m1', CUSTOMER, 'delayed'), source: 'q-metrics' } })).status).toBe(200);
  expect((await h.api('POST', `/v1/rejected-events/${id}/replay`)).status).toBe(200);
  expect(await metric('herald_rejected_event_replays_total', { outcome: 'accepted' })).toBe(before.accepted + 1);
  // A replay is not a new reject.
  expect(await metric(name, invalid)).toBe(before.invalid + 2);
});
