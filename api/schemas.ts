// Request schemas: the single source of truth for validation and for the OpenAPI document (api/openapi.ts),
// whose parameters and bodies are generated from these, with their descriptions and examples.
import { z } from 'zod';
import { E164_NUMBER, ORDER_STATUSES, PLATFORMS, CHANNELS, MARKETING_CATEGORIES, PREFERENCE_CATEGORIES, WATCH_KINDS, type NotificationStatus } from '../domain';
import { TWILIO_MESSAGE_STATUSES } from './twilio-callbacks';
import { SCOPES } from './auth';
import { DEFAULT_TOKEN_TTL_SECONDS, MAX_TOKEN_TTL_SECONDS } from './customer-tokens';
import { CAMPAIGN_TEMPLATE_KEY_PATTERN, EVENT_DATA_VARIABLES, TEMPLATE_KEYS, VARIANT_TEMPLATE_NAME } from '../domain/template-variables';
import { PUSH_ACTION_LIMIT, PUSH_ACTION_TITLE_LIMIT, PUSH_IDENTIFIER, PUSH_URL_SOURCE_LIMIT } from '../lib/push-content';

const id = () =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : `must be a string`) })
    .min(1, { error: 'must not be empty', abort: true })
    .max(200, { error: 'must be at most 200 characters', abort: true })
    .regex(/^[A-Za-z0-9._:\-]+$/, `may contain only letters, digits, '.', '_', ':' and '-'`);

/** PostgreSQL text and jsonb cannot hold U+0000: such input is refused here (400), not by the database (500). */
const NO_NUL = /^[^\u0000]*$/;
const NO_NUL_REASON = 'must not contain the character U+0000 (NUL)';
const text = (max: number) => z.string().max(max, `must be at most ${max} characters`).regex(NO_NUL, NO_NUL_REASON);

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
const nulFreeString = z.string().regex(NO_NUL, NO_NUL_REASON);
/** Any JSON value whose strings and keys hold no U+0000 (what jsonb can store). */
export const jsonValueSchema: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([nulFreeString, z.number(), z.boolean(), z.null(), z.array(jsonValueSchema), z.record(nulFreeString, jsonValueSchema)], {
    error: `must be JSON whose strings and keys do not contain U+0000 (NUL)`,
  }),
);

export const isTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const isLocale = (locale: string): boolean => {
  try {
    return Intl.getCanonicalLocales(locale).length === 1;
  } catch {
    return false;
  }
};

/**
 * A BCP 47 locale: language (2-3 letters), then an optional script (4 letters) and region (2 letters or 3
 * digits), such as en, fr-CA, zh-Hant-TW or es-419. The pattern is what the OpenAPI document states, so
 * a value the document allows is one the API accepts, and the other way round.
 */
const LOCALE = /^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?$/;
const LOCALE_REASON = 'must be a BCP 47 locale such as en, fr-CA';
export const localeSchema = z.string().regex(LOCALE, LOCALE_REASON).refine(isLocale, LOCALE_REASON);

/** IANA names this runtime knows; aliases (US/Pacific, GMT, any letter case) are accepted too. */
const TIME_ZONES = [...new Set(['UTC', ...Intl.supportedValuesOf('timeZone')])].sort();
export const timeZoneSchema = z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris').meta({
  description: 'An IANA time zone. The list is the canonical names; their aliases (such as US/Pacific) are accepted too.',
  enum: TIME_ZONES,
});

/**
 * An ISO-8601 date-time with a time zone (Z or an offset up to ±14:59), a real calendar date, in the years
 * 1900 to 9999, and at most nanoseconds: what PostgreSQL stores as it is. (z.iso.datetime() also allows
 * the year 0000 and offsets up to ±23:59, which PostgreSQL refuses.)
 */
const YEAR = '(?:19|[2-9][0-9])[0-9]{2}';
const LEAP_YEAR = '(?:(?:19|[2-9][0-9])(?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[3579][26])00)';
const OCCURRED_AT = new RegExp(
  `^(?:${LEAP_YEAR}-02-29|${YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8])))` +
    'T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,9})?(?:Z|[+-](?:0[0-9]|1[0-4]):[0-5][0-9])$',
);
const OCCURRED_AT_REASON = 'must be an ISO-8601 date-time with a time zone, e.g. 2026-11-21T10:00:00Z (years 1900 to 9999)';

/** A date-time as above: exactly what its pattern (and so the OpenAPI document) says. */
export const isoDateTime = (reason = OCCURRED_AT_REASON) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : reason) })
    .regex(OCCURRED_AT, reason)
    .meta({ format: 'date-time' });

