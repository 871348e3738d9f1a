// Every environment variable Herald reads, in one place (the README lists the same).
import type { ApnsConfig } from '../activities/providers/apns';
import type { FcmConfig } from '../activities/providers/fcm';
import type { WebPushConfig } from '../activities/providers/web-push';

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
  /** Retry policy of one push to one device (workflow activity retries). */
  pushRetry: { initialInterval: string; maximumInterval: string; maximumAttempts: number };
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
  if (apnsKeyFile) {
    for (const name of ['APNS_KEY_ID', 'APNS_TEAM_ID', 'APNS_TOPIC']) {
      if (!nonEmpty(env[name])) throw new Error(`${name} must be set when APNS_KEY_FILE is set`);
    }
  }
  return {
    port: Number(env.PORT ?? 3000),
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
    pushRetry: {
      initialInterval: nonEmpty(env.HERALD_PUSH_RETRY_INITIAL) ?? '1 second',
      maximumInterval: nonEmpty(env.HERALD_PUSH_RETRY_MAX_INTERVAL) ?? '1 minute',
      maximumAttempts: Number(nonEmpty(env.HERALD_PUSH_RETRY_MAX_ATTEMPTS) ?? 8),
    },
    orderLinger: nonEmpty(env.HERALD_ORDER_LINGER) ?? '7 days',
    orderIdleTimeout: nonEmpty(env.HERALD_ORDER_IDLE_TIMEOUT) ?? '30 days',
  };
}

export function requireDatabaseUrl(config: HeraldConfig): string {
  if (!config.databaseUrl) throw new Error('DATABASE_URL is not set (npm start sets it for the embedded PostgreSQL)');
  return config.databaseUrl;
}
