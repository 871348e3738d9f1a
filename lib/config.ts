// Every environment variable Herald reads, in one place (the README lists the same).
import type { ApnsConfig } from '../activities/providers/apns';
import type { FcmConfig } from '../activities/providers/fcm';
import type { WebPushConfig } from '../activities/providers/web-push';
import type { SmtpConfig } from '../activities/providers/smtp';
import type { TwilioConfig } from '../activities/providers/twilio';
import fs from 'node:fs';
import { msToNumber } from '@temporalio/common/lib/time';
import type { Duration } from '@temporalio/common';
import { DEFAULT_FREQUENCY_CAPS, type FrequencyCapRule } from '../domain/frequency-caps';
import {
  DEFAULT_ESCALATION_POLICY,
  ESCALATION_CLASSES,
  FALLBACK_CHANNELS,
  type EscalationPolicy,
  type FallbackChannel,
} from '../domain/escalation';
import { DEFAULT_CHANNEL_RETRY, type ChannelRetry, type DeliveryChannel } from '../domain/delivery';
import { DEFAULT_CHANNEL_PLANS, plansFromEscalationPolicy, type ChannelPlans } from '../domain/channel-plans';
import { loadChannelPlans } from './channel-plans-file';

export interface HeraldConfig {
  port: number;
  temporalAddress: string;
  temporalNamespace: string;
  taskQueue: string;
  databaseUrl: string | undefined;
  adminKey: string | undefined;
  dataDir: string;
  apns: ApnsConfig | null;
  fcm: FcmConfig | null;
  webPush: WebPushConfig | null;
  smtp: SmtpConfig | null;
  twilio: TwilioConfig | null;
  /** Where providers reach this API (Twilio status callbacks) and links in messages point to. */
  publicUrl: string;
  /** Retry policy per channel of one delivery (a push to one device, one email, one SMS). */
  retry: Record<DeliveryChannel, ChannelRetry>;
  /** Activities per second each channel's task queue may start, across all workers (Temporal enforces it). */
  rateLimits: Record<DeliveryChannel, number>;
  /** Which channels back push up, and how long a critical push waits for its receipt (before channel plans; used only without a plans file). */
  escalation: EscalationPolicy;
  /** Which channels carry each notification type and which back them up (HERALD_CHANNEL_PLANS_FILE, HERALD_RECEIPT_DEADLINE). */
  channelPlans: ChannelPlans;
  /** Routine updates within this time of the last routine push go together in one digest ('0': never). */
  digestWindow: string;
  /** Per-customer frequency caps per channel and category. */
  frequencyCaps: FrequencyCapRule[];
  /** How long a finished order's workflow still listens for a late refund. */
  orderLinger: string;
  /** How long a quiet order's workflow stays open before completing (a later event starts a new run). */
  orderIdleTimeout: string;
}

type Env = Record<string, string | undefined>;

const nonEmpty = (value: string | undefined): string | undefined => (value && value.trim() !== '' ? value.trim() : undefined);

