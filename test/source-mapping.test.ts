// The pure parts of the source intake: the validation profile (time formats, defaults, required fields) and the
// mapping adapter's JSONata evaluation, without the stack. The end-to-end behaviour is test/sources.test.ts.
import type { RawSourceEvent, SourceConfig } from '../api/sources/adapter';
import { canonicalAdapter } from '../api/sources/canonical';
import { mappingAdapter, mappingProblems } from '../api/sources/mapping';
import { applyProfile, NormaliseFailure, normaliseTime } from '../api/sources/profile';
import { sourceInputSchema } from '../api/sources/schemas';
import { heraldSignature } from './fakes/email-webhooks';

const ALL = ['iso8601', 'iso8601-local', 'epoch-seconds', 'epoch-millis', 'rfc2822'];

describe('normaliseTime', () => {
  test('ISO-8601 with a zone is taken as it is, whatever the profile', () => {
    expect(normaliseTime('2026-12-01T09:30:00+01:00', ['iso8601'])).toBe('2026-12-01T09:30:00+01:00');
    expect(normaliseTime('2026-12-01T09:30:00.123Z', [])).toBe('2026-12-01T09:30:00.123Z');
  });

  test('each tolerated format only when the profile names it', () => {
    expect(normaliseTime('2026-12-01T09:30:00', ['iso8601'])).toBeUndefined();
    expect(normaliseTime('2026-12-01T09:30:00', ['iso8601-local'])).toBe('2026-12-01T09:30:00Z');
    expect(normaliseTime('2026-12-01 09:30', ['iso8601-local'])).toBe('2026-12-01T09:30:00Z');
    expect(normaliseTime('2026-12-01T09:30:00.5', ['iso8601-local'])).toBe('2026-12-01T09:30:00.5Z');

    expect(normaliseTime(1796117400, ['iso8601'])).toBeUndefined();
    expect(normaliseTime(1796117400, ['epoch-seconds'])).toBe('2026-12-01T09:30:00.000Z');
    expect(normaliseTime('1796117400', ['epoch-seconds'])).toBe('2026-12-01T09:30:00.000Z');
    expect(normaliseTime(1796117400.25, ['epoch-seconds'])).toBe('2026-12-01T09:30:00.250Z');
    expect(normaliseTime(1796117400123, ['epoch-millis'])).toBe('2026-12-01T09:30:00.123Z');
    // A profile that takes both reads 1e11 and above as milliseconds.
    expect(normaliseTime(1796117400, ['epoch-seconds', 'epoch-millis'])).toBe('2026-12-01T09:30:00.000Z');
    expect(normaliseTime(1796117400123, ['epoch-seconds', 'epoch-millis'])).toBe('2026-12-01T09:30:00.123Z');

    expect(normaliseTime('Tue, 01 Dec 2026 09:30:00 +0000', ['iso8601'])).toBeUndefined();
    expect(normaliseTime('Tue, 01 Dec 2026 09:30:00 +0000', ['rfc2822'])).toBe('2026-12-01T09:30:00.000Z');
    expect(normaliseTime('1 Dec 2026 10:30:00 +0100', ['rfc2822'])).toBe('2026-12-01T09:30:00.000Z');
    expect(normaliseTime('Tue, 01 Dec 2026 04:30 EST', ['rfc2822'])).toBe('2026-12-01T09:30:00.000Z');
  });

  test('what is in no format is undefined, never a guess', () => {
    for (const value of ['yesterday', '01/12/2026 09:30', '', true, null, {}, [], Number.NaN, 1e20, '12 Foo 2026 09:30:00 +0000']) {
      expect({ value, iso: normaliseTime(value, ALL) }).toEqual({ value, iso: undefined });
    }
  });
});

