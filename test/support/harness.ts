// The real stack for end-to-end tests: embedded PostgreSQL, Temporal dev server, the worker and the API
// as their own processes, with APNs, FCM, Web Push, SMTP and Twilio faked at the wire.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKey } from '../../api/auth';
import { createDb, type Db } from '../../lib/db';
import { freePort } from '../../dev/embedded';
import { startStack, type Stack } from '../../dev/stack';
import { createApnsKey, startFakeApns, type FakeApnsServer } from '../fakes/apns-server';
import { createSendGridKeys, postEmailWebhook, type PostedAnswer, type SendGridKeys } from '../fakes/email-webhooks';
import { startFakeFcm, type FakeFcmServer } from '../fakes/fcm-server';
import { startFakePushService, type FakePushService } from '../fakes/push-service';
import { FakeSmtpServer } from '../fakes/smtp-server';
import { FakeTwilioServer } from '../fakes/twilio-server';
import { generateVapidKeys } from '../../activities/providers/web-push';
import { TEST_BUNDLE_VARIABLE } from './workflow-bundle';

export interface Harness {
  stack: Stack;
  apns: FakeApnsServer;
  fcm: FakeFcmServer;
  pushService: FakePushService;
  smtp: FakeSmtpServer;
  twilio: FakeTwilioServer;
  vapidPublicKey: string;
  /** The SendGrid key pair whose public half is the stack's SENDGRID_WEBHOOK_PUBLIC_KEY. */
  sendgrid: SendGridKeys;
  /** The stack's HERALD_EMAIL_WEBHOOK_SECRET. */
  emailWebhookSecret: string;
  db: Db;
  adminKey: string;
  api(method: string, path: string, body?: unknown, key?: string): Promise<{ status: number; body: any }>;
  /** POSTs an event to the generic email webhook, signed as the stack's provider adapter would. */
  emailWebhook(event: unknown): Promise<PostedAnswer>;
  /**
   * The receipt token the push of `notificationId` carried, as the APNs, FCM or Web Push fake received it: what an app
   * echoes with its receipts. Undefined until a push of it arrived.
   */
  deliveredReceiptToken(notificationId: string): string | undefined;
  stop(): Promise<void>;
}

export const APNS_TOPIC = 'com.example.shop';
export const SMS_FROM = '+15550001111';
export const EMAIL_FROM = 'Shop <orders@shop.example>';