export function loadConfig(env: Env = process.env): HeraldConfig {
  const apnsKeyFile = nonEmpty(env.APNS_KEY_FILE);
  const fcmCredentials = nonEmpty(env.FCM_CREDENTIALS_FILE);
  const vapidPublicKey = nonEmpty(env.VAPID_PUBLIC_KEY);
  if (vapidPublicKey && !(nonEmpty(env.VAPID_PRIVATE_KEY) && nonEmpty(env.VAPID_SUBJECT))) {
    throw new Error('VAPID_PRIVATE_KEY and VAPID_SUBJECT must be set when VAPID_PUBLIC_KEY is set');
  }
  const smtpUrl = nonEmpty(env.SMTP_URL);
  if (smtpUrl && !nonEmpty(env.EMAIL_FROM)) throw new Error('EMAIL_FROM must be set when SMTP_URL is set');
  const twilioSid = nonEmpty(env.TWILIO_ACCOUNT_SID);
  if (twilioSid) {
    for (const name of ['TWILIO_AUTH_TOKEN', 'TWILIO_FROM']) {
      if (!nonEmpty(env[name])) throw new Error(`${name} must be set when TWILIO_ACCOUNT_SID is set`);
    }
  }
  const port = Number(env.PORT ?? 3000);
  if (apnsKeyFile) {
    for (const name of ['APNS_KEY_ID', 'APNS_TEAM_ID', 'APNS_TOPIC']) {
      if (!nonEmpty(env[name])) throw new Error(`${name} must be set when APNS_KEY_FILE is set`);
    }
  }
  return {
    port,
    temporalAddress: nonEmpty(env.TEMPORAL_ADDRESS) ?? '127.0.0.1:7233',
    temporalNamespace: nonEmpty(env.TEMPORAL_NAMESPACE) ?? 'default',
    taskQueue: nonEmpty(env.HERALD_TASK_QUEUE) ?? 'herald-orders',
    databaseUrl: nonEmpty(env.DATABASE_URL),
    adminKey: nonEmpty(env.HERALD_ADMIN_KEY),
    dataDir: nonEmpty(env.HERALD_DATA_DIR) ?? 'data',
    apns: apnsKeyFile
      ? {
          keyFile: apnsKeyFile,
          keyId: env.APNS_KEY_ID!.trim(),
          teamId: env.APNS_TEAM_ID!.trim(),
          topic: env.APNS_TOPIC!.trim(),
          production: /^(1|true|yes)$/i.test(env.APNS_PRODUCTION ?? ''),
          endpoint: nonEmpty(env.APNS_ENDPOINT),
          caFile: nonEmpty(env.APNS_CA_FILE),
        }
      : null,
    fcm: fcmCredentials
      ? { credentialsFile: fcmCredentials, endpoint: nonEmpty(env.FCM_ENDPOINT), caFile: nonEmpty(env.FCM_CA_FILE) }
      : null,
    webPush: vapidPublicKey
      ? { publicKey: vapidPublicKey, privateKey: env.VAPID_PRIVATE_KEY!.trim(), subject: env.VAPID_SUBJECT!.trim(), caFile: nonEmpty(env.WEBPUSH_CA_FILE) }
      : null,
    smtp: smtpUrl
      ? {
          url: smtpUrl,
          from: env.EMAIL_FROM!.trim(),
          fallbackUrl: nonEmpty(env.SMTP_FALLBACK_URL),
          caFile: nonEmpty(env.SMTP_CA_FILE),
          timeoutMs: optionalNumber(env, 'SMTP_TIMEOUT_MS'),
        }
      : null,
    twilio: twilioSid
      ? {
          accountSid: twilioSid,
          authToken: env.TWILIO_AUTH_TOKEN!.trim(),
          from: env.TWILIO_FROM!.trim(),
          endpoint: nonEmpty(env.TWILIO_ENDPOINT),
          caFile: nonEmpty(env.TWILIO_CA_FILE),
        }
      : null,
    publicUrl: (nonEmpty(env.HERALD_PUBLIC_URL) ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    retry: {
      push: channelRetry(env, 'PUSH', DEFAULT_CHANNEL_RETRY.push),
      email: channelRetry(env, 'EMAIL', DEFAULT_CHANNEL_RETRY.email),
      sms: channelRetry(env, 'SMS', DEFAULT_CHANNEL_RETRY.sms),
    },
    rateLimits: {
      push: optionalNumber(env, 'HERALD_PUSH_RATE_LIMIT') ?? 500,
      email: optionalNumber(env, 'HERALD_EMAIL_RATE_LIMIT') ?? 50,
      sms: optionalNumber(env, 'HERALD_SMS_RATE_LIMIT') ?? 10,
    },
    escalation: loadEscalationPolicy(env),
    channelPlans: channelPlansFrom(env),
    digestWindow: digestWindow(nonEmpty(env.HERALD_DIGEST_WINDOW) ?? '2 minutes'),
    frequencyCaps: loadFrequencyCaps(nonEmpty(env.HERALD_FREQUENCY_CAPS)),
    orderLinger: nonEmpty(env.HERALD_ORDER_LINGER) ?? '7 days',
    orderIdleTimeout: nonEmpty(env.HERALD_ORDER_IDLE_TIMEOUT) ?? '30 days',
  };
}

function optionalNumber(env: Env, name: string): number | undefined {
  const raw = nonEmpty(env[name]);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got '${raw}'`);
  return value;
}

function duration(value: string, what: string): Duration {
  try {
    if (msToNumber(value as Duration) <= 0) throw new Error('not positive');
  } catch {
    throw new Error(`${what} must be a positive duration such as '30 seconds' or '5m', got '${value}'`);
  }
  return value as Duration;
}

function channelRetry(env: Env, channel: string, defaults: ChannelRetry): ChannelRetry {
  const prefix = `HERALD_${channel}_RETRY_`;
  const attempts = optionalNumber(env, `${prefix}MAX_ATTEMPTS`);
  return {
    initialInterval: String(duration(nonEmpty(env[`${prefix}INITIAL`]) ?? defaults.initialInterval, `${prefix}INITIAL`)),
    maximumInterval: String(duration(nonEmpty(env[`${prefix}MAX_INTERVAL`]) ?? defaults.maximumInterval, `${prefix}MAX_INTERVAL`)),
    maximumAttempts: attempts === undefined ? defaults.maximumAttempts : Math.floor(attempts),
  };
}

/**
 * The escalation policy: the defaults, overridden per class by the JSON file HERALD_ESCALATION_POLICY_FILE
 * (`{"critical": {"fallback": ["email", "sms"], "receiptDeadline": "5 minutes"}, ...}`), then the critical
 * receipt deadline by HERALD_RECEIPT_DEADLINE.
 */
export function loadEscalationPolicy(env: Env): EscalationPolicy {
  const policy: EscalationPolicy = structuredClone(DEFAULT_ESCALATION_POLICY);
  const file = nonEmpty(env.HERALD_ESCALATION_POLICY_FILE);
  if (file) {
    const what = `HERALD_ESCALATION_POLICY_FILE (${file})`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`${what}: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${what}: must be a JSON object`);
    for (const [cls, value] of Object.entries(parsed)) {
      if (!(ESCALATION_CLASSES as readonly string[]).includes(cls)) {
        throw new Error(`${what}: unknown class '${cls}' (expected ${ESCALATION_CLASSES.join(', ')})`);
      }
      const rule = value as { fallback?: unknown; receiptDeadline?: unknown };
      const target = policy[cls as keyof EscalationPolicy];
      if (rule.fallback !== undefined) {
        if (!Array.isArray(rule.fallback) || rule.fallback.some((c) => !(FALLBACK_CHANNELS as readonly string[]).includes(c))) {
          throw new Error(`${what}: ${cls}.fallback must be a list of ${FALLBACK_CHANNELS.join(', ')}`);
        }
        if (cls === 'marketing' && rule.fallback.includes('sms')) throw new Error(`${what}: marketing never escalates to sms`);
        target.fallback = [...new Set(rule.fallback as FallbackChannel[])];
      }
      if (rule.receiptDeadline !== undefined) {
        if (rule.receiptDeadline !== null && typeof rule.receiptDeadline !== 'string') {
          throw new Error(`${what}: ${cls}.receiptDeadline must be a duration string or null`);
        }
        target.receiptDeadline = rule.receiptDeadline === null ? null : String(duration(rule.receiptDeadline, `${what}: ${cls}.receiptDeadline`));
      }
    }
  }
  const deadline = nonEmpty(env.HERALD_RECEIPT_DEADLINE);
  if (deadline) policy.critical.receiptDeadline = String(duration(deadline, 'HERALD_RECEIPT_DEADLINE'));
  return policy;
}

/**
 * The channel plans: the defaults (or, for a deployment that still sets HERALD_ESCALATION_POLICY_FILE
 * and no plans file, what its policy meant), with HERALD_CHANNEL_PLANS_FILE over them.
 */
function channelPlansFrom(env: Env): ChannelPlans {
  const deadline = nonEmpty(env.HERALD_RECEIPT_DEADLINE);
  const receiptDeadline = deadline ? String(duration(deadline, 'HERALD_RECEIPT_DEADLINE')) : undefined;
  const file = nonEmpty(env.HERALD_CHANNEL_PLANS_FILE);
  const base = !file && nonEmpty(env.HERALD_ESCALATION_POLICY_FILE) ? plansFromEscalationPolicy(loadEscalationPolicy(env)) : DEFAULT_CHANNEL_PLANS;
  return loadChannelPlans(file, receiptDeadline, base);
}

function digestWindow(value: string): string {
  if (/^0+(\s*[a-z]+)?$/i.test(value)) return '0';
  return String(duration(value, 'HERALD_DIGEST_WINDOW'));
}

/**
 * HERALD_FREQUENCY_CAPS: a JSON list of `{ "channel": "push", "category": "marketing", "limit": 5, "window": "1 hour" }`,
 * replacing the defaults (`[]` turns caps off).
 */
export function loadFrequencyCaps(raw: string | undefined): FrequencyCapRule[] {
  if (raw === undefined) return DEFAULT_FREQUENCY_CAPS;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw new Error(`HERALD_FREQUENCY_CAPS: ${(err as Error).message}`);
  }
  if (!Array.isArray(parsed)) throw new Error('HERALD_FREQUENCY_CAPS must be a JSON list of rules');
  return parsed.map((rule: Record<string, unknown>, i) => {
    const where = `HERALD_FREQUENCY_CAPS[${i}]`;
    if (!['push', 'email', 'sms'].includes(rule?.channel as string)) throw new Error(`${where}.channel must be push, email or sms`);
    if (typeof rule.category !== 'string' || rule.category === '') throw new Error(`${where}.category must be a category name`);
    if (!Number.isInteger(rule.limit) || (rule.limit as number) < 0) throw new Error(`${where}.limit must be a whole number`);
    if (typeof rule.window !== 'string') throw new Error(`${where}.window must be a duration such as '1 hour'`);
    return { channel: rule.channel as FrequencyCapRule['channel'], category: rule.category, limit: rule.limit as number, window: String(duration(rule.window, `${where}.window`)) };
  });
}

export function requireDatabaseUrl(config: HeraldConfig): string {
  if (!config.databaseUrl) throw new Error('DATABASE_URL is not set (npm start sets it for the embedded PostgreSQL)');
  return config.databaseUrl;
}
