// Preferences and consent through the API on the real stack: fine categories, the consent an email or SMS
// marketing opt-in needs, the append-only consent history, effective preferences with their sources, and the
// loader the per-event path reads them with.
import { loadPreferenceState } from '../store/preferences';
import { CHANNELS, decideChannels, PREFERENCE_CATEGORIES } from '../domain';
import { startHarness, type Harness } from './support/harness';

let h: Harness;
let readKey: string;
let ingestKey: string;

beforeAll(async () => {
  h = await startHarness();
  const key = async (scopes: string[]) => (await h.api('POST', '/v1/api-keys', { name: `prefs-${scopes.join('-')}`, scopes })).body.key as string;
  readKey = await key(['read']);
  ingestKey = await key(['ingest']);
}, 180_000);

afterAll(async () => {
  await h?.stop();
}, 60_000);

let seq = 0;
async function customer(): Promise<string> {
  const id = `prefs-${++seq}`;
  expect((await h.api('PUT', `/v1/customers/${id}`, { name: 'Ada', email: 'ada@shop.example', phone: '+14155550100' })).status).toBe(201);
  return id;
}

const effective = async (id: string, channel: string, category: string) => {
  const res = await h.api('GET', `/v1/customers/${id}/preferences`);
  expect(res.status).toBe(200);
  return res.body.items.find((i: any) => i.channel === channel && i.category === category);
};

test('effective preferences: every channel and category, with the defaults and where each value came from', async () => {
  const id = await customer();
  const res = await h.api('GET', `/v1/customers/${id}/preferences`, undefined, readKey);
  expect(res.status).toBe(200);
  expect(res.body.customerId).toBe(id);
  // Every channel by every category and topic.
  expect(res.body.items).toHaveLength(CHANNELS.length * PREFERENCE_CATEGORIES.length);
  expect(res.body.items.find((i: any) => i.channel === 'push' && i.category === 'order-updates')).toEqual({
    channel: 'push', category: 'order-updates', class: 'transactional', optedIn: true, source: 'default', default: 'opted-in',
    consent: null, permitted: true, reason: null,
  });
  expect(res.body.items.find((i: any) => i.channel === 'sms' && i.category === 'promotions')).toEqual({
    channel: 'sms', category: 'promotions', class: 'marketing', optedIn: false, source: 'default', default: 'with-consent',
    consent: { rule: 'record', status: 'none', satisfied: false, record: null }, permitted: false, reason: 'no_consent',
  });
  expect(await effective(id, 'inapp', 'cart-reminders')).toMatchObject({ optedIn: true, permitted: true, consent: { rule: 'none' } });

  // A class row (as stored before topics) reaches its topics; a topic row overrides it.
  const put = await h.api('PUT', `/v1/customers/${id}/preferences`, {
    preferences: [
      { channel: 'email', category: 'transactional', optedIn: false },
      { channel: 'sms', category: 'transactional', optedIn: false },
      { channel: 'sms', category: 'order-updates', optedIn: true },
    ],
  }, ingestKey);
  expect(put.status).toBe(200);
  expect(put.body.preferences).toEqual(expect.arrayContaining([{ channel: 'sms', category: 'order-updates', optedIn: true }]));
  expect(await effective(id, 'email', 'order-updates')).toMatchObject({ optedIn: false, source: 'class', reason: 'preference' });
  expect(await effective(id, 'sms', 'order-updates')).toMatchObject({ optedIn: true, source: 'category', permitted: true });
});

test('an email or SMS marketing opt-in without consent is refused (409) and saves nothing; push needs only the opt-in', async () => {
  const id = await customer();
  const res = await h.api('PUT', `/v1/customers/${id}/preferences`, {
    preferences: [
      { channel: 'push', category: 'marketing', optedIn: true },
      { channel: 'sms', category: 'promotions', optedIn: true },
      { channel: 'email', category: 'marketing', optedIn: true },
    ],
  });
  expect(res.status).toBe(409);
  expect(res.body.error.code).toBe('consent_required');
  expect(res.body.error.fields).toEqual([
    { field: 'preferences.1.optedIn', reason: expect.stringContaining('consent') },
    { field: 'preferences.2.optedIn', reason: expect.stringContaining('consent') },
  ]);
  expect(await h.db.preference.count({ where: { customerId: id } })).toBe(0);

  const push = await h.api('PUT', `/v1/customers/${id}/preferences`, { preferences: [{ channel: 'push', category: 'marketing', optedIn: true }] });
  expect(push.status).toBe(200);
  expect(await effective(id, 'push', 'restock')).toMatchObject({ optedIn: true, source: 'class', consent: { rule: 'record-or-opt-in', status: 'none', satisfied: true }, permitted: true });
  expect(await h.db.consentRecord.count({ where: { customerId: id } })).toBe(0);
});

