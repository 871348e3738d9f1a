// Notification categories, preference defaults, consent rules, and the decision of which channels may carry
// a notification. Pure: shared by the API (effective preferences), activities and workflows.
import type { Channel, DeliveryChannel } from './delivery';
import type { NotificationCategory, Priority } from './order-status';

// ------------------------------------------------------------------------------------------- categories

/** The broad classes. Every notification belongs to one; consent rules and defaults are set per class. */
export type CategoryClass = NotificationCategory;
export const CATEGORY_CLASSES = ['transactional', 'marketing'] as const satisfies readonly CategoryClass[];

/** The finer categories (topics) under each class. A topic added here is valid everywhere: API, storage, decisions. */
export const CATEGORY_TREE = {
  transactional: ['order-updates'],
  marketing: ['promotions', 'cart-reminders', 'restock', 'price-drops'],
} as const satisfies Record<CategoryClass, readonly string[]>;

export type Topic = (typeof CATEGORY_TREE)[CategoryClass][number];

/** What a preference row or a consent record may name: a class (it covers its topics) or one topic. */
export const PREFERENCE_CATEGORIES = ['transactional', ...CATEGORY_TREE.transactional, 'marketing', ...CATEGORY_TREE.marketing] as const;
export type PreferenceCategory = (typeof PREFERENCE_CATEGORIES)[number];

/** The marketing class and its topics: what consent is recorded for. */
export const MARKETING_CATEGORIES = ['marketing', ...CATEGORY_TREE.marketing] as const;
export type MarketingCategory = (typeof MARKETING_CATEGORIES)[number];

const CLASS_OF: ReadonlyMap<string, CategoryClass> = new Map(
  CATEGORY_CLASSES.flatMap((cls) => [[cls, cls] as const, ...CATEGORY_TREE[cls].map((topic) => [topic, cls] as const)]),
);

export function isPreferenceCategory(value: unknown): value is PreferenceCategory {
  return typeof value === 'string' && CLASS_OF.has(value);
}

/** The class a category belongs to (a class belongs to itself). */
export function classOf(category: PreferenceCategory): CategoryClass {
  return CLASS_OF.get(category)!;
}

// ---------------------------------------------------------------------------------- defaults and consent

/**
 * The value of a (channel, category) for which the customer has no preference row:
 * - `opted-in` / `opted-out`: as it says;
 * - `with-consent`: opted out until the customer consents (see MARKETING_CONSENT), then opted in.
 */
export type PreferenceDefault = 'opted-in' | 'opted-out' | 'with-consent';

/**
 * Defaults per class and channel; a topic takes its class's default unless TOPIC_DEFAULTS says otherwise.
 * - Transactional: opted in everywhere (an order update is what the customer expects).
 * - Marketing email and SMS: off until the customer consents (e-privacy law: prior opt-in).
 * - Marketing push: off until the customer opts in (app stores forbid promotional push without an explicit opt-in).
 * - Marketing in the in-app inbox: opted in. It interrupts no one and reaches only someone using the app; a
 *   recorded withdrawal still stops it.
 */
export const PREFERENCE_DEFAULTS: Readonly<Record<CategoryClass, Readonly<Record<Channel, PreferenceDefault>>>> = {
  transactional: { push: 'opted-in', email: 'opted-in', sms: 'opted-in', inapp: 'opted-in' },
  marketing: { push: 'with-consent', email: 'with-consent', sms: 'with-consent', inapp: 'opted-in' },
};

/** Per-topic exceptions to the class defaults (none yet). */
export const TOPIC_DEFAULTS: Readonly<Partial<Record<Topic, Partial<Record<Channel, PreferenceDefault>>>>> = {};

/**
 * What counts as consent to marketing on a channel. The latest consent record covering the category (one for
 * the category itself or for its class) always decides when there is one: granted or withdrawn.
 * With no record at all:
 * - `record`: nothing else counts (SMS: an explicit recorded opt-in, with its time and source, is required);
 * - `record-or-opt-in`: an explicit opt-in preference row (for the topic or its class) counts (email, push);
 * - `none`: no consent is needed (in-app).
 */
export type ConsentRule = 'record' | 'record-or-opt-in' | 'none';
export const MARKETING_CONSENT: Readonly<Record<Channel, ConsentRule>> = { sms: 'record', email: 'record-or-opt-in', push: 'record-or-opt-in', inapp: 'none' };