/** The data keys each status's templates read (domain/template-variables.ts, which strict variables hold templates to). */
const EVENT_DATA_DESCRIPTION =
  "The status's details, which its templates show. The keys the templates of each status read (`GET /v1/templates/order.<status>` " +
  'describes each one; other keys are kept with the event, and no template shows them). At most 16 KiB.\n\n' +
  ORDER_STATUSES.map((status) => `- \`${status}\`: ${EVENT_DATA_VARIABLES[status].map((v) => `\`${v.name}\``).join(', ')}`).join('\n');

export const orderEventSchema = z
  .object({
    eventId: id().meta({
      description: "The OMS's id of this event, unique across events: the same eventId again is a duplicate and sends nothing twice.",
    }),
    orderId: id().meta({ description: "The OMS's order id. Each order has one workflow, `order:<orderId>`." }),
    customerId: id().meta({
      description: "The OMS's id of the customer who placed the order: the profile of `PUT /v1/customers/{customerId}`.",
    }),
    status: z.enum(ORDER_STATUSES, { error: `must be one of ${ORDER_STATUSES.join(', ')}` }).meta({
      description: 'The status the order moved to. shipped, out_for_delivery, delayed, cancelled and payment_failed are critical: they go at once.',
    }),
    occurredAt: isoDateTime().meta({
      description: 'When the order changed status in the OMS, with its time zone. An event older than the order\'s current status is recorded but not announced.',
    }),
    source: z
      .string({ error: 'is required' })
      .min(1, 'must not be empty')
      .max(100, 'must be at most 100 characters')
      .regex(NO_NUL, NO_NUL_REASON)
      .meta({ description: 'The system that sent the event, such as `oms` or `shopify`; the metrics count events by it.' }),
    data: z
      .record(nulFreeString, jsonValueSchema, {
        error: (issue) => (issue.code === 'invalid_key' ? 'keys must not contain the character U+0000 (NUL)' : 'must be an object'),
      })
      .default({})
      .refine((d) => JSON.stringify(d).length <= 16_384, 'must serialise to at most 16 KiB')
      .meta({
        description: EVENT_DATA_DESCRIPTION,
      }),
  });
export type OrderEventInput = z.infer<typeof orderEventSchema>;

/**
 * An email address: zod's own pattern for the local part, and a host whose labels are DNS labels (1 to 63
 * characters, no '-' at either end), so that what passes is also an `email` as the document's format means it.
 */
const EMAIL = /^(?=[^@]{1,64}@)(?!\.)(?!.*\.\.)[A-Za-z0-9_'+\-.]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

const COUNTRY_REASON = 'must be an ISO 3166-1 alpha-2 country code such as FR';

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:MM (24-hour)');

export const customerSchema = z
  .object({
  name: text(200).nullish().meta({ description: "The customer's name, as templates greet them (`customerName`). Left as it is when not given; null clears it." }),
  email: z
    .email({ pattern: EMAIL, error: 'must be an email address' })
    .max(254, 'must be at most 254 characters')
    .nullish()
    .meta({ description: 'Where email notifications go. Left as it is when not given; null clears it (and email stops).' }),
  phone: z
    .string()
    .regex(E164_NUMBER, 'must be an E.164 number such as +14155550123')
    .nullish()
    .meta({ description: 'Where SMS notifications go: an E.164 number. Left as it is when not given; null clears it (and SMS stops).' }),
  locale: localeSchema.optional().meta({ description: 'The language of the messages (BCP 47, such as `fr-CA`): templates fall back from it to its language, then `en`. `en` for a new customer.' }),
  timeZone: timeZoneSchema.optional().meta({ description: 'The IANA zone dates are shown in and quiet hours count in (a device\'s own zone wins for push). `UTC` for a new customer.' }),
  country: z
    .string({ error: COUNTRY_REASON })
    .regex(/^[A-Za-z]{2}$/, COUNTRY_REASON)
    .transform((c) => c.toUpperCase())
    .nullish()
    .meta({ description: 'Where the customer is: ISO 3166-1 alpha-2 (`FR`; either case, kept upper-case), as segments match it. Left as it is when not given; null clears it.' }),
  quietHours: z
    .object({ start: clock, end: clock })
    .refine((q) => q.start !== q.end, 'start and end must differ')
    .nullish()
    .meta({ description: "Local times (in the device's or the customer's zone) when routine pushes wait; the window may span midnight." }),
  });

const CATEGORY_REASON = `must be one of ${PREFERENCE_CATEGORIES.join(', ')}`;
const consentSource = () =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .min(1, 'must not be empty')
    .max(200, 'must be at most 200 characters')
    .regex(NO_NUL, NO_NUL_REASON)
    .meta({ description: 'Where the customer gave or withdrew consent, e.g. `checkout-form`, `sms-keyword:STOP`, `support-call`.' });
const consentRecordedAt = () =>
  isoDateTime()
    .optional()
    .meta({ description: 'When the customer gave or withdrew it; now when not given. Evidence only: the record Herald received last decides.' });

export const preferencesSchema = z
  .object({
  preferences: z
    .array(
      z.object({
        channel: z.enum(CHANNELS, { error: `must be one of ${CHANNELS.join(', ')}` }).meta({ description: 'The channel the row is about.' }),
        category: z
          .enum(PREFERENCE_CATEGORIES, { error: CATEGORY_REASON })
          .meta({ description: 'A class (`transactional`, `marketing`) or one of its topics; a topic row overrides its class row.' }),
        optedIn: z.boolean().meta({ description: 'Whether notifications of this category may go on this channel (marketing also needs consent).' }),
      }),
    )
    .min(1, 'must list at least one preference')
    .max(CHANNELS.length * PREFERENCE_CATEGORIES.length)
    .meta({ description: 'The rows to set; the rows not listed stay as they are.' }),
  consent: z
    .object({ source: consentSource(), recordedAt: consentRecordedAt() })
    .optional()
    .meta({
      description:
        'The consent that goes with the marketing opt-ins of this request: a granted consent record is kept for each of them on push, ' +
        'email and SMS. Without it, an email or SMS marketing opt-in needs a granted consent on record already (409 otherwise).',
    }),
  });
export type PreferencesInput = z.infer<typeof preferencesSchema>;

/** POST /v1/customers/:customerId/consents: one entry of the append-only consent history. */
export const consentSchema = z
  .object({
    channel: z.enum(CHANNELS, { error: `must be one of ${CHANNELS.join(', ')}` }).meta({ description: 'The channel the consent covers.' }),
    category: z
      .enum(MARKETING_CATEGORIES, { error: `must be one of ${MARKETING_CATEGORIES.join(', ')} (transactional messages need no consent)` })
      .meta({ description: '`marketing` (every marketing topic) or one topic.' }),
    granted: z
      .boolean({ error: 'must be true (consent given) or false (withdrawn)' })
      .meta({ description: 'true: the customer gave consent; false: they withdrew it (marketing on this channel stops at once).' }),
    source: consentSource(),
    recordedAt: consentRecordedAt(),
  });
export type ConsentInput = z.infer<typeof consentSchema>;

const base64url = /^[A-Za-z0-9_-]+={0,2}$/;

/**
 * A web device's push service endpoint: https, a DNS name (its last label starts with a letter) or an IPv4
 * address, an optional port and a path. Tighter than "any https URL" so that the document states exactly
 * what passes.
 */
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const PORT = '(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})';
const PUSH_ENDPOINT = new RegExp(
  `^https://(?:(?:[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*\\.)*[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*|${OCTET}(?:\\.${OCTET}){3})(?::${PORT})?(?:/[!-~]*)?$`,
);

