// Order sources end to end on the real stack: configured with PUT /v1/sources, their events posted in their own format
// to POST /v1/sources/{sourceId}/events (canonical and mapping), read by the pipeline into order events that notify
// once; ignored and rejected events kept and counted; customers created and refreshed from events; signatures and
// disabled sources refused with nothing stored.
import { heraldSignature } from './fakes/email-webhooks';
import { eventually, useHarness } from './support/harness';

const h = useHarness();

const ACME_SECRET = 'k2:acme-secret-new-0123456789,k1:acme-secret-old-0123456789';

/** POSTs `body` to the source's events as its sender would: an API key, and a signature when `secrets` are given. */
async function postEvent(sourceId: string, body: unknown, options: { key?: string | null; secrets?: string[]; signedBody?: string } = {}) {
  const text = JSON.stringify(body);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-request-id': 'req-1' };
  if (options.key !== null) headers.authorization = `Bearer ${options.key ?? h.adminKey}`;
  if (options.secrets) headers['x-herald-signature'] = heraldSignature(options.secrets, options.signedBody ?? text);
  const res = await fetch(`${h.stack.apiUrl}/v1/sources/${sourceId}/events`, { method: 'POST', headers, body: text });
  return { status: res.status, body: (await res.json()) as any };
}

/** What a source has stored, counted from the tables themselves. */
async function stored(sourceId: string) {
  return {
    accepted: await h.db.orderEvent.count({ where: { source: sourceId } }),
    ignored: await h.db.ignoredEvent.count({ where: { sourceId } }),
    rejected: await h.db.rejectedEvent.count({ where: { sourceId } }),
  };
}

const emailsTo = (address: string, subject?: RegExp) => h.smtp.messagesTo(address).filter((m) => !subject || subject.test(m.subject ?? ''));

const ACME_MAPPING = {
  eventId: 'id',
  orderId: 'order.number',
  customerId: 'order.customer.ref',
  status: 'state',
  occurredAt: 'updated',
  data: "{ 'carrier': parcel.carrier, 'trackingNumber': parcel.tracking }",
  'data.weightKg': '$number(parcel.weight)',
  'customer.email': 'order.customer.mail',
  'customer.name': 'order.customer.name',
};

function acmeEvent(id: string, order: number, state: string, extra: { customer?: Record<string, unknown> | null; parcel?: Record<string, unknown> } = {}) {
  const customer = extra.customer === null ? undefined : { ref: 'src-acme-c1', mail: 'grace@example.com', name: 'Grace', ...extra.customer };
  return {
    id,
    order: { number: order, ...(customer ? { customer } : {}) },
    state,
    updated: '2026-12-02T08:15:00',
    parcel: { carrier: 'UPS', tracking: `1Z999AA1${order}`, weight: '1.5', ...extra.parcel },
  };
}

