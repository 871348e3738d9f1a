// The preference and consent rules (domain/preferences.ts): categories, defaults, the most specific row
// winning, consent for marketing, and which channels a notification may use. Pure functions: no stack.
import {
  CATEGORY_TREE,
  MARKETING_CATEGORIES,
  PREFERENCE_CATEGORIES,
  classOf,
  decideChannels,
  effectivePreferences,
  isPreferenceCategory,
  latestConsent,
  notificationKindFor,
  resolvePreference,
  CHANNELS,
  type ChannelDecisionKind,
  type ConsentEntry,
  type PreferenceRow,
  type PreferenceState,
} from '../domain';

const ALL = ['push', 'email', 'sms', 'inapp'] as const;
const state = (preferences: PreferenceRow[] = [], consents: ConsentEntry[] = []): PreferenceState => ({ preferences, consents });
/** A consent record received at `receivedAt` (the customer gave it then too, unless said otherwise). */
const consent = (channel: ConsentEntry['channel'], category: string, granted: boolean, receivedAt: string, source = 'checkout-form', recordedAt = receivedAt): ConsentEntry => ({
  channel,
  category,
  granted,
  source,
  recordedAt,
  receivedAt,
});

const orderUpdate = (priority: 'critical' | 'routine'): ChannelDecisionKind => ({ category: 'transactional', topic: 'order-updates', priority });
const promotion = (priority: 'critical' | 'routine' = 'routine'): ChannelDecisionKind => ({ category: 'marketing', topic: 'promotions', priority });

describe('categories', () => {
  test('two classes with their topics; a class belongs to itself', () => {
    expect(PREFERENCE_CATEGORIES).toEqual(['transactional', 'order-updates', 'marketing', 'promotions', 'cart-reminders', 'restock', 'price-drops']);
    expect(MARKETING_CATEGORIES).toEqual(['marketing', 'promotions', 'cart-reminders', 'restock', 'price-drops']);
    expect(CATEGORY_TREE.transactional).toEqual(['order-updates']);
    expect(classOf('order-updates')).toBe('transactional');
    expect(classOf('restock')).toBe('marketing');
    expect(classOf('marketing')).toBe('marketing');
    expect(isPreferenceCategory('cart-reminders')).toBe(true);
    expect(isPreferenceCategory('newsletters')).toBe(false);
    expect(isPreferenceCategory(undefined)).toBe(false);
  });

  test('every order status is an order update', () => {
    expect(notificationKindFor('shipped')).toMatchObject({ category: 'transactional', topic: 'order-updates', priority: 'critical' });
    expect(notificationKindFor('confirmed')).toMatchObject({ category: 'transactional', topic: 'order-updates', priority: 'routine' });
  });
});

describe('defaults', () => {
  test('transactional is opted in on every channel', () => {
    const decision = decideChannels(state(), orderUpdate('routine'), ALL);
    expect(decision).toEqual({ category: 'order-updates', permitted: ['push', 'email', 'sms', 'inapp'], refused: [], override: null });
    for (const channel of ALL) expect(resolvePreference(state(), channel, 'order-updates')).toMatchObject({ optedIn: true, source: 'default', default: 'opted-in' });
  });

  test('marketing is off on push, email and SMS until the customer consents, and on in the inbox', () => {
    const decision = decideChannels(state(), promotion(), ALL);
    expect(decision.permitted).toEqual(['inapp']);
    expect(decision.refused).toEqual([
      { channel: 'push', reason: 'no_consent' },
      { channel: 'email', reason: 'no_consent' },
      { channel: 'sms', reason: 'no_consent' },
    ]);
    expect(resolvePreference(state(), 'sms', 'promotions')).toMatchObject({
      optedIn: false,
      source: 'default',
      default: 'with-consent',
      consent: { rule: 'record', status: 'none', record: null, satisfied: false },
    });
    expect(resolvePreference(state(), 'inapp', 'restock')).toMatchObject({ optedIn: true, default: 'opted-in', consent: { rule: 'none', satisfied: true } });
  });

  test('a granted consent with no row opts the customer in (the default follows consent)', () => {
    const s = state([], [consent('sms', 'marketing', true, '2026-11-01T10:00:00Z')]);
    expect(resolvePreference(s, 'sms', 'cart-reminders')).toMatchObject({ optedIn: true, source: 'default', permitted: true, reason: null });
  });

  test('effectivePreferences lists every channel and category', () => {
    const items = effectivePreferences(state(), CHANNELS);
    expect(items).toHaveLength(CHANNELS.length * PREFERENCE_CATEGORIES.length);
    expect(items.filter((i) => i.permitted).map((i) => `${i.channel}/${i.category}`)).toEqual([
      'push/transactional',
      'push/order-updates',
      'email/transactional',
      'email/order-updates',
      'sms/transactional',
      'sms/order-updates',
      'inapp/transactional',
      'inapp/order-updates',
      'inapp/marketing',
      'inapp/promotions',
      'inapp/cart-reminders',
      'inapp/restock',
      'inapp/price-drops',
    ]);
  });
});