const deviceBase = {
  deviceId: id().meta({ description: 'The id the app gives this installation; registering it again refreshes it.' }),
  app: text(200).optional().meta({ description: 'The app, such as its bundle id; kept with the device.' }),
  locale: localeSchema.optional().meta({ description: "The language the app runs in: pushes to this device are written in it (the customer's locale when not given)." }),
  timeZone: timeZoneSchema.optional().meta({ description: "The device's zone, which its quiet hours count in (the customer's zone when not given)." }),
};
const tokenFor = (platform: string) =>
  z.string({ error: (issue) => (issue.input === undefined ? `is required for ${platform} devices` : 'must be a string') });

/** One shape per platform: iOS and Android send their token, web devices their PushSubscription. */
export const deviceSchema = z.discriminatedUnion(
  'platform',
  [
    z.object({
      ...deviceBase,
      platform: z.literal('ios').meta({ description: 'An iOS app, reached through APNs.' }),
      token: tokenFor('ios')
        .regex(/^[0-9a-fA-F]{64,200}$/, 'must be an APNs device token: at least 64 hexadecimal characters')
        .meta({ description: 'The APNs device token, in hexadecimal. A new token for the same deviceId replaces the old one.' }),
    }),
    z.object({
      ...deviceBase,
      platform: z.literal('android').meta({ description: 'An Android app, reached through FCM.' }),
      token: tokenFor('android')
        .regex(/^[A-Za-z0-9_\-]+(:[A-Za-z0-9_\-]+)?$/, { error: 'must be an FCM registration token (letters, digits, -, _ and one :)', abort: true })
        .min(100, 'must be an FCM registration token of 100 to 4096 characters')
        .max(4096, 'must be an FCM registration token of 100 to 4096 characters')
        .meta({ description: 'The FCM registration token. A new token for the same deviceId replaces the old one.' }),
    }),
    z.object({
      ...deviceBase,
      platform: z.literal('web').meta({ description: 'A browser, reached through its Web Push service.' }),
      subscription: z.object(
        {
          endpoint: z
            .url({ protocol: /^https$/, error: 'must be an https URL' })
            .max(2048)
            .regex(PUSH_ENDPOINT, 'must be an https URL with a DNS host name')
            .meta({ description: "The PushSubscription's endpoint: the push service URL of this browser." }),
          keys: z.object({
            /** The subscription's keys, as PushSubscription.toJSON() gives them. */
            p256dh: z.string().regex(base64url, 'must be base64url').min(80, 'must be an uncompressed P-256 public key (base64url, 87 chars)').max(100),
            auth: z.string().regex(base64url, 'must be base64url').min(16, 'must be a 16-byte secret (base64url, 22 chars)').max(32),
          }),
        },
        { error: (issue) => (issue.input === undefined ? 'is required for web devices (a PushSubscription: endpoint and keys)' : 'must be an object') },
      ),
    }),
  ],
  { error: `must be one of ${PLATFORMS.join(', ')}` },
);

export const apiKeySchema = z
  .object({
    name: text(100).min(1, 'must not be empty').meta({ description: 'Who or what holds the key, to recognise it in the list.' }),
    scopes: z
      .array(z.enum(SCOPES, { error: `must be one of ${SCOPES.join(', ')}` }))
      .min(1, 'must list at least one scope')
      .meta({
        description:
          '`ingest` posts events and writes customers and devices, `read` reads history and state, `tokens` mints customer tokens, `admin` does everything.',
      }),
  });

/** POST /v1/customers/:customerId/tokens: the body may be left out. */
export const customerTokenSchema = z
  .strictObject({
    ttlSeconds: z
      .number({ error: 'must be a whole number of seconds' })
      .int('must be a whole number of seconds')
      .min(1, 'must be at least 1')
      .max(MAX_TOKEN_TTL_SECONDS, `must be at most ${MAX_TOKEN_TTL_SECONDS} (a day)`)
      .default(DEFAULT_TOKEN_TTL_SECONDS)
      .meta({ description: `How long the token is valid, in seconds: 1 to ${MAX_TOKEN_TTL_SECONDS}, ${DEFAULT_TOKEN_TTL_SECONDS} when not given.` }),
  })
  .optional()
  .transform((body) => body ?? { ttlSeconds: DEFAULT_TOKEN_TTL_SECONDS });

export const pageQuerySchema = z.object({
  limit: z.coerce
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(100, 'must be at most 100')
    .default(20)
    .meta({ description: 'How many items a page holds: 1 to 100, 20 when not given.' }),
  cursor: z
    .string()
    .max(500)
    .regex(/^[A-Za-z0-9_-]*$/, 'is not a cursor this API issued')
    .optional()
    .meta({ description: "The previous page's `nextCursor`, for the page after it; the first page when not given." }),
});

export const pathIdSchema = id();

export const inboxQuerySchema = pageQuerySchema.extend({
  unread: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .optional()
    .meta({ description: '`true`: only unread messages; `false`: only read ones; every message when not given.' }),
});