test('an opt-in with its consent records the consent; an opt-out records the withdrawal', async () => {
  const id = await customer();
  const optIn = await h.api('PUT', `/v1/customers/${id}/preferences`, {
    preferences: [
      { channel: 'sms', category: 'promotions', optedIn: true },
      { channel: 'email', category: 'marketing', optedIn: true },
    ],
    consent: { source: 'checkout-form', recordedAt: '2026-11-20T09:00:00Z' },
  });
  expect(optIn.status).toBe(200);
  const history = await h.api('GET', `/v1/customers/${id}/consents`, undefined, readKey);
  expect(history.status).toBe(200);
  expect(history.body.items).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ customerId: id, channel: 'sms', category: 'promotions', granted: true, source: 'checkout-form', recordedAt: '2026-11-20T09:00:00.000Z' }),
      expect.objectContaining({ channel: 'email', category: 'marketing', granted: true, source: 'checkout-form' }),
    ]),
  );
  expect(history.body.items).toHaveLength(2);
  expect(await effective(id, 'sms', 'promotions')).toMatchObject({
    optedIn: true, source: 'category', permitted: true,
    consent: { rule: 'record', status: 'granted', satisfied: true, record: { category: 'promotions', source: 'checkout-form', recordedAt: '2026-11-20T09:00:00.000Z' } },
  });
  expect(await effective(id, 'email', 'cart-reminders')).toMatchObject({ permitted: true, consent: { status: 'granted', record: { category: 'marketing' } } });

  // A later opt-in to another topic under the consented class needs nothing more.
  expect((await h.api('PUT', `/v1/customers/${id}/preferences`, { preferences: [{ channel: 'email', category: 'restock', optedIn: true }] })).status).toBe(200);

  const optOut = await h.api('PUT', `/v1/customers/${id}/preferences`, { preferences: [{ channel: 'sms', category: 'promotions', optedIn: false }] });
  expect(optOut.status).toBe(200);
  const after = await h.api('GET', `/v1/customers/${id}/consents`);
  expect(after.body.items[0]).toMatchObject({ channel: 'sms', category: 'promotions', granted: false, source: 'preference-opt-out' });
  expect(await effective(id, 'sms', 'promotions')).toMatchObject({ permitted: false, reason: 'preference', consent: { status: 'withdrawn' } });
  // Opting in again needs consent again.
  const again = await h.api('PUT', `/v1/customers/${id}/preferences`, { preferences: [{ channel: 'sms', category: 'promotions', optedIn: true }] });
  expect(again.status).toBe(409);
});