describe('the most specific row wins', () => {
  test('a class row applies to its topics', () => {
    const s = state([{ channel: 'email', category: 'transactional', optedIn: false }]);
    expect(resolvePreference(s, 'email', 'order-updates')).toMatchObject({ optedIn: false, source: 'class', reason: 'preference' });
    expect(decideChannels(s, orderUpdate('routine'), ['push', 'email']).refused).toEqual([{ channel: 'email', reason: 'preference' }]);
  });

  test('a topic row overrides its class row, both ways', () => {
    const optInTopic = state([
      { channel: 'sms', category: 'transactional', optedIn: false },
      { channel: 'sms', category: 'order-updates', optedIn: true },
    ]);
    expect(resolvePreference(optInTopic, 'sms', 'order-updates')).toMatchObject({ optedIn: true, source: 'category', permitted: true });
    expect(resolvePreference(optInTopic, 'sms', 'transactional')).toMatchObject({ optedIn: false, source: 'category' });

    const granted = [consent('email', 'marketing', true, '2026-11-01T10:00:00Z')];
    const optOutTopic = state(
      [
        { channel: 'email', category: 'marketing', optedIn: true },
        { channel: 'email', category: 'promotions', optedIn: false },
      ],
      granted,
    );
    expect(decideChannels(optOutTopic, promotion(), ['email']).refused).toEqual([{ channel: 'email', reason: 'preference' }]);
    expect(decideChannels(optOutTopic, { category: 'marketing', topic: 'restock', priority: 'routine' }, ['email']).permitted).toEqual(['email']);
  });

  test('rows on other channels or of unknown categories do not count', () => {
    const s = state([
      { channel: 'push', category: 'order-updates', optedIn: false },
      { channel: 'email', category: 'newsletters', optedIn: false },
    ]);
    expect(resolvePreference(s, 'email', 'order-updates')).toMatchObject({ optedIn: true, source: 'default' });
  });

  test('a kind with no topic (recorded before topics) is decided on its class', () => {
    const s = state([{ channel: 'push', category: 'order-updates', optedIn: false }]);
    expect(decideChannels(s, { category: 'transactional', priority: 'routine' }, ['push'])).toMatchObject({ category: 'transactional', permitted: ['push'] });
  });
});

describe('critical operational messages', () => {
  const optedOut = (...channels: Array<'push' | 'email' | 'sms' | 'inapp'>) =>
    state(channels.map((channel) => ({ channel, category: 'order-updates', optedIn: false })));

  test('keep to the opt-outs while another channel is permitted', () => {
    const decision = decideChannels(optedOut('push', 'email'), orderUpdate('critical'), ALL);
    expect(decision).toEqual({
      category: 'order-updates',
      permitted: ['sms', 'inapp'],
      refused: [
        { channel: 'push', reason: 'preference' },
        { channel: 'email', reason: 'preference' },
      ],
      override: null,
    });
  });

  test('override the first available of push, email, SMS when nothing else may carry them, and say so', () => {
    expect(decideChannels(optedOut('push', 'email', 'sms'), orderUpdate('critical'), ALL)).toEqual({
      category: 'order-updates',
      permitted: ['push', 'inapp'],
      refused: [
        { channel: 'email', reason: 'preference' },
        { channel: 'sms', reason: 'preference' },
      ],
      override: 'push',
    });
    // No device: the first available is email, whatever order the channels come in.
    expect(decideChannels(optedOut('push', 'email', 'sms'), orderUpdate('critical'), ['sms', 'email'])).toMatchObject({
      permitted: ['email'],
      refused: [{ channel: 'sms', reason: 'preference' }],
      override: 'email',
    });
    expect(decideChannels(optedOut('sms'), orderUpdate('critical'), ['sms'])).toMatchObject({ permitted: ['sms'], refused: [], override: 'sms' });
  });

  test('the in-app inbox does not count as a channel left', () => {
    expect(decideChannels(optedOut('push', 'email'), orderUpdate('critical'), ['push', 'email', 'inapp']).override).toBe('push');
  });

  test('routine messages never override', () => {
    expect(decideChannels(optedOut('push', 'email', 'sms'), orderUpdate('routine'), ALL)).toMatchObject({ permitted: ['inapp'], override: null });
  });

  test('nothing to override when no delivery channel is available', () => {
    expect(decideChannels(optedOut('inapp'), orderUpdate('critical'), ['inapp'])).toEqual({
      category: 'order-updates',
      permitted: [],
      refused: [{ channel: 'inapp', reason: 'preference' }],
      override: null,
    });
    expect(decideChannels(state(), orderUpdate('critical'), [])).toEqual({ category: 'order-updates', permitted: [], refused: [], override: null });
  });
});