/** GET /v1/lookup: the one string the operator has. */
export const lookupQuerySchema = z.object({
  q: pathIdSchema.meta({ description: 'What the operator has: an order id, a customer id or an event id.', examples: ['1001', 'c-42', 'evt-1001-shipped'] }),
});

/** GET /v1/customers/{customerId}/timeline: a page of orders, fewer than other pages (each carries its events). */
export const customerTimelineQuerySchema = pageQuerySchema.extend({
  limit: z.coerce
    .number()
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(50, 'must be at most 50')
    .default(10)
    .meta({ description: 'How many orders a page holds: 1 to 50, 10 when not given.' }),
});

// A record, so that the compiler flags a status added to (or removed from) NotificationStatus.
const NOTIFICATION_STATUS_SET: Record<NotificationStatus, true> = { queued: true, sent: true, delivered: true, opened: true, clicked: true, failed: true, suppressed: true };
export const NOTIFICATION_STATUSES = Object.keys(NOTIFICATION_STATUS_SET) as NotificationStatus[];
const STATUS_LIST_REASON = `must be a comma-separated list of ${NOTIFICATION_STATUSES.join(', ')}`;
/** What the OpenAPI document states for `status`; the parser accepts exactly this (and the same values as repeated parameters). */
export const NOTIFICATION_STATUS_LIST_PATTERN = `^(${NOTIFICATION_STATUSES.join('|')})(,(${NOTIFICATION_STATUSES.join('|')}))*$`;
const TEMPLATE_KEY_REASON = "must be a template key such as order.shipped (letters, digits, '.', '_' and '-', at most 100)";

/** Delivery history: cursor paging plus filters; the cursor is a position, so it stays valid whatever the filters. */
export const historyQuerySchema = pageQuerySchema.extend({
  channel: z.enum(CHANNELS, { error: `must be one of ${CHANNELS.join(', ')}` }).optional().meta({ description: 'Only notifications on this channel.' }),
  status: z
    .preprocess((v) => (Array.isArray(v) ? v.join(',') : v), z.string({ error: STATUS_LIST_REASON }).regex(new RegExp(NOTIFICATION_STATUS_LIST_PATTERN), STATUS_LIST_REASON))
    .transform((v) => [...new Set(v.split(','))] as NotificationStatus[])
    .optional()
    // The wire form, which the preprocess and transform hide from the JSON Schema.
    .meta({
      type: 'string',
      description: `Only notifications in one of these statuses: a comma-separated list of ${NOTIFICATION_STATUSES.join(', ')}.`,
      pattern: NOTIFICATION_STATUS_LIST_PATTERN,
    }),
  from: isoDateTime().optional().meta({ description: 'Only notifications created at or after this instant (inclusive).' }),
  to: isoDateTime().optional().meta({ description: 'Only notifications created before this instant (exclusive).' }),
  template: z
    .string({ error: TEMPLATE_KEY_REASON })
    .regex(/^[A-Za-z0-9._-]{1,100}$/, TEMPLATE_KEY_REASON)
    .optional()
    .meta({ description: 'Only notifications of this template key (the notification `type`), such as `order.shipped`.' }),
});
export type HistoryQuery = z.infer<typeof historyQuerySchema>;

export const STATS_GROUP_BY = ['channel', 'provider', 'template', 'type', 'priority', 'campaign', 'variant'] as const;
export type StatsGroupBy = (typeof STATS_GROUP_BY)[number];
export const STATS_BUCKETS = ['minute', 'hour', 'day', 'auto'] as const;
export type StatsBucket = (typeof STATS_BUCKETS)[number];
export const STATS_MAX_RANGE_DAYS = 90;
const DAY_MS = 86_400_000;

const STATS_DATE_REASON = 'must be an ISO-8601 date-time with a time zone, e.g. 2026-11-21T10:00:00Z (years 1900 to 9999)';
// z.iso.datetime() allows the year 0000 and offsets PostgreSQL refuses; isoDateTime's pattern (the one the
// OpenAPI document shows) allows the years 1900 to 9999 and offsets up to ±14:59 only.
const statsDateTime = isoDateTime(STATS_DATE_REASON);

/** GET /v1/stats: the window [from, to) defaults to the last 24 hours; either end may be given alone. */
export const statsQuerySchema = z
  .object({
    from: statsDateTime.optional().meta({ description: 'The start of the window (inclusive); 24 hours before `to` when not given.' }),
    to: statsDateTime.optional().meta({ description: 'The end of the window (exclusive); now when not given.' }),
    groupBy: z
      .preprocess(
        (v) => (Array.isArray(v) ? v.join(',') : v),
        z.string({ error: 'must be a comma-separated list' }).optional(),
      )
      .meta({
        type: 'string',
        description: `A comma-separated list of ${STATS_GROUP_BY.join(', ')}; channel when not given.`,
        pattern: `^(${STATS_GROUP_BY.join('|')})(,(${STATS_GROUP_BY.join('|')}))*$`,
      })
      .transform((v, ctx) => {
        const items = (v ?? 'channel').split(',').map((s) => s.trim());
        const unknown = items.filter((s) => !(STATS_GROUP_BY as readonly string[]).includes(s));
        if (unknown.length) {
          ctx.addIssue({ code: 'custom', message: `must be a comma-separated list of ${STATS_GROUP_BY.join(', ')} (got ${unknown.map((s) => `'${s}'`).join(', ')})` });
          return z.NEVER;
        }
        return [...new Set(items)] as StatsGroupBy[];
      }),
    bucket: z
      .enum(STATS_BUCKETS, { error: `must be one of ${STATS_BUCKETS.join(', ')}` })
      .optional()
      .meta({
        description:
          'Adds a zero-filled time series of this step to every group. `auto` fits the bucket to the data: minute when the ' +
          "window's first notification is at most 3 hours before `to`, hour up to 7 days, else day, and starts the series at " +
          'that first notification (the response says which bucket and `seriesFrom`).',
      }),
  })
  .transform((q, ctx) => {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - DAY_MS);
    if (to.getTime() <= from.getTime()) {
      if (q.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be later than from' });
      else ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be earlier than to (now, when to is not given)' });
      return z.NEVER;
    }
    if (to.getTime() - from.getTime() > STATS_MAX_RANGE_DAYS * DAY_MS) {
      ctx.addIssue({ code: 'custom', path: ['from'], message: `must be at most ${STATS_MAX_RANGE_DAYS} days before to` });
      return z.NEVER;
    }
    return { from, to, groupBy: q.groupBy, bucket: q.bucket ?? null };
  });