/**
 * Channels on which the API refuses a new marketing opt-in unless a granted consent record covers it or the
 * request records one: every new email or SMS opt-in carries its evidence. (An email opt-in row without any
 * record, from before consent records were kept, still counts as consent in decisions.)
 */
export const OPT_IN_NEEDS_CONSENT_RECORD: ReadonlySet<Channel> = new Set<Channel>(['email', 'sms']);

// ------------------------------------------------------------------------------------------ the state

/** One preference row as stored. Categories outside PREFERENCE_CATEGORIES (a topic since removed) are ignored. */
export interface PreferenceRow {
  channel: Channel;
  category: string;
  optedIn: boolean;
}

/** One consent record as stored; times are ISO date-times (state crosses Temporal payloads as JSON). */
export interface ConsentEntry {
  channel: Channel;
  category: string;
  granted: boolean;
  source: string;
  /** When the customer gave or withdrew it, as the client said: evidence. */
  recordedAt: string;
  /** When Herald recorded it: the latest decides, so a withdrawal takes effect at once whatever its recordedAt. */
  receivedAt: string;
}

/** A customer's preference rows and consent records: what the decision reads (activities/preferences.ts loads it). */
export interface PreferenceState {
  preferences: PreferenceRow[];
  /** Any order; only the latest record per (channel, category) matters, so the loader sends just those. */
  consents: ConsentEntry[];
}

/** Why a channel may not carry a notification. */
export type ChannelRefusal = 'preference' | 'no_consent';

/** Where an effective preference value came from: the row for the category itself, the row for its class, or the default. */
export type PreferenceSource = 'category' | 'class' | 'default';

export interface ConsentStatus {
  rule: ConsentRule;
  /** The latest record covering the category: granted, withdrawn, or none at all. */
  status: 'granted' | 'withdrawn' | 'none';
  record: ConsentEntry | null;
  /** Whether the rule is met. */
  satisfied: boolean;
}

/** A customer's effective setting for one category on one channel, and whether it lets a notification through. */
export interface ResolvedPreference {
  channel: Channel;
  category: PreferenceCategory;
  class: CategoryClass;
  optedIn: boolean;
  source: PreferenceSource;
  /** The default that applies when no row does. */
  default: PreferenceDefault;
  /** Marketing only; null for transactional categories, which need no consent. */
  consent: ConsentStatus | null;
  permitted: boolean;
  reason: ChannelRefusal | null;
}

const time = (iso: string): number => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? -Infinity : t;
};

/**
 * The consent record for this channel that Herald received last among those covering the category (a record
 * for the category itself or for its class). Received together, the category's own record beats its class's,
 * and a withdrawal beats a grant.
 */
export function latestConsent(state: PreferenceState, channel: Channel, category: PreferenceCategory): ConsentEntry | null {
  const cls = classOf(category);
  const rank = (r: ConsentEntry): [number, number, number] => [time(r.receivedAt), r.category === category ? 1 : 0, r.granted ? 0 : 1];
  let latest: ConsentEntry | null = null;
  for (const record of state.consents) {
    if (record.channel !== channel || (record.category !== category && record.category !== cls)) continue;
    if (!latest) {
      latest = record;
      continue;
    }
    const [a, b] = [rank(record), rank(latest)];
    const later = a[0] !== b[0] ? a[0] > b[0] : a[1] !== b[1] ? a[1] > b[1] : a[2] > b[2];
    if (later) latest = record;
  }
  return latest;
}

function defaultOf(channel: Channel, category: PreferenceCategory): PreferenceDefault {
  return TOPIC_DEFAULTS[category as Topic]?.[channel] ?? PREFERENCE_DEFAULTS[classOf(category)][channel];
}

/**
 * A customer's effective preference for one category on one channel. The most specific setting wins: the row
 * for the category, then the row for its class, then the default. Marketing also needs consent
 * (MARKETING_CONSENT). Refusal reasons: an explicit opt-out is `preference`; otherwise missing or withdrawn
 * consent is `no_consent`; otherwise an opted-out default is `preference`.
 */