test('POST consents appends to the history; a withdrawal takes effect at once, and the preference follows', async () => {
  const id = await customer();
  const grant = await h.api('POST', `/v1/customers/${id}/consents`, { channel: 'sms', category: 'marketing', granted: true, source: 'sms-keyword:JOIN' }, ingestKey);
  expect(grant.status).toBe(201);
  expect(grant.body).toEqual({
    consentId: expect.any(String), customerId: id, channel: 'sms', category: 'marketing', granted: true, source: 'sms-keyword:JOIN',
    recordedAt: expect.any(String), receivedAt: expect.any(String),
  });
  expect(await effective(id, 'sms', 'cart-reminders')).toMatchObject({ optedIn: true, source: 'class', permitted: true });
  // The SMS opt-in now has its consent on record.
  expect((await h.api('PUT', `/v1/customers/${id}/preferences`, { preferences: [{ channel: 'sms', category: 'restock', optedIn: true }] })).status).toBe(200);

  // Withdrawn, with a recordedAt older than the grant: what Herald received last decides.
  const withdrawal = await h.api('POST', `/v1/customers/${id}/consents`, {
    channel: 'sms', category: 'marketing', granted: false, source: 'sms-keyword:STOP', recordedAt: '2026-01-01T00:00:00Z',
  });
  expect(withdrawal.status).toBe(201);
  expect(await effective(id, 'sms', 'restock')).toMatchObject({ optedIn: true, source: 'category', permitted: false, reason: 'no_consent' });
  expect(await effective(id, 'sms', 'marketing')).toMatchObject({ optedIn: false, source: 'category', reason: 'preference' });

  const history = await h.api('GET', `/v1/customers/${id}/consents`);
  expect(history.body.items.map((c: any) => [c.granted, c.source])).toEqual([
    [false, 'sms-keyword:STOP'],
    [true, 'sms-keyword:JOIN'],
  ]);

  // The loader hands the decision the latest record per channel and category, with ISO times.
  const state = await loadPreferenceState(h.db, id);
  expect(state.consents).toEqual([
    { channel: 'sms', category: 'marketing', granted: false, source: 'sms-keyword:STOP', recordedAt: '2026-01-01T00:00:00.000Z', receivedAt: expect.stringMatching(/Z$/) },
  ]);
  expect(state.preferences).toEqual(
    expect.arrayContaining([
      { channel: 'sms', category: 'marketing', optedIn: false },
      { channel: 'sms', category: 'restock', optedIn: true },
    ]),
  );
  expect(decideChannels(state, { category: 'marketing', topic: 'restock', priority: 'critical' }, ['push', 'email', 'sms'])).toEqual({
    category: 'restock',
    permitted: [],
    refused: [
      { channel: 'push', reason: 'no_consent' },
      { channel: 'email', reason: 'no_consent' },
      { channel: 'sms', reason: 'no_consent' },
    ],
    override: null,
  });
  expect(await loadPreferenceState(h.db, 'prefs-nobody')).toEqual({ preferences: [], consents: [] });
});

test('bad input names the field; unknown customers are 404; scopes as the other customer routes', async () => {
  const id = await customer();
  const badCategory = await h.api('PUT', `/v1/customers/${id}/preferences`, { preferences: [{ channel: 'email', category: 'newsletters', optedIn: true }] });
  expect(badCategory.status).toBe(400);
  expect(badCategory.body.error.fields).toEqual([{ field: 'preferences.0.category', reason: expect.stringContaining('order-updates') }]);
  const transactional = await h.api('POST', `/v1/customers/${id}/consents`, { channel: 'email', category: 'order-updates', granted: true, source: 'form' });
  expect(transactional.status).toBe(400);
  expect(transactional.body.error.fields).toEqual([{ field: 'category', reason: expect.stringContaining('transactional messages need no consent') }]);
  const noSource = await h.api('POST', `/v1/customers/${id}/consents`, { channel: 'email', category: 'marketing', granted: true });
  expect(noSource.body.error.fields).toEqual([{ field: 'source', reason: 'is required' }]);

  for (const [method, path] of [
    ['GET', '/v1/customers/prefs-nobody/preferences'],
    ['GET', '/v1/customers/prefs-nobody/consents'],
    ['POST', '/v1/customers/prefs-nobody/consents'],
  ] as const) {
    const body = method === 'POST' ? { channel: 'email', category: 'marketing', granted: true, source: 'form' } : undefined;
    expect([method, path, (await h.api(method, path, body)).status]).toEqual([method, path, 404]);
  }

  expect((await h.api('GET', `/v1/customers/${id}/preferences`, undefined, ingestKey)).status).toBe(403);
  expect((await h.api('GET', `/v1/customers/${id}/consents`, undefined, ingestKey)).status).toBe(403);
  expect((await h.api('POST', `/v1/customers/${id}/consents`, { channel: 'email', category: 'marketing', granted: false, source: 'form' }, readKey)).status).toBe(403);
  expect((await h.api('PUT', `/v1/customers/${id}/preferences`, { preferences: [{ channel: 'push', category: 'transactional', optedIn: true }] }, readKey)).status).toBe(403);
});