export type StatsQuery = z.infer<typeof statsQuerySchema>;

// ------------------------------------------------------------------------- receipts and provider webhooks

/** Receipts an app or our email tracking reports for a notification. */
export const APP_RECEIPT_TYPES = ['delivered', 'opened', 'clicked'] as const;
export const APP_RECEIPT_SOURCES = ['app', 'email-tracking'] as const;

/** A notification id as the workflow makes them, `<eventId>/<channel>`: an id, then optionally '/' and another. */
export const notificationIdSchema = z
  .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
  .min(1, { error: 'must not be empty', abort: true })
  .max(300, { error: 'must be at most 300 characters', abort: true })
  .regex(/^[A-Za-z0-9._:-]+(\/[A-Za-z0-9._:-]+)?$/, `must be an id (letters, digits, '.', '_', ':' and '-'), optionally followed by '/' and another, such as ev-1/push`);

/** A client's or a provider's event id: kept as the receipt's dedupe key, so the same report twice records once. */
const reportId = () => z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters').regex(NO_NUL, NO_NUL_REASON);

/** POST /v1/notifications/:notificationId/events */
export const notificationEventSchema = z.object({
  type: z
    .enum(APP_RECEIPT_TYPES, { error: `must be one of ${APP_RECEIPT_TYPES.join(', ')}` })
    .meta({ description: 'What happened: the push or message was `delivered` (shown), `opened`, or a link in it `clicked`. The notification only moves forward.' }),
  occurredAt: isoDateTime().optional().meta({ description: 'When it happened; now when not given.' }),
  source: z
    .enum(APP_RECEIPT_SOURCES, { error: `must be one of ${APP_RECEIPT_SOURCES.join(', ')}` })
    .default('app')
    .meta({ description: '`app` (the app showed the push or the message) or `email-tracking` (our open pixel or click redirect).' }),
  eventId: reportId()
    .optional()
    .meta({ description: "The client's idempotency key: the same eventId for the same notification again records nothing new." }),
  // Optional here so that a missing one is the 403 naming it, like a wrong one, not a 400.
  receiptToken: z
    .string({ error: 'must be a string' })
    .optional()
    .meta({
      description:
        'Required. The receipt token the delivered notification carried (APNs custom key `receiptToken`, FCM `data.receiptToken`, ' +
        "Web Push `data.receiptToken`, the inbox item's `receiptToken`), echoed as it came: `<keyId>.<signature>`. Missing, malformed " +
        "or not this notification's: 403 `receipt_token_invalid`, and nothing is recorded.",
      examples: ['k1.3q2TfXb0Lw9cE4mZ7YhV1nR8sK5aP2dG6jU0oI3xQwE'],
    }),
});
export type NotificationEventInput = z.infer<typeof notificationEventSchema>;

/** An email Message-ID, with or without its angle brackets. */
const MESSAGE_ID = /^\s*<?[^<>\s\u0000]+>?\s*$/;
const emailWebhookBase = {
  messageId: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .max(998, 'must be at most 998 characters')
    .regex(MESSAGE_ID, 'must be an email Message-ID such as <abc@mail.example> (angle brackets optional)')
    .meta({ description: 'The Message-ID Herald sent the email with, as the provider reports it.' }),
  occurredAt: isoDateTime().optional().meta({ description: 'When the provider saw it; now when not given.' }),
  reason: text(1000).optional().meta({ description: "The provider's diagnostic (bounce reason, complaint feedback type...)." }),
  id: reportId().optional().meta({ description: "The provider's event id: the same id again records nothing new." }),
};

/**
 * POST /v1/webhooks/email: one generic event shape that an adapter of SES, SendGrid, Postmark or another
 * provider maps its own webhook onto. A bounce says whether it is hard (permanent) or soft (transient).
 */
export const emailWebhookSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ ...emailWebhookBase, type: z.literal('bounced'), bounceType: z.enum(['hard', 'soft'], { error: 'must be hard or soft' }) }),
    z.object({ ...emailWebhookBase, type: z.enum(['delivered', 'complained', 'opened', 'clicked']) }),
  ],
  { error: 'must be one of delivered, bounced, complained, opened, clicked' },
);
export type EmailWebhookInput = z.infer<typeof emailWebhookSchema>;