export function resolvePreference(state: PreferenceState, channel: Channel, category: PreferenceCategory): ResolvedPreference {
  const cls = classOf(category);
  const rowFor = (c: string) => state.preferences.find((p) => p.channel === channel && p.category === c);
  const own = rowFor(category);
  const row = own ?? (category !== cls ? rowFor(cls) : undefined);
  const source: PreferenceSource = own ? 'category' : row ? 'class' : 'default';
  const fallback = defaultOf(channel, category);

  let consent: ConsentStatus | null = null;
  if (cls === 'marketing') {
    const rule = MARKETING_CONSENT[channel];
    const record = latestConsent(state, channel, category);
    const status = record ? (record.granted ? 'granted' : 'withdrawn') : 'none';
    const satisfied = status === 'granted' || (status === 'none' && (rule === 'none' || (rule === 'record-or-opt-in' && row?.optedIn === true)));
    consent = { rule, status, record, satisfied };
  }
  const optedIn = row ? row.optedIn : fallback === 'opted-in' || (fallback === 'with-consent' && consent?.satisfied === true);
  const reason: ChannelRefusal | null =
    row && !row.optedIn ? 'preference' : consent && !consent.satisfied ? 'no_consent' : !optedIn ? 'preference' : null;
  return { channel, category, class: cls, optedIn, source, default: fallback, consent, permitted: reason === null, reason };
}

/** Every channel and category with its effective value: what GET /v1/customers/:id/preferences shows. */
export function effectivePreferences(state: PreferenceState, channels: readonly Channel[]): ResolvedPreference[] {
  return channels.flatMap((channel) => PREFERENCE_CATEGORIES.map((category) => resolvePreference(state, channel, category)));
}

// ------------------------------------------------------------------------------------------- the decision

/** What the decision needs to know of a notification (a NotificationKind has all of it). */
export interface ChannelDecisionKind {
  category: CategoryClass;
  /** The finer category; kinds recorded before topics existed have none and are decided on their class. */
  topic?: Topic;
  priority: Priority;
}

export interface ChannelDecision {
  /** The category decided on: the kind's topic, or its class. */
  category: PreferenceCategory;
  /** The channels that may carry the notification, in the order given; includes an override channel. */
  permitted: Channel[];
  /** The channels that may not, each with its reason. */
  refused: Array<{ channel: Channel; reason: ChannelRefusal }>;
  /**
   * A critical transactional notification that no delivery channel was permitted to carry goes out anyway on
   * the first available channel of push, email, SMS that only the customer's preference refused: this one.
   */
  override: DeliveryChannel | null;
}

/** The order in which a critical notification that nothing else may carry picks the channel it overrides. */
export const OVERRIDE_ORDER: readonly DeliveryChannel[] = ['push', 'email', 'sms'];

/**
 * A topic whose class disagrees with the kind's category is a programming error; deciding on the marketing
 * side of the two keeps the rule "never marketing without consent".
 */
function decisionCategory(kind: ChannelDecisionKind): PreferenceCategory {
  if (!kind.topic || !isPreferenceCategory(kind.topic)) return kind.category;
  if (classOf(kind.topic) === kind.category) return kind.topic;
  return classOf(kind.topic) === 'marketing' ? kind.topic : kind.category;
}

/**
 * Which of the channels a notification could use (those for which the customer has a device or an address)
 * may carry it, given the customer's preference rows and consent records.
 *
 * Each channel is resolved by resolvePreference (topic row, class row, default; consent for marketing).
 * A critical transactional notification that leaves no delivery channel (push, email, SMS) permitted ignores
 * the customer's opt-out on the first available of push, email, SMS, and says so in `override`. The in-app
 * inbox does not count as a channel left, since it reaches only someone already in the app. Marketing never
 * overrides anything: without consent it does not go, critical or not.
 */
export function decideChannels(state: PreferenceState, kind: ChannelDecisionKind, available: readonly Channel[]): ChannelDecision {
  const category = decisionCategory(kind);
  const channels = [...new Set(available)];
  const resolved = channels.map((channel) => resolvePreference(state, channel, category));
  const permitted = resolved.filter((r) => r.permitted).map((r) => r.channel);
  let refused = resolved.filter((r) => !r.permitted).map((r) => ({ channel: r.channel, reason: r.reason! }));

  let override: DeliveryChannel | null = null;
  const reachable = permitted.some((c) => (OVERRIDE_ORDER as readonly Channel[]).includes(c));
  if (kind.priority === 'critical' && classOf(category) === 'transactional' && !reachable) {
    override = OVERRIDE_ORDER.find((c) => refused.some((r) => r.channel === c && r.reason === 'preference')) ?? null;
    if (override) {
      refused = refused.filter((r) => r.channel !== override);
      permitted.push(override);
      permitted.sort((a, b) => channels.indexOf(a) - channels.indexOf(b));
    }
  }
  return { category, permitted, refused, override };
}