export async function startHarness(
  options: {
    env?: NodeJS.ProcessEnv;
    temporalDynamicConfig?: Record<string, string>;
    kafka?: boolean;
    /** The dev server persists to this SQLite file (WAL) instead of memory. */
    temporalDbFile?: string;
    /** 'server': the production Temporal server (dev/temporal-server.ts) instead of the dev server. */
    temporal?: 'dev' | 'server';
  } = {},
): Promise<Harness> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-e2e-'));
  fs.chmodSync(dataDir, 0o755);
  const key = createApnsKey();
  const apns = await startFakeApns({ keyId: key.keyId, teamId: key.teamId, publicKeyPem: key.publicKeyPem });
  const fcm = await startFakeFcm();
  const fcmCredentials = fcm.createCredentials(dataDir);
  const pushService = await startFakePushService();
  const smtp = await FakeSmtpServer.start();
  const twilio = await FakeTwilioServer.start();
  const vapid = generateVapidKeys();
  const sendgrid = createSendGridKeys();
  const emailWebhookSecret = `whsec-${randomBytes(24).toString('hex')}`;
  const adminKey = generateKey();
  const apiPort = await freePort();
  const closeFakes = () => Promise.all([apns.close(), fcm.close(), pushService.close(), smtp.close(), twilio.close()]);
  let stack: Stack;
  try {
    stack = await startStack({
      dataDir,
      persistent: false,
      temporalPort: await freePort(),
      temporalUiPort: null,
      temporalDynamicConfig: options.temporalDynamicConfig,
      temporalDbFile: options.temporalDbFile,
      temporal: options.temporal,
      postgresPort: await freePort(),
      apiPort,
      workerMetricsPort: await freePort(),
      // A one-node Kafka the API consumes from (HERALD_KAFKA_BROKERS): test/kafka.test.ts.
      kafka: options.kafka ? {} : undefined,
      adminKey,
      env: {
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
        APNS_KEY_FILE: key.keyFile,
        APNS_KEY_ID: key.keyId,
        APNS_TEAM_ID: key.teamId,
        APNS_TOPIC,
        APNS_ENDPOINT: apns.url,
        APNS_CA_FILE: apns.caFile,
        FCM_CREDENTIALS_FILE: fcmCredentials.credentialsFile,
        FCM_ENDPOINT: fcm.url,
        FCM_CA_FILE: fcm.caFile,
        VAPID_PUBLIC_KEY: vapid.publicKey,
        VAPID_PRIVATE_KEY: vapid.privateKey,
        VAPID_SUBJECT: 'mailto:ops@shop.example',
        WEBPUSH_CA_FILE: pushService.caFile,
        // The test-only opt-out: the push service fake listens on 127.0.0.1, which production never contacts.
        HERALD_WEBPUSH_ALLOWED_HOSTS: new URL(pushService.url).hostname,
        HERALD_WEBPUSH_ALLOW_PRIVATE: 'true',
        SMTP_URL: smtp.url,
        EMAIL_FROM,
        SMTP_TIMEOUT_MS: '3000',
        TWILIO_ACCOUNT_SID: twilio.accountSid,
        TWILIO_AUTH_TOKEN: twilio.authToken,
        TWILIO_FROM: SMS_FROM,
        TWILIO_ENDPOINT: twilio.url,
        TWILIO_CA_FILE: twilio.caFile,
        HERALD_PUBLIC_URL: `http://127.0.0.1:${apiPort}`,
        SENDGRID_WEBHOOK_PUBLIC_KEY: sendgrid.publicKey,
        HERALD_EMAIL_WEBHOOK_SECRET: emailWebhookSecret,
        // Three attempts (1 s, then 2 s apart) keep exhausted-retry scenarios short.
        HERALD_PUSH_RETRY_MAX_ATTEMPTS: '3',
        HERALD_EMAIL_RETRY_INITIAL: '1 second',
        HERALD_EMAIL_RETRY_MAX_ATTEMPTS: '3',
        HERALD_SMS_RETRY_INITIAL: '1 second',
        HERALD_SMS_RETRY_MAX_ATTEMPTS: '3',
        // Rate limits no test's own volume reaches (schemathesis, floods of random paths); test/attacks-abuse.test.ts sets tight ones.
        HERALD_KEY_RATE_LIMIT: '100000:1000000',
        HERALD_INTAKE_RATE_LIMIT: '100000:1000000',
        HERALD_ADDRESS_RATE_LIMIT: '100000:1000000',
        ...(await testWorkerEnv()),
        ...options.env,
      },
    });
  } catch (err) {
    // A stack that failed to start must not leave the fakes listening (jest would never exit).
    await closeFakes();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  try {
    await untilWorkerReady(stack);
  } catch (err) {
    await stack.stop();
    await closeFakes();
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const db = createDb(stack.databaseUrl, { max: 3 });
  return {
    stack,
    apns,
    fcm,
    pushService,
    smtp,
    twilio,
    vapidPublicKey: vapid.publicKey,
    sendgrid,
    emailWebhookSecret,
    db,
    adminKey,
    async api(method, urlPath, body, apiKey = adminKey) {
      const res = await fetch(`${stack.apiUrl}${urlPath}`, {
        method,
        headers: { authorization: `Bearer ${apiKey}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed };
    },
    emailWebhook: (event) => postEmailWebhook(stack.apiUrl, event, { secrets: [emailWebhookSecret] }),
    deliveredReceiptToken(notificationId) {
      const payloads: unknown[] = [
        ...apns.requests.map((r) => r.body),
        ...fcm.requests.map((r) => r.data),
        ...pushService.requests.map((r) => (r.payload as { data?: unknown } | undefined)?.data),
      ];
      for (const p of payloads) {
        const fields = p as { notificationId?: unknown; receiptToken?: unknown } | undefined;
        if (fields?.notificationId === notificationId && typeof fields.receiptToken === 'string') return fields.receiptToken;
      }
      return undefined;
    },
    async stop() {
      await db.$disconnect();
      await stack.stop();
      await closeFakes();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * What a test stack's worker runs with besides its providers: the run's one prebuilt workflow bundle
 * (test/support/workflow-bundle.ts), so that it starts without webpack, and its SDK metrics port drawn here, from
 * this test file's HERALD_FREE_PORT_RANGE (test/support/port-range.ts), rather than by the worker from all of them.
 */
export async function testWorkerEnv(): Promise<NodeJS.ProcessEnv> {
  return {
    HERALD_SDK_METRICS_PORT: String(await freePort()),
    ...(process.env[TEST_BUNDLE_VARIABLE] ? { HERALD_WORKFLOW_BUNDLE: process.env[TEST_BUNDLE_VARIABLE] } : {}),
  };
}

/**
 * Waits until the worker polls. A stack is up once its API answers, but the worker first bundles the workflow
 * code (seconds, many more on a busy machine) and only then serves /healthz and polls; a test's first wait
 * should not have to cover that.
 */
export async function untilWorkerReady(stack: Stack, timeoutMs = 120_000): Promise<void> {
  const url = stack.workerMetricsUrl.replace(/\/metrics$/, '/healthz');
  const started = Date.now();
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > timeoutMs) throw new Error(`the worker did not answer ${url} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * One real stack for a test file: started before its tests and stopped after them. The returned
 * harness is usable inside the tests (and hooks after this one); `options` may be a function when the
 * environment is only known once the file runs.
 */
export function useHarness(options: Parameters<typeof startHarness>[0] | (() => Parameters<typeof startHarness>[0]) = {}): Harness {
  let started: Harness | undefined;
  beforeAll(async () => {
    started = await startHarness(typeof options === 'function' ? options() : options);
  }, 180_000);
  afterAll(async () => {
    await started?.stop();
  }, 60_000);
  return new Proxy({} as Harness, {
    get(_target, property) {
      if (!started) throw new Error('the harness is not started yet: use it inside a test or a later hook');
      return Reflect.get(started, property);
    },
  });
}

let eventSeq = 0;

/**
 * An order event as the OMS posts it, with a unique event id. Its time is 2026-11-21 09:`minute` when
 * given, otherwise one second later than the previous event built.
 */
export function orderEvent(orderId: string, customerId: string, status: string, options: { minute?: number; data?: Record<string, unknown> } = {}) {
  const seq = ++eventSeq;
  const at = options.minute !== undefined ? Date.UTC(2026, 10, 21, 9, options.minute) : Date.UTC(2026, 10, 21, 9, 0, seq);
  return {
    eventId: `evt-${orderId}-${status}-${seq}`,
    orderId,
    customerId,
    status,
    occurredAt: new Date(at).toISOString(),
    source: 'oms',
    data: options.data ?? {},
  };
}

/**
 * Retries an assertion until it passes or the time is up: a wait for a state, not for a time. The last
 * failure is thrown, saying how long it was tried, so a timeout shows what was seen last.
 */
/**
 * Posts an order event (202 expected) and waits until its signal has settled: sent by the pool, or refused once and
 * left to the relay. Intake answers once the event is stored, and the signal follows. Says whether it reached the workflow.
 */
export async function postSettledOrderEvent(h: Pick<Harness, 'api' | 'db'>, event: ReturnType<typeof orderEvent>): Promise<boolean> {
  expect((await h.api('POST', '/v1/order-events', event)).status).toBe(202);
  const row = await eventually(async () => {
    const stored = await h.db.orderEvent.findUniqueOrThrow({ where: { eventId: event.eventId } });
    expect(stored.signalledAt !== null || stored.relayAttempts > 0).toBe(true);
    return stored;
  }, 60_000);
  return row.signalledAt !== null;
}

export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 30_000, intervalMs = 200): Promise<T> {
  const started = Date.now();
  for (let tries = 1; ; tries++) {
    try {
      return await check();
    } catch (err) {
      const waited = Date.now() - started;
      if (waited > timeoutMs) {
        if (err instanceof Error) err.message = `still failing after ${waited} ms (${tries} tries); the last try saw:\n${err.message}`;
        throw err;
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
}

export const iosToken = (seed: string) => Buffer.from(seed.padEnd(32, '.').slice(0, 32)).toString('hex');
export const androidToken = (seed: string) => `${seed}:${'A'.repeat(140)}`;