/** The fields of a SendGrid Event Webhook event Herald reads (README, "Email provider webhooks"); the others are kept out. */
const sendGridText = (description: string) => text(2000).optional().meta({ description });
export const sendGridEventSchema = z.looseObject({
  event: text(100).meta({
    description: '`delivered`, `open`, `click`, `bounce`, `dropped`, `deferred` and `spamreport` are recorded; `processed`, `unsubscribe` and the group events are acknowledged only.',
  }),
  email: sendGridText('The recipient.'),
  timestamp: z.number({ error: 'must be a UNIX time in seconds' }).optional().meta({ description: 'When it happened, UNIX seconds.' }),
  'smtp-id': text(998)
    .optional()
    .meta({ description: 'The Message-ID Herald sent the email with: how the event finds its notification.' }),
  sg_event_id: reportId().optional().meta({ description: "SendGrid's id of this event: the same id again records nothing new." }),
  sg_message_id: sendGridText("SendGrid's own message id."),
  reason: sendGridText('Why it bounced or was dropped.'),
  status: sendGridText('The SMTP status code of a bounce or drop, such as 5.0.0.'),
  response: sendGridText("The receiving server's answer to a delivery or deferral."),
  type: sendGridText('Of a bounce: `bounce` (permanent) or `blocked` (temporary).'),
  bounce_classification: sendGridText("Of a bounce: SendGrid's class of it, such as `Invalid Address` or `Reputation`."),
  url: sendGridText('Of a click: the link.'),
  attempt: sendGridText('Of a deferral: how many times SendGrid has tried.'),
  sg_machine_open: z.boolean().optional().meta({ description: 'Of an open: a mail client that fetched the message by itself (Apple Mail Privacy Protection), not a reader.' }),
});

/** POST /v1/webhooks/sendgrid: SendGrid's Event Webhook posts a batch of events, a JSON array. */
export const sendGridEventsSchema = z.array(sendGridEventSchema, { error: 'must be a JSON array of SendGrid events' });
export type SendGridEvent = z.infer<typeof sendGridEventSchema>;

/**
 * Twilio's message status callback (form-encoded). Documents what Twilio posts; the route reads it with
 * parseTwilioStatusCallback after checking X-Twilio-Signature.
 */
export const twilioStatusCallbackSchema = z
  .looseObject({
    MessageSid: z
      .string()
      .regex(/^(SM|MM)[0-9a-fA-F]{32}$/, 'must be a Twilio message SID (SM or MM and 32 hex digits)')
      .meta({ description: 'The SID Twilio gave the SMS when Herald sent it.' }),
    MessageStatus: z.enum(TWILIO_MESSAGE_STATUSES).meta({
      description: '`delivered` records a delivered receipt, `read` an opened one, `failed` and `undelivered` a failed one; the others are acknowledged only.',
    }),
    ErrorCode: z.string().optional().meta({ description: "Twilio's error code on failed and undelivered messages, e.g. 30003." }),
    AccountSid: z.string().optional().meta({ description: 'The Twilio account that sent it.' }),
  });

// -------------------------------------------------------------------------------- templates (api/routes/templates.ts)

// The fixed keys, an experiment variant of an order update's key (`order.<status>.<variant>`, README "Experiments"),
// or a campaign's own key (`campaign.<name>`, README "Campaigns").
const TEMPLATE_KEY_PATTERN = `^(${TEMPLATE_KEYS.map((k) => k.replace(/\./g, '\\.')).join('|')}|order\\.(${ORDER_STATUSES.join('|')})\\.${VARIANT_TEMPLATE_NAME}|${CAMPAIGN_TEMPLATE_KEY_PATTERN})$`;
export const TEMPLATE_KEY_PATH_REASON = `must be a template key: ${TEMPLATE_KEYS.join(', ')}; an experiment variant of an order key, order.<status>.<variant>; or campaign.<name>`;
/** A template key Herald renders (`order.<status>`, `order.digest`...), an experiment variant's, or a campaign's own: the keys whose variables are known. */
export const templateKeySchema = z
  .string()
  .regex(new RegExp(TEMPLATE_KEY_PATTERN), TEMPLATE_KEY_PATH_REASON)
  .meta({
    description:
      'A template key: `order.<status>` for each order status, `order.digest`, the cart and product keys; an experiment variant of an order key, ' +
      '`order.<status>.<variant>` (such as `order.shipped.short`), with the variables of `order.<status>`; or a campaign\'s own `campaign.<name>` ' +
      '(lower-case letters, digits, `.`, `_`, `-`).',
  });

/** A version number in a path: 1 and up. */
export const templateVersionParamSchema = z.string().regex(/^[1-9][0-9]{0,8}$/, 'must be a version number (1 or more)');