describe('applyProfile', () => {
  const receivedAt = new Date('2026-12-01T10:00:00.000Z');
  const base = { eventId: 'e-1', orderId: 'o-1', customerId: 'c-1', status: 'shipped' };

  test('an optional field left out gets its default; "receivedAt" is the time received; a sent one is kept', () => {
    const profile = { required: [], optional: { occurredAt: 'receivedAt', data: { carrier: 'unknown' } }, timeFormats: ['iso8601'] };
    expect(applyProfile(profile, base, undefined, receivedAt)).toEqual({ ...base, occurredAt: '2026-12-01T10:00:00.000Z', data: { carrier: 'unknown' } });
    const sent = { ...base, occurredAt: '2026-12-01T09:00:00Z', data: { carrier: 'UPS' } };
    expect(applyProfile(profile, sent, undefined, receivedAt)).toEqual(sent);
    // A default of one data key fills only that key.
    const keyed = { required: [], optional: { 'data.carrier': 'DHL' }, timeFormats: ['iso8601'] };
    expect(applyProfile(keyed, { ...base, data: { trackingNumber: '1Z' } }, undefined, receivedAt).data).toEqual({ trackingNumber: '1Z', carrier: 'DHL' });
  });

  test('a required field missing is a missing_field naming every one', () => {
    const profile = { required: ['data.trackingNumber', 'customer.email'], optional: {}, timeFormats: ['iso8601'] };
    let failure: unknown;
    try {
      applyProfile(profile, { orderId: 'o-1', status: 'shipped', data: {} }, { phone: '+447700900123' }, receivedAt);
    } catch (err) {
      failure = err;
    }
    expect(failure).toBeInstanceOf(NormaliseFailure);
    expect(failure).toMatchObject({
      reason: 'missing_field',
      fields: [
        { field: 'eventId', reason: 'is required' },
        { field: 'data.trackingNumber', reason: "is required by this source's profile" },
        { field: 'customer.email', reason: "is required by this source's profile" },
      ],
    });
    // Present: no failure (customerId is left to the pipeline, which may take it from the order's first event).
    const { customerId: _c, ...noCustomer } = base;
    expect(() => applyProfile(profile, { ...noCustomer, data: { trackingNumber: '1Z' } }, { email: 'ada@example.com' }, receivedAt)).not.toThrow();
  });

  test('occurredAt is normalised to ISO-8601; one in none of the formats names them', () => {
    const profile = { required: [], optional: {}, timeFormats: ['iso8601', 'epoch-seconds'] };
    expect(applyProfile(profile, { ...base, occurredAt: 1796117400 }, undefined, receivedAt).occurredAt).toBe('2026-12-01T09:30:00.000Z');
    expect(() => applyProfile(profile, { ...base, occurredAt: 'Tue, 01 Dec 2026 09:30:00 +0000' }, undefined, receivedAt)).toThrow(
      expect.objectContaining({ reason: 'invalid_field', fields: [{ field: 'occurredAt', reason: expect.stringContaining('epoch-seconds') }] }),
    );
    // ISO-8601 only: the value is left for orderEventSchema, which names it as POST /v1/order-events does.
    expect(applyProfile({ ...profile, timeFormats: ['iso8601'] }, { ...base, occurredAt: 'soon' }, undefined, receivedAt).occurredAt).toBe('soon');
  });
});

const raw = (payload: unknown, headers: Record<string, string> = {}): RawSourceEvent => ({ body: Buffer.from(JSON.stringify(payload)), payload, headers });
const mappingSource = (mapping: Record<string, string>, secret: string | null = null): SourceConfig => ({
  sourceId: 'acme',
  adapter: 'mapping',
  secret,
  profile: { required: [], optional: {}, timeFormats: ['iso8601'] },
  statusMap: {},
  mapping,
  enabled: true,
});

const ACME_PAYLOAD = {
  id: 'A-5531',
  order: { number: 1002, customer: { ref: 'c-42', mail: 'ada@example.com', lang: 'fr-CA' } },
  state: 'SHIPPED',
  updated: '2026-12-02T08:15:00Z',
  parcels: [{ carrier: 'UPS', tracking: '1Z999AA10123456784' }, { carrier: 'UPS', tracking: '1Z999AA10123456785' }],
};
const ACME_MAPPING = {
  eventId: 'id',
  orderId: 'order.number',
  customerId: 'order.customer.ref',
  status: 'state',
  occurredAt: 'updated',
  data: "{ 'carrier': parcels[0].carrier, 'trackingNumber': parcels[0].tracking }",
  'data.parcelCount': '$count(parcels)',
  'customer.email': 'order.customer.mail',
  'customer.locale': 'order.customer.lang',
};