describe('marketing needs consent', () => {
  test('never without it, critical or not', () => {
    for (const priority of ['routine', 'critical'] as const) {
      const decision = decideChannels(state(), promotion(priority), ['push', 'email', 'sms']);
      expect(decision).toEqual({
        category: 'promotions',
        permitted: [],
        refused: [
          { channel: 'push', reason: 'no_consent' },
          { channel: 'email', reason: 'no_consent' },
          { channel: 'sms', reason: 'no_consent' },
        ],
        override: null,
      });
    }
    // Opted out everywhere, consent on record: still no override for marketing.
    const s = state(
      [{ channel: 'push', category: 'marketing', optedIn: false }],
      [consent('push', 'marketing', true, '2026-11-01T10:00:00Z')],
    );
    expect(decideChannels(s, promotion('critical'), ['push'])).toMatchObject({ permitted: [], override: null, refused: [{ channel: 'push', reason: 'preference' }] });
  });

  test('SMS needs a granted consent record: an opt-in row alone is not enough', () => {
    const rowOnly = state([{ channel: 'sms', category: 'marketing', optedIn: true }]);
    expect(decideChannels(rowOnly, promotion(), ['sms']).refused).toEqual([{ channel: 'sms', reason: 'no_consent' }]);
    const recorded = state(rowOnly.preferences, [consent('sms', 'promotions', true, '2026-11-01T10:00:00Z', 'sms-keyword:JOIN')]);
    expect(decideChannels(recorded, promotion(), ['sms']).permitted).toEqual(['sms']);
    // A record for another topic or channel does not cover this one.
    const elsewhere = state(rowOnly.preferences, [consent('sms', 'restock', true, '2026-11-01T10:00:00Z'), consent('email', 'promotions', true, '2026-11-01T10:00:00Z')]);
    expect(decideChannels(elsewhere, promotion(), ['sms']).refused).toEqual([{ channel: 'sms', reason: 'no_consent' }]);
  });

  test('email and push take a granted record, or with no record at all an explicit opt-in row', () => {
    const rows = state([
      { channel: 'email', category: 'marketing', optedIn: true },
      { channel: 'push', category: 'promotions', optedIn: true },
    ]);
    expect(decideChannels(rows, promotion(), ['push', 'email']).permitted).toEqual(['push', 'email']);
    expect(resolvePreference(rows, 'email', 'promotions').consent).toMatchObject({ rule: 'record-or-opt-in', status: 'none', satisfied: true });
    const recordOnly = state([], [consent('email', 'promotions', true, '2026-11-01T10:00:00Z')]);
    expect(decideChannels(recordOnly, promotion(), ['email']).permitted).toEqual(['email']);
  });

  test('a withdrawal takes effect at once, over an opt-in row', () => {
    const rows = [{ channel: 'email' as const, category: 'marketing', optedIn: true }];
    const withdrawn = state(rows, [
      consent('email', 'marketing', true, '2026-11-01T10:00:00Z'),
      consent('email', 'marketing', false, '2026-11-02T10:00:00Z', 'unsubscribe-link'),
    ]);
    expect(decideChannels(withdrawn, promotion(), ['email']).refused).toEqual([{ channel: 'email', reason: 'no_consent' }]);
    expect(resolvePreference(withdrawn, 'email', 'promotions').consent).toMatchObject({ status: 'withdrawn', record: { source: 'unsubscribe-link' } });
    // In the inbox too, where no consent is needed until one is withdrawn.
    expect(decideChannels(state([], [consent('inapp', 'marketing', false, '2026-11-02T10:00:00Z')]), promotion(), ['inapp']).refused).toEqual([
      { channel: 'inapp', reason: 'no_consent' },
    ]);
  });

  test('the latest record covering the topic decides: its own or its class', () => {
    const topicGrantThenClassWithdrawal = state([], [
      consent('sms', 'promotions', true, '2026-11-01T10:00:00Z'),
      consent('sms', 'marketing', false, '2026-11-02T10:00:00Z'),
    ]);
    expect(decideChannels(topicGrantThenClassWithdrawal, promotion(), ['sms']).refused).toEqual([{ channel: 'sms', reason: 'no_consent' }]);
    const classWithdrawalThenTopicGrant = state([], [
      consent('sms', 'marketing', false, '2026-11-01T10:00:00Z'),
      consent('sms', 'promotions', true, '2026-11-02T10:00:00Z'),
    ]);
    expect(decideChannels(classWithdrawalThenTopicGrant, promotion(), ['sms']).permitted).toEqual(['sms']);
    // The grant of one topic does not reach another under the same class.
    expect(decideChannels(classWithdrawalThenTopicGrant, { category: 'marketing', topic: 'restock', priority: 'routine' }, ['sms']).permitted).toEqual([]);
  });

  test('the order Herald received them in decides, not the time the client says the customer gave them', () => {
    // A withdrawal sent now with an older recordedAt still takes effect at once.
    const s = state([], [
      consent('email', 'marketing', true, '2026-11-01T10:00:00Z', 'checkout-form', '2026-11-01T09:00:00Z'),
      consent('email', 'marketing', false, '2026-11-02T10:00:00Z', 'support-call', '2026-10-01T09:00:00Z'),
    ]);
    expect(latestConsent(s, 'email', 'restock')).toMatchObject({ granted: false, source: 'support-call' });
    expect(decideChannels(s, { category: 'marketing', topic: 'restock', priority: 'routine' }, ['email']).refused).toEqual([{ channel: 'email', reason: 'no_consent' }]);
  });

  test('received together: the topic record beats its class record, and a withdrawal beats a grant', () => {
    const at = '2026-11-01T10:00:00.000Z';
    const sameCategory = state([], [consent('sms', 'marketing', false, at), consent('sms', 'marketing', true, at)]);
    expect(latestConsent(sameCategory, 'sms', 'promotions')).toMatchObject({ granted: false });
    expect(decideChannels(sameCategory, promotion(), ['sms']).permitted).toEqual([]);
    // "No marketing SMS, but promotions yes" in one request.
    const topicAndClass = state([], [consent('sms', 'promotions', true, at), consent('sms', 'marketing', false, at)]);
    expect(decideChannels(topicAndClass, promotion(), ['sms']).permitted).toEqual(['sms']);
    expect(decideChannels(topicAndClass, { category: 'marketing', topic: 'restock', priority: 'routine' }, ['sms']).permitted).toEqual([]);
  });

  test('an explicit opt-out is reported as the preference, even with consent on record', () => {
    const s = state([{ channel: 'sms', category: 'promotions', optedIn: false }], [consent('sms', 'marketing', true, '2026-11-01T10:00:00Z')]);
    expect(decideChannels(s, promotion(), ['sms']).refused).toEqual([{ channel: 'sms', reason: 'preference' }]);
  });

  test('a kind whose topic is marketing is decided as marketing, whatever its category says', () => {
    const decision = decideChannels(state(), { category: 'transactional', topic: 'promotions', priority: 'critical' }, ['email']);
    expect(decision).toMatchObject({ category: 'promotions', permitted: [], refused: [{ channel: 'email', reason: 'no_consent' }], override: null });
    expect(decideChannels(state(), { category: 'marketing', topic: 'order-updates', priority: 'critical' }, ['email'])).toMatchObject({
      category: 'marketing',
      permitted: [],
      override: null,
    });
  });
});

test('channels are decided once each, in the order given', () => {
  expect(decideChannels(state(), orderUpdate('routine'), ['sms', 'push', 'sms', 'email']).permitted).toEqual(['sms', 'push', 'email']);
});