const CHANNEL_REASON = `must be one of ${CHANNELS.join(', ')}`;
/** A template channel in a path. */
export const templateChannelParamSchema = z.string().regex(new RegExp(`^(${CHANNELS.join('|')})$`), CHANNEL_REASON);
const templateChannel = () => z.enum(CHANNELS, { error: CHANNEL_REASON });
const templateText = (max: number, description: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(NO_NUL, NO_NUL_REASON)
    .meta({ description });
const templateTexts = {
  locale: localeSchema,
  subject: templateText(1_000, 'Liquid: the push title, email subject, or the label of an SMS in the history.'),
  body: templateText(20_000, 'Liquid: the push text, the plain-text email part, or the SMS.'),
};

const TRACKING_TOKEN_REASON = 'must be a tracking token: <keyId>.<notification id, base64url>.<signature>';

/** An email tracking link's path (api/routes/tracking.ts). */
export const trackingTokenPath = z.object({
  token: z
    .string()
    .max(1_000, 'must be at most 1000 characters')
    .regex(/^[A-Za-z0-9_-]{1,16}\.[A-Za-z0-9_-]{1,900}\.[A-Za-z0-9_-]{1,64}(\.gif)?$/, TRACKING_TOKEN_REASON)
    .meta({ description: 'The signed token of the link: `<keyId>.<notification id, base64url>.<signature>` (the pixel adds `.gif`).' }),
});

/** A tracked link's target: the URL its token signs. */
export const trackingClickQuerySchema = z.object({
  url: z.string({ error: 'is required' }).max(8_000, 'must be at most 8000 characters').meta({ description: 'The target URL the token signs.' }),
});

/** An email version's tracking switch; unset or null follows HERALD_EMAIL_TRACKING. */
const emailTracking = z
  .boolean({ error: 'must be true, false or null' })
  .nullable()
  .optional()
  .meta({
    description:
      'Email only: `false` sends this version without the open pixel and click redirects; `true`, or null/unset, tracks it when ' +
      'email tracking is on (HERALD_EMAIL_TRACKING, HERALD_TRACKING_SECRET).',
  });
const richUrl = (description: string) => templateText(PUSH_URL_SOURCE_LIMIT, description).nullable().optional();
/** The rich push fields (lib/push-content.ts); their URLs are checked once rendered, in the route. */
const pushRichFields = {
  imageUrl: richUrl('Liquid, push only: an image shown with the push; must render to an http(s) URL (or to nothing: no image).'),
  deepLink: richUrl(
    'Liquid, push only: where a tap leads; must render to an http(s) URL or an app link such as `myshop://orders/1` (or to nothing: the app opens as usual).',
  ),
  actions: z
    .array(
      z.strictObject({
        id: z.string({ error: 'must be a string' }).regex(PUSH_IDENTIFIER, 'must be 1 to 64 letters, digits, `.`, `_` or `-`').meta({ description: 'The action identifier the app declared.' }),
        title: templateText(PUSH_ACTION_TITLE_LIMIT, 'Liquid: the button label.'),
        deepLink: richUrl('Liquid: where the button leads, like `deepLink`.'),
      }),
      { error: 'must be an array of buttons' },
    )
    .max(PUSH_ACTION_LIMIT, `at most ${PUSH_ACTION_LIMIT} buttons (what Android and iOS show)`)
    .refine((actions) => new Set(actions.map((a) => a.id)).size === actions.length, 'button ids must be distinct')
    .nullable()
    .optional()
    .meta({ description: `Push only: up to ${PUSH_ACTION_LIMIT} buttons. APNs and Android show the ones the app declared under \`actionCategory\`; Web Push shows these.` }),
  actionCategory: z
    .string({ error: 'must be a string' })
    .regex(PUSH_IDENTIFIER, 'must be 1 to 64 letters, digits, `.`, `_` or `-`')
    .nullable()
    .optional()
    .meta({ description: 'Push only: the APNs category (and Android `click_action` intent action) the app declared the buttons under.' }),
};
// Named, rather than refused as unknown fields: an image or button on another channel would never be shown.
const onlyPush = z.never({ error: 'only push templates have an image, a deep link and buttons' }).optional();
const notPush = { imageUrl: onlyPush, deepLink: onlyPush, actions: onlyPush, actionCategory: onlyPush };

/**
 * A new draft: its channel and locale (which sequence of versions it joins) and its content. Only email
 * has an HTML part, so the shape depends on the channel (and unknown fields are refused rather than ignored).
 */
export const templateVersionInputSchema = z.discriminatedUnion(
  'channel',
  [
    z.strictObject({
      channel: z.literal('email'),
      ...templateTexts,
      bodyHtml: templateText(100_000, 'Liquid: the HTML email part, rendered with every output HTML-escaped.').optional(),
      tracking: emailTracking,
      ...notPush,
    }),
    z.strictObject({
      channel: z.literal('push'),
      ...templateTexts,
      bodyHtml: z.never({ error: 'only email templates have an HTML part' }).optional(),
      ...pushRichFields,
    }),
    z.strictObject({
      channel: z.enum(['sms', 'inapp']),
      ...templateTexts,
      // Named, rather than refused as an unknown field: an HTML part on another channel would never be sent.
      bodyHtml: z.never({ error: 'only email templates have an HTML part' }).optional(),
      tracking: z.never({ error: 'only email templates are tracked' }).optional(),
      ...notPush,
    }),
  ],
  { error: CHANNEL_REASON },
);
export type TemplateVersionInput = z.infer<typeof templateVersionInputSchema>;

/** A draft's new content (PUT): the channel and locale are in the path, and only email has `bodyHtml`. */
export const templateContentSchema = z
  .strictObject({
    subject: templateTexts.subject,
    body: templateTexts.body,
    bodyHtml: templateText(100_000, 'Liquid: the HTML email part (email only), rendered with every output HTML-escaped.').optional(),
    tracking: emailTracking,
    ...pushRichFields,
  });
export type TemplateContentInput = z.infer<typeof templateContentSchema>;

export const templateListQuerySchema = z.object({
  key: z
    .string({ error: TEMPLATE_KEY_REASON })
    .regex(/^[A-Za-z0-9._-]{1,100}$/, TEMPLATE_KEY_REASON)
    .optional()
    .meta({ description: 'Only this template key, such as `order.shipped`.' }),
  channel: templateChannel().optional().meta({ description: 'Only this channel.' }),
  locale: localeSchema.optional().meta({ description: 'Only this locale (exactly; no fallback).' }),
});

export const templateKeyQuerySchema = templateListQuerySchema.omit({ key: true });

/** POST /v1/templates/:key/preview */
export const templatePreviewSchema = z.object({
  channel: templateChannel().meta({ description: 'The channel whose template to render.' }),
  locale: localeSchema
    .optional()
    .meta({ description: "The reader's locale, whose fallback chain picks the template; the customer's when not given, else `en`." }),
  version: z
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(999_999_999, 'must be at most 999999999')
    .optional()
    .meta({ description: 'A version to preview (a draft, say), in the first locale of the fallback chain that has it; the published version when not given.' }),
  event: z
    .object({
      status: z
        .enum(ORDER_STATUSES, { error: `must be one of ${ORDER_STATUSES.join(', ')}` })
        .optional()
        .meta({ description: "The event's status; the key's own status when not given (`packed` for the digest)." }),
      orderId: id().optional().meta({ description: 'The order id the message shows; an example one when not given.' }),
      occurredAt: isoDateTime().optional().meta({ description: "The event's time (`occurredAt` in templates); an example one when not given." }),
      data: z
        .record(nulFreeString, jsonValueSchema)
        .optional()
        .meta({ description: "The event's data; replaces the key's example data (for the digest, `updates` is part of it)." }),
    })
    .optional()
    .meta({ description: 'The sample event; example values fill in what is not given.' }),
  customer: z
    .object({ name: text(200).nullish(), locale: localeSchema.optional(), timeZone: timeZoneSchema.optional() })
    .optional()
    .meta({ description: 'A sample customer; its fields override those of `customerId`.' }),
  customerId: id().optional().meta({ description: 'A stored customer whose name, locale and time zone to use (404 when unknown).' }),
});
export type TemplatePreviewInput = z.infer<typeof templatePreviewSchema>;

// ------------------------------------------------------------------------------------------ path parameters
// One object per resource path; a route's `params` must name exactly the parameters of its path.

const pathId = (description: string) => pathIdSchema.meta({ description });

export const customerPath = z.object({ customerId: pathId("The OMS's customer id.") });
export const orderPath = z.object({ orderId: pathId("The OMS's order id.") });
export const devicePath = customerPath.extend({ deviceId: pathId('The id the app gave the device when it registered it.') });
export const inboxMessagePath = customerPath.extend({ messageId: pathId('An inbox message id.') });
export const apiKeyPath = z.object({ id: pathId('The id of the API key (as listed; not the key itself).') });
export const deadLetterPath = z.object({ id: pathId('The id of the dead letter.') });
export const notificationPath = z.object({
  notificationId: notificationIdSchema.meta({
    description: "A notification id as the history shows it, such as `ev-1/push`: percent-encode its '/' (`ev-1%2Fpush`).",
  }),
});

export const templateKeyPath = z.object({ key: templateKeySchema });
/** One sequence of versions: a key, a channel and a locale. */
export const templateSequencePath = templateKeyPath.extend({
  channel: templateChannelParamSchema.meta({ description: 'The channel of the template: push, email, sms or inapp.' }),
  locale: localeSchema.meta({ description: 'The locale of the template, exactly (BCP 47, such as `fr-CA`); each locale has its own versions.' }),
});
/** A version counts within its sequence, so it is checked once the key, channel and locale are valid (a bad one of those is named alone). */
export const templateVersionPath = templateSequencePath.loose().pipe(
  templateSequencePath.extend({
    version: templateVersionParamSchema.meta({ description: 'A version number, counted per key, channel and locale.' }).transform(Number),
  }),
);

// ------------------------------------------------------------------------- back in stock and price drops

/** A price in major units, as a JSON number or a decimal string (`49.90`); kept as decimal text. */
const price = () =>
  z
    .union([z.number().min(0).max(9_999_999_999.9999), z.string().regex(/^\d{1,10}(\.\d{1,4})?$/)], {
      error: 'must be a price: a number or a decimal string such as 49.90',
    })
    .transform((v, ctx) => {
      const value = typeof v === 'number' ? String(v) : v;
      if (!/^\d{1,10}(\.\d{1,4})?$/.test(value)) {
        ctx.addIssue({ code: 'custom', message: 'must be a price: at least 0, at most 4 decimals, such as 49.90' });
        return z.NEVER;
      }
      return value;
    });

const httpUrl = (description: string) =>
  z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .max(2048, 'must be at most 2048 characters')
    .meta({ description });

export const watchSchema = z
  .strictObject({
    sku: id().meta({ description: "The product's SKU, as product events name it." }),
    kind: z.enum(WATCH_KINDS, { error: `must be one of ${WATCH_KINDS.join(', ')}` }).meta({
      description: '`restock`: one alert when the product is back in stock (the watch is then spent). `price_drop`: an alert each time the price drops.',
    }),
    below: price()
      .optional()
      .meta({
        description:
          "price_drop only: alert only below this price. Either way a drop is measured from the product's price when watched, then from the last price the customer was told.",
      }),
  })
  .superRefine((w, ctx) => {
    if (w.kind !== 'price_drop' && w.below !== undefined) ctx.addIssue({ code: 'custom', path: ['below'], message: 'is only for a price_drop watch' });
  });
export type WatchInput = z.output<typeof watchSchema>;

export const watchPath = customerPath.extend({ watchId: pathIdSchema.meta({ description: 'The watch id, as POST answered it.' }) });

export const productEventSchema = z.strictObject({
  eventId: id().meta({ description: 'The id of this event, unique across product events: the same eventId again is a duplicate and alerts nobody twice.' }),
  sku: id().meta({ description: "The product's SKU." }),
  name: z.string({ error: 'is required' }).min(1, 'must not be empty').max(200, 'must be at most 200 characters').regex(NO_NUL, NO_NUL_REASON).meta({ description: "The product's name, as alerts show it." }),
  url: httpUrl("The product's page, linked from alerts.").optional(),
  imageUrl: httpUrl('A picture of the product, shown in emails.').optional(),
  available: z.boolean({ error: 'must be true or false' }).optional().meta({ description: 'Whether it can be bought now. false then true is a restock: its restock watchers are alerted.' }),
  price: price().optional().meta({ description: 'Its price now, in major units. Below a price_drop watch\'s baseline (and threshold), that watcher is alerted.' }),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code such as EUR')
    .optional()
    .meta({ description: 'ISO 4217 code of the price.' }),
});
export type ProductEventInput = z.output<typeof productEventSchema>;