describe('configuring sources', () => {
  test('PUT creates then replaces; the secret is never shown, only whether one is set and its key id', async () => {
    const created = await h.api('PUT', '/v1/sources/src-acme', {
      adapter: 'mapping',
      secret: ACME_SECRET,
      mapping: ACME_MAPPING,
      statusMap: { SHIPPED: 'shipped', DELIVERED: 'delivered', PICKING: null },
      profile: { required: ['data.trackingNumber'], timeFormats: ['iso8601-local'] },
    });
    expect(created).toEqual({
      status: 201,
      body: {
        sourceId: 'src-acme',
        adapter: 'mapping',
        secretSet: true,
        keyId: 'k2',
        profile: { required: ['data.trackingNumber'], optional: {}, timeFormats: ['iso8601-local'] },
        statusMap: { SHIPPED: 'shipped', DELIVERED: 'delivered', PICKING: null },
        mapping: ACME_MAPPING,
        enabled: true,
        counts: { accepted: 0, ignored: 0, rejected: 0 },
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
    });
    expect(JSON.stringify(created.body)).not.toContain('acme-secret');
    // Replaced without a secret: the stored one is kept.
    const again = await h.api('PUT', '/v1/sources/src-acme', { adapter: 'mapping', mapping: ACME_MAPPING, statusMap: { SHIPPED: 'shipped', DELIVERED: 'delivered', PICKING: null }, profile: { required: ['data.trackingNumber'], timeFormats: ['iso8601-local'] } });
    expect(again).toMatchObject({ status: 200, body: { secretSet: true, keyId: 'k2', createdAt: created.body.createdAt } });
    expect((await h.db.source.findUniqueOrThrow({ where: { sourceId: 'src-acme' } })).secret).toBe(ACME_SECRET);

    const canonical = await h.api('PUT', '/v1/sources/src-oms', {
      adapter: 'canonical',
      profile: { optional: { occurredAt: 'receivedAt' }, timeFormats: ['epoch-seconds'] },
    });
    expect(canonical).toMatchObject({ status: 201, body: { adapter: 'canonical', secretSet: false, keyId: null, statusMap: {}, mapping: null } });
  });

  test('an invalid configuration is a 400 naming each field, and nothing is stored', async () => {
    const bad = await h.api('PUT', '/v1/sources/src-bad', {
      adapter: 'mapping',
      statusMap: { SHIPPED: 'posted' },
      mapping: { eventId: 'id', orderId: 'order.(', status: 'state' },
      profile: { required: ['eventId'], timeFormats: ['unix'] },
      secret: 'short',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fields.map((f: { field: string }) => f.field).sort()).toEqual(['mapping.orderId', 'profile.required.0', 'profile.timeFormats.0', 'statusMap.SHIPPED']);
    expect((await h.api('PUT', '/v1/sources/src-bad', { adapter: 'canonical', secret: 'k1:short' })).body.error.fields).toEqual([{ field: 'secret', reason: expect.stringContaining('at least 16 characters') }]);
    expect(bad.body.error.fields).toContainEqual({ field: 'statusMap.SHIPPED', reason: expect.stringMatching(/^must be one of confirmed, .*, or null \(ignored\)$/) });
    expect((await h.api('PUT', '/v1/sources/src-bad', { adapter: 'mapping' })).body.error.fields).toEqual([{ field: 'mapping', reason: 'is required with the mapping adapter' }]);
    expect((await h.api('PUT', '/v1/sources/src-bad', { adapter: 'kafka' })).body.error.fields).toEqual([{ field: 'adapter', reason: 'must be one of canonical, shopify, mapping' }]);
    // Shopify signs every webhook: a shopify source without its secret is refused.
    const shopify = await h.api('PUT', '/v1/sources/src-bad', { adapter: 'shopify' });
    expect(shopify.status).toBe(400);
    expect(shopify.body.error.fields).toContainEqual({ field: 'secret', reason: expect.stringMatching(/^is required with the shopify adapter/) });
    expect(await h.db.source.findUnique({ where: { sourceId: 'src-bad' } })).toBeNull();
    // Configuring needs the admin scope; reading, read.
    const ingest = (await h.api('POST', '/v1/api-keys', { name: 'src-ingest', scopes: ['ingest'] })).body.key as string;
    expect((await h.api('PUT', '/v1/sources/src-bad', { adapter: 'canonical' }, ingest)).status).toBe(403);
    expect((await h.api('GET', '/v1/sources', undefined, ingest)).status).toBe(403);
  });
});

describe('canonical source', () => {
  test('an event notifies once, with its defaults and time formats; the same eventId again is a duplicate; the customer comes with it', async () => {
    const event = { eventId: 'src-oms-1-shipped', orderId: 'src-oms-1', customerId: 'src-oms-c1', status: 'shipped', source: 'ignored-here', data: { carrier: 'UPS', trackingNumber: '1Z999AA10123456784' } };
    const customer = { email: 'ada.src@example.com', name: 'Ada', locale: 'en-GB' };
    const first = await postEvent('src-oms', { ...event, customer });
    expect(first).toEqual({ status: 202, body: { outcome: 'accepted', eventId: event.eventId, workflowId: 'order:src-oms-1', duplicate: false } });
    const row = await h.db.orderEvent.findUniqueOrThrow({ where: { eventId: event.eventId } });
    // Its source is the source's id; occurredAt, left out, is when it was received.
    expect(row).toMatchObject({ source: 'src-oms', status: 'shipped' });
    expect(Math.abs(row.occurredAt.getTime() - row.receivedAt.getTime())).toBeLessThan(5000);
    expect(await h.db.customer.findUniqueOrThrow({ where: { id: 'src-oms-c1' } })).toMatchObject({ email: customer.email, name: 'Ada', locale: 'en-GB', phone: null });

    expect(await postEvent('src-oms', { ...event, customer })).toEqual({ status: 202, body: { outcome: 'accepted', eventId: event.eventId, workflowId: 'order:src-oms-1', duplicate: true } });
    await eventually(() => expect(emailsTo(customer.email, /shipped/i)).toHaveLength(1), 60_000);

    // Quiet hours set by the shop stay; the next event refreshes only what it sends (a null clears nothing).
    expect((await h.api('PUT', '/v1/customers/src-oms-c1', { quietHours: { start: '22:00', end: '07:00' } })).status).toBe(200);
    // In epoch seconds, which the profile takes; after the shipment (an older status is recorded but not announced).
    const delayedAt = Math.floor(Date.now() / 1000) + 5;
    const delayed = { eventId: 'src-oms-1-delayed', orderId: 'src-oms-1', customerId: 'src-oms-c1', status: 'delayed', occurredAt: delayedAt, data: { delayReason: 'weather' } };
    expect(await postEvent('src-oms', { ...delayed, customer: { phone: '+447700900123', email: null } })).toMatchObject({ status: 202, body: { outcome: 'accepted', duplicate: false } });
    expect((await h.db.orderEvent.findUniqueOrThrow({ where: { eventId: delayed.eventId } })).occurredAt.toISOString()).toBe(new Date(delayedAt * 1000).toISOString());
    expect(await h.db.customer.findUniqueOrThrow({ where: { id: 'src-oms-c1' } })).toMatchObject({
      email: customer.email, name: 'Ada', phone: '+447700900123', quietHoursStart: '22:00', quietHoursEnd: '07:00',
    });
    // The delay's email came after the duplicate was signalled: the shipment was still announced once.
    await eventually(() => expect(emailsTo(customer.email, /delay/i)).toHaveLength(1), 60_000);
    expect(emailsTo(customer.email, /shipped/i)).toHaveLength(1);
  }, 120_000);

  test("a status outside the map is ignored and counted; a customer that fails PUT /v1/customers's rules is rejected", async () => {
    // A canonical source's words are Herald's statuses; its map may ignore one.
    expect((await h.api('PUT', '/v1/sources/src-oms', { adapter: 'canonical', statusMap: { packed: null }, profile: { optional: { occurredAt: 'receivedAt' }, timeFormats: ['epoch-seconds'] } })).status).toBe(200);
    const base = { orderId: 'src-oms-2', customerId: 'src-oms-c2', occurredAt: '2026-12-01T09:30:00Z' };
    expect(await postEvent('src-oms', { ...base, eventId: 'src-oms-2-posted', status: 'posted' })).toEqual({ status: 202, body: { outcome: 'ignored', ignoredEventId: expect.any(String), reason: 'status_not_mapped' } });
    expect(await postEvent('src-oms', { ...base, eventId: 'src-oms-2-packed', status: 'packed' })).toMatchObject({ status: 202, body: { outcome: 'ignored', reason: 'status_ignored' } });
    const invalid = await postEvent('src-oms', { ...base, eventId: 'src-oms-2-shipped', status: 'shipped', customer: { email: 'not-an-email', phone: '0770' } });
    expect(invalid).toEqual({
      status: 400,
      body: {
        error: { code: 'validation_failed', message: expect.stringContaining('customer.email'), fields: [{ field: 'customer.email', reason: 'must be an email address' }, { field: 'customer.phone', reason: expect.stringContaining('E.164') }] },
        rejectedEventId: expect.any(String),
        reason: 'invalid_customer',
      },
    });
    expect(await h.db.rejectedEvent.findUniqueOrThrow({ where: { id: invalid.body.rejectedEventId } })).toMatchObject({
      sourceId: 'src-oms', source: 'src-oms', eventId: 'src-oms-2-shipped', status: 'shipped', critical: true, reason: 'invalid_customer',
      // The headers a replay may need, never the key.
      headers: { 'x-request-id': 'req-1' },
    });
    expect(await h.db.customer.findUnique({ where: { id: 'src-oms-c2' } })).toBeNull();
    expect(await h.db.orderEvent.count({ where: { orderId: 'src-oms-2' } })).toBe(0);
  });
});

describe('mapping source', () => {
  test('a signed event is read through its mapping and notifies; unsigned or badly signed is a 401 and nothing is stored', async () => {
    const event = acmeEvent('A-1', 7001, 'SHIPPED');
    for (const attempt of [{}, { secrets: ['acme-secret-wrong-0123456789'] }, { secrets: ['acme-secret-new-0123456789'], signedBody: '{}' }]) {
      const refused = await postEvent('src-acme', event, attempt);
      expect(refused).toMatchObject({ status: 401, body: { error: { code: 'invalid_signature', fields: [{ field: 'X-Herald-Signature' }] } } });
    }
    expect(await stored('src-acme')).toEqual({ accepted: 0, ignored: 0, rejected: 0 });
    // Signed with the key being retired still verifies while the source lists it.
    const accepted = await postEvent('src-acme', event, { secrets: ['acme-secret-old-0123456789'] });
    expect(accepted).toEqual({ status: 202, body: { outcome: 'accepted', eventId: 'A-1', workflowId: 'order:7001', duplicate: false } });
    expect(await h.db.orderEvent.findUniqueOrThrow({ where: { eventId: 'A-1' } })).toMatchObject({
      orderId: '7001', customerId: 'src-acme-c1', status: 'shipped', source: 'src-acme',
      occurredAt: new Date('2026-12-02T08:15:00Z'), data: { carrier: 'UPS', trackingNumber: '1Z999AA17001', weightKg: 1.5 },
    });
    expect(await h.db.customer.findUniqueOrThrow({ where: { id: 'src-acme-c1' } })).toMatchObject({ email: 'grace@example.com', name: 'Grace' });
    await eventually(() => expect(emailsTo('grace@example.com', /shipped/i)).toHaveLength(1), 60_000);
    // An API key is needed besides the signature.
    expect((await postEvent('src-acme', event, { key: null, secrets: ['acme-secret-new-0123456789'] })).status).toBe(401);
  }, 120_000);

  test('unmapped and ignored words, missing fields, failing expressions and unknown orders: each kept with its reason, and counted', async () => {
    const secrets = ['acme-secret-new-0123456789'];
    const onHold = await postEvent('src-acme', acmeEvent('A-2', 7002, 'ON_HOLD'), { secrets });
    expect(onHold).toEqual({ status: 202, body: { outcome: 'ignored', ignoredEventId: expect.any(String), reason: 'status_not_mapped' } });
    // The source's retry of an ignored event is kept once.
    expect(await postEvent('src-acme', acmeEvent('A-2', 7002, 'ON_HOLD'), { secrets })).toEqual(onHold);
    expect(await postEvent('src-acme', acmeEvent('A-3', 7002, 'PICKING'), { secrets })).toMatchObject({ status: 202, body: { outcome: 'ignored', reason: 'status_ignored' } });
    expect(await h.db.ignoredEvent.findUniqueOrThrow({ where: { id: onHold.body.ignoredEventId } })).toMatchObject({ sourceId: 'src-acme', eventId: 'A-2', orderId: '7002', sourceStatus: 'ON_HOLD', reason: 'status_not_mapped' });

    const missing = await postEvent('src-acme', acmeEvent('A-4', 7002, 'SHIPPED', { parcel: { tracking: null } }), { secrets });
    expect(missing).toMatchObject({ status: 400, body: { reason: 'missing_field', rejectedEventId: expect.any(String), error: { fields: [{ field: 'data.trackingNumber', reason: "is required by this source's profile" }] } } });
    const failing = await postEvent('src-acme', acmeEvent('A-5', 7002, 'SHIPPED', { parcel: { weight: 'heavy' } }), { secrets });
    expect(failing).toMatchObject({ status: 400, body: { reason: 'mapping_failed', error: { fields: [{ field: 'data.weightKg', reason: expect.stringMatching(/^mapping failed: /) }] } } });
    // No customer in the event and no earlier event of the order to take it from.
    const orphan = await postEvent('src-acme', acmeEvent('A-6', 7003, 'DELIVERED', { customer: null }), { secrets });
    expect(orphan).toMatchObject({ status: 400, body: { reason: 'missing_field', error: { fields: [{ field: 'customerId', reason: 'is required: the order has no earlier event to take it from' }] } } });
    const kept = await h.db.rejectedEvent.findUniqueOrThrow({ where: { id: missing.body.rejectedEventId } });
    expect(kept).toMatchObject({ sourceId: 'src-acme', eventId: 'A-4', orderId: '7002', status: 'shipped', reason: 'missing_field', payload: acmeEvent('A-4', 7002, 'SHIPPED', { parcel: { tracking: null } }) });
    // The signature is not kept with it.
    expect(kept.headers).toEqual({ 'x-request-id': 'req-1' });

    // A later event naming only the order takes the customer of its first event.
    const delivered = await postEvent('src-acme', acmeEvent('A-7', 7001, 'DELIVERED', { customer: null }), { secrets });
    expect(delivered).toMatchObject({ status: 202, body: { outcome: 'accepted', eventId: 'A-7' } });
    expect(await h.db.orderEvent.findUniqueOrThrow({ where: { eventId: 'A-7' } })).toMatchObject({ customerId: 'src-acme-c1', status: 'delivered' });

    const counts = { accepted: 2, ignored: 2, rejected: 3 };
    expect(await stored('src-acme')).toEqual(counts);
    const list = await h.api('GET', '/v1/sources');
    expect(list.status).toBe(200);
    expect(list.body.sources.map((s: { sourceId: string }) => s.sourceId)).toEqual(['src-acme', 'src-oms']);
    expect(list.body.sources[0]).toMatchObject({ sourceId: 'src-acme', counts });
    expect(list.body.sources[1]).toMatchObject({ sourceId: 'src-oms', counts: { accepted: 2, ignored: 2, rejected: 1 } });
    expect(await h.api('GET', '/v1/sources/src-acme')).toMatchObject({ status: 200, body: { counts } });
  });
});

describe('access', () => {
  test('a disabled source is a 403 and stores nothing; unknown is a 404; keys are needed, with the ingest scope', async () => {
    expect((await h.api('PUT', '/v1/sources/src-off', { adapter: 'canonical', enabled: false })).status).toBe(201);
    const event = { eventId: 'src-off-1', orderId: 'src-off-1', customerId: 'src-off-c', status: 'shipped', occurredAt: '2026-12-01T09:30:00Z' };
    expect(await postEvent('src-off', event)).toMatchObject({ status: 403, body: { error: { code: 'source_disabled' } } });
    expect(await stored('src-off')).toEqual({ accepted: 0, ignored: 0, rejected: 0 });
    expect(await h.db.orderEvent.findUnique({ where: { eventId: 'src-off-1' } })).toBeNull();

    expect(await postEvent('src-none', event)).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    expect((await postEvent('src-oms', event, { key: null })).status).toBe(401);
    const read = (await h.api('POST', '/v1/api-keys', { name: 'src-read', scopes: ['read'] })).body.key as string;
    expect((await postEvent('src-oms', event, { key: read })).status).toBe(403);
    expect(await h.db.orderEvent.findUnique({ where: { eventId: 'src-off-1' } })).toBeNull();
    // A body that is not JSON is kept as its text.
    const res = await fetch(`${h.stack.apiUrl}/v1/sources/src-oms/events`, { method: 'POST', headers: { authorization: `Bearer ${h.adminKey}`, 'content-type': 'application/json' }, body: '{"eventId": ' });
    const answer = (await res.json()) as any;
    expect({ status: res.status, reason: answer.reason }).toEqual({ status: 400, reason: 'not_json' });
    expect((await h.db.rejectedEvent.findUniqueOrThrow({ where: { id: answer.rejectedEventId } })).payload).toBe('{"eventId": ');
  });

  test("POST /v1/order-events still keeps its rejected events, now through the pipeline's reject, with their reason", async () => {
    const res = await h.api('POST', '/v1/order-events', { eventId: 'src-plain-1', orderId: 'src-plain', customerId: 'c', status: 'posted', occurredAt: '2026-12-01T09:30:00Z', source: 'oms' });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'validation_failed', fields: [{ field: 'status' }] }, rejectedEventId: expect.any(String) } });
    expect(await h.db.rejectedEvent.findUniqueOrThrow({ where: { id: res.body.rejectedEventId } })).toMatchObject({ sourceId: null, source: 'oms', status: 'posted', reason: 'invalid_field', headers: null });
    const missing = await h.api('POST', '/v1/order-events', { orderId: 'src-plain', customerId: 'c', status: 'shipped', source: 'oms' });
    expect(await h.db.rejectedEvent.findUniqueOrThrow({ where: { id: missing.body.rejectedEventId } })).toMatchObject({ reason: 'missing_field', critical: true });
  });
});