describe('the mapping adapter', () => {
  test('evaluates each expression on the payload onto the canonical fields, numbers of ids as text', async () => {
    expect(await mappingAdapter.normalise(mappingSource(ACME_MAPPING), raw(ACME_PAYLOAD))).toEqual({
      kind: 'event',
      sourceStatus: 'SHIPPED',
      event: {
        eventId: 'A-5531',
        orderId: '1002',
        customerId: 'c-42',
        status: 'SHIPPED',
        occurredAt: '2026-12-02T08:15:00Z',
        data: { carrier: 'UPS', trackingNumber: '1Z999AA10123456784', parcelCount: 2 },
      },
      customer: { customerId: 'c-42', email: 'ada@example.com', locale: 'fr-CA' },
    });
  });

  test('a path with no match leaves the field out (the profile or the schema then names it)', async () => {
    const normalised = await mappingAdapter.normalise(mappingSource(ACME_MAPPING), raw({ id: 'A-1', state: 'PICKING' }));
    expect(normalised).toEqual({ kind: 'event', sourceStatus: 'PICKING', event: { eventId: 'A-1', status: 'PICKING', data: { parcelCount: 0 } } });
  });

  test('an expression that throws is a mapping_failed naming its field', async () => {
    // $number of a word throws at evaluation; the rest evaluates.
    const source = mappingSource({ ...ACME_MAPPING, 'data.weight': '$number(order.customer.mail)' });
    await expect(mappingAdapter.normalise(source, raw(ACME_PAYLOAD))).rejects.toMatchObject({
      reason: 'mapping_failed',
      fields: [{ field: 'data.weight', reason: expect.stringMatching(/^mapping failed: /) }],
    });
    // An expression that never ends is stopped by the evaluation's time bound, not left to hold the API.
    const looping = mappingSource({ ...ACME_MAPPING, 'data.spin': '($f := function($n) { $f($n + 1) }; $f(0))' });
    await expect(mappingAdapter.normalise(looping, raw(ACME_PAYLOAD))).rejects.toMatchObject({ reason: 'mapping_failed', fields: [{ field: 'data.spin' }] });
  });

  test('a mapping is checked when configured: fields it may fill, the ones it must, expressions that compile', () => {
    expect(mappingProblems(ACME_MAPPING)).toEqual([]);
    expect(mappingProblems({ eventId: 'id', orderId: 'order.(', sku: 'sku' })).toEqual([
      { field: 'mapping.status', reason: 'is required: every event needs it' },
      { field: 'mapping.orderId', reason: expect.stringMatching(/^is not a JSONata expression: /) },
      { field: 'mapping.sku', reason: expect.stringMatching(/^must be eventId, orderId/) },
    ]);
    // The same checks answer PUT /v1/sources's 400, under mapping.<field>.
    const parsed = sourceInputSchema.safeParse({ adapter: 'mapping', mapping: { eventId: 'id', orderId: '$$$(', status: 'state', 'data.x': 'a' } });
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((i) => i.path.join('.'))).toEqual(['mapping.orderId']);
    expect(sourceInputSchema.safeParse({ adapter: 'mapping' }).error!.issues).toMatchObject([{ path: ['mapping'], message: 'is required with the mapping adapter' }]);
    expect(sourceInputSchema.safeParse({ adapter: 'canonical', mapping: ACME_MAPPING }).error!.issues).toMatchObject([{ path: ['mapping'], message: 'is only for the mapping adapter' }]);
  });

  test('a signed source verifies X-Herald-Signature over the raw body with any of its keys', () => {
    const secret = 'k2:new-secret-0123456789,k1:old-secret-0123456789';
    const source = mappingSource(ACME_MAPPING, secret);
    const event = raw(ACME_PAYLOAD);
    const body = event.body.toString();
    expect(mappingAdapter.verify(source, { ...event, headers: { 'x-herald-signature': heraldSignature(['old-secret-0123456789'], body) } })).toEqual({ ok: true });
    expect(mappingAdapter.verify(source, { ...event, headers: { 'x-herald-signature': heraldSignature(['new-secret-0123456789'], body) } })).toEqual({ ok: true });
    expect(mappingAdapter.verify(source, { ...event, headers: { 'x-herald-signature': heraldSignature(['another-secret-0123456'], body) } })).toEqual({ ok: false, reason: expect.stringContaining("source acme's secret") });
    expect(mappingAdapter.verify(source, { ...event, headers: { 'x-herald-signature': heraldSignature(['new-secret-0123456789'], `${body} `) } })).toMatchObject({ ok: false });
    expect(mappingAdapter.verify(source, event)).toEqual({ ok: false, reason: 'X-Herald-Signature is missing' });
    expect(mappingAdapter.verify(mappingSource(ACME_MAPPING), event)).toEqual({ ok: true });
  });
});

describe('the canonical adapter', () => {
  test("takes Herald's own event, and a customer sent with it", () => {
    const event = { eventId: 'e-1', orderId: 'o-1', customerId: 'c-1', status: 'shipped', occurredAt: '2026-12-01T09:30:00Z', source: 'x', data: {} };
    expect(canonicalAdapter.normalise(mappingSource({}), raw({ ...event, customer: { email: 'ada@example.com', phone: null, extra: 1 } }))).toEqual({
      kind: 'event',
      sourceStatus: 'shipped',
      event,
      customer: { customerId: 'c-1', email: 'ada@example.com', phone: null },
    });
    expect(() => canonicalAdapter.normalise(mappingSource({}), raw({ ...event, customer: 'ada' }))).toThrow(expect.objectContaining({ reason: 'invalid_customer' }));
    expect(canonicalAdapter.defaultStatusMap).toMatchObject({ shipped: 'shipped', delivered: 'delivered' });
  });
});
