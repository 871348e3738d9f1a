// sendPushBatch on a real PostgreSQL with the real FCM provider against the wire fake; the activity context
// (attempt number) comes from MockActivityEnvironment.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createPushBatchActivities, type SendPushBatchInput } from '../activities/push-batch';
import { createFcmProvider } from '../activities/providers/fcm';
import type { PushProvider, PushProviders } from '../activities/providers/push-provider';
import { createSandboxPushProvider } from '../activities/providers/sandbox';
import type { PushMessage, PushOutcome, PushTarget } from '../domain';
import { createDb, type Db } from '../lib/db';
import { migrateDatabase, startEmbeddedPostgres, type EmbeddedPostgres } from '../dev/embedded';
import { logger } from './support/logger';
import { metrics } from '../lib/metrics';
import { startFakeFcm, type FakeFcmServer } from './fakes/fcm-server';

let pg: EmbeddedPostgres;
let db: Db;
let fcm: FakeFcmServer;
let fcmProvider: PushProvider;
let activities: ReturnType<typeof createPushBatchActivities>;
const CUSTOMER = 'batch-customer';

beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-push-batch-'));
  fs.chmodSync(dataDir, 0o755);
  pg = await startEmbeddedPostgres({ dataDir, persistent: false });
  await migrateDatabase(pg.url);
  db = createDb(pg.url, { max: 3 });
  fcm = await startFakeFcm();
  const credentials = fcm.createCredentials();
  fcmProvider = createFcmProvider({ credentialsFile: credentials.credentialsFile, endpoint: fcm.url, caFile: fcm.caFile }, logger);
  const providers: PushProviders = {
    android: fcmProvider,
    ios: createSandboxPushProvider('apns', logger), // no sendBatch: the activity loops send()
    web: createSandboxPushProvider('webpush', logger),
  };
  activities = createPushBatchActivities(db, providers, logger);
  await db.customer.create({ data: { id: CUSTOMER, name: 'Batch' } });
}, 180_000);

afterAll(async () => {
  await fcmProvider?.close();
  await fcm?.close();
  await db?.$disconnect();
  await pg?.stop();
}, 60_000);

afterEach(() => fcm.reset());

let seq = 0;

/** A queued notification and active devices for it; returns the notification id and the targets. */
async function setup(platform: 'android' | 'ios', deviceNames: string[]): Promise<{ notificationId: string; targets: PushTarget[] }> {
  const n = ++seq;
  const notificationId = `batch-ntf-${n}`;
  await db.notification.create({
    data: { id: notificationId, customerId: CUSTOMER, type: 'shipped', priority: 'critical', category: 'transactional', channel: 'push', status: 'queued' },
  });
  const targets: PushTarget[] = [];
  for (const name of deviceNames) {
    const token = `${name}-${n}`;
    const device = await db.device.create({ data: { deviceId: `app-${token}`, customerId: CUSTOMER, platform, token } });
    targets.push({ deviceId: device.id, platform, token, app: null });
  }
  return { notificationId, targets };
}

const message = (notificationId: string): PushMessage => ({
  notificationId,
  orderId: 'order-batch',
  title: 'Shipped',
  body: 'Your order is on its way',
  priority: 'critical',
  collapseKey: 'order-order-batch',
  data: { notificationId, orderId: 'order-batch' },
});

// The SDK logs every failed attempt at WARN; the failures here are expected.
const sdkLogger = new DefaultLogger('ERROR');
const run = (attempt: number, input: SendPushBatchInput) =>
  new MockActivityEnvironment({ attempt }, { logger: sdkLogger }).run(activities.sendPushBatch, input);

/** Runs the activity expecting the transient failure that makes Temporal retry it. */
async function runFailing(attempt: number, input: SendPushBatchInput): Promise<{ failure: ApplicationFailure; outcomes: PushOutcome[] }> {
  try {
    await run(attempt, input);
  } catch (err) {
    expect(err).toBeInstanceOf(ApplicationFailure);
    const failure = err as ApplicationFailure;
    expect(failure.type).toBe('TransientProviderError');
    expect(failure.nonRetryable).toBeFalsy();
    return { failure, outcomes: failure.details![0] as PushOutcome[] };
  }
  throw new Error('expected sendPushBatch to fail');
}

const attemptsOf = (notificationId: string) =>
  db.deliveryAttempt.findMany({ where: { notificationId }, orderBy: { id: 'asc' }, select: { id: true, status: true, errorCode: true, retryable: true, provider: true } });

const deactivations = async (reason: string) => (await metrics.devicesDeactivated.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;

describe('sendPushBatch', () => {
  it('records every device, retires a dead token, marks the notification sent, and fails for Temporal to retry the transient one', async () => {
    const { notificationId, targets } = await setup('android', ['ok', 'dead', 'busy']);
    const [ok, dead, busy] = targets as [PushTarget, PushTarget, PushTarget];
    fcm.failNext('UNREGISTERED', { token: dead.token });
    fcm.failNext('UNAVAILABLE', { token: busy.token, retryAfterSeconds: 4 });
    const deactivatedBefore = await deactivations('fcm: UNREGISTERED');

    const first = await runFailing(1, { notificationId, targets, message: message(notificationId) });

    expect(first.failure.nextRetryDelay).toBe(4000);
    expect(first.outcomes).toEqual([
      { deviceId: ok.deviceId, status: 'sent', provider: 'fcm', providerMessageId: fcm.messages[0]!.name },
      { deviceId: dead.deviceId, status: 'failed', provider: 'fcm', error: 'InvalidDeviceToken: device token rejected by fcm: UNREGISTERED', failure: 'InvalidDeviceToken' },
      { deviceId: busy.deviceId, status: 'failed', provider: 'fcm', error: expect.stringMatching(/^TransientProviderError: fcm unavailable: UNAVAILABLE /), failure: 'TransientProviderError' },
    ]);
    expect(await attemptsOf(notificationId)).toEqual(
      [
        { id: `${notificationId}:${ok.deviceId}:1`, status: 'sent', errorCode: null, retryable: null, provider: 'fcm' },
        { id: `${notificationId}:${dead.deviceId}:1`, status: 'failed', errorCode: 'UNREGISTERED', retryable: false, provider: 'fcm' },
        { id: `${notificationId}:${busy.deviceId}:1`, status: 'failed', errorCode: 'UNAVAILABLE', retryable: true, provider: 'fcm' },
      ].sort((a, b) => a.id.localeCompare(b.id)),
    );
    expect(await db.device.findUnique({ where: { id: dead.deviceId } })).toMatchObject({ active: false, invalidatedReason: 'fcm: UNREGISTERED' });
    expect(await deactivations('fcm: UNREGISTERED')).toBe(deactivatedBefore + 1);
    expect(await db.notification.findUnique({ where: { id: notificationId } })).toMatchObject({ status: 'sent', sentAt: expect.any(Date) });

    // Temporal's retry: only the device still pending is sent to; the settled ones are read back, not resent.
    fcm.reset();
    const second = await run(2, { notificationId, targets, message: message(notificationId) });

    expect(fcm.requests.map((r) => r.token)).toEqual([busy.token]);
    expect(second).toEqual([
      first.outcomes[0],
      first.outcomes[1],
      { deviceId: busy.deviceId, status: 'sent', provider: 'fcm', providerMessageId: fcm.messages[0]!.name },
    ]);
    const rows = await attemptsOf(notificationId);
    expect(rows.map((r) => r.id)).toEqual(
      [`${ok.deviceId}:1`, `${dead.deviceId}:1`, `${busy.deviceId}:1`, `${busy.deviceId}:2`].map((s) => `${notificationId}:${s}`).sort(),
    );
    expect(rows.find((r) => r.id.endsWith(`${busy.deviceId}:2`))).toMatchObject({ status: 'sent' });
    expect(await deactivations('fcm: UNREGISTERED')).toBe(deactivatedBefore + 1);
  });

  it('keeps every outcome in the failure details when the last retry fails too, and abandons a crashed attempt', async () => {
    const { notificationId, targets } = await setup('android', ['first', 'down']);
    const [first, down] = targets as [PushTarget, PushTarget];
    fcm.failNext('UNAVAILABLE', { token: down.token, times: 3 });

    const one = await runFailing(1, { notificationId, targets, message: message(notificationId) });
    expect(one.failure.nextRetryDelay).toBeUndefined();
    // A worker that died during attempt 2 left its row 'sending'.
    await db.deliveryAttempt.create({
      data: { id: `${notificationId}:${down.deviceId}:2`, notificationId, deviceId: down.deviceId, channel: 'push', provider: 'fcm', status: 'sending', attemptNumber: 2 },
    });
    fcm.reset();
    fcm.failNext('UNAVAILABLE', { token: down.token });

    const three = await runFailing(3, { notificationId, targets, message: message(notificationId) });

    expect(fcm.requests.map((r) => r.token)).toEqual([down.token]);
    expect(three.outcomes).toEqual([
      { deviceId: first.deviceId, status: 'sent', provider: 'fcm', providerMessageId: one.outcomes[0]!.providerMessageId },
      { deviceId: down.deviceId, status: 'failed', provider: 'fcm', error: expect.stringMatching(/^TransientProviderError: /), failure: 'TransientProviderError' },
    ]);
    expect(await db.deliveryAttempt.findUnique({ where: { id: `${notificationId}:${down.deviceId}:2` } })).toMatchObject({
      status: 'failed',
      errorCode: 'abandoned',
      retryable: true,
    });
  });

  it('returns a refused payload as a permanent failure without a retry, and leaves the notification queued', async () => {
    const { notificationId, targets } = await setup('android', ['refused']);
    fcm.failNext('INVALID_ARGUMENT', { token: targets[0]!.token });

    const outcomes = await run(1, { notificationId, targets, message: message(notificationId) });

    expect(outcomes).toEqual([
      { deviceId: targets[0]!.deviceId, status: 'failed', provider: 'fcm', error: expect.stringMatching(/^PermanentProviderError: fcm rejected the push: INVALID_ARGUMENT /), failure: 'PermanentProviderError' },
    ]);
    expect(await db.device.findUnique({ where: { id: targets[0]!.deviceId } })).toMatchObject({ active: true });
    expect(await db.notification.findUnique({ where: { id: notificationId } })).toMatchObject({ status: 'queued' });

    // Read back on a retry it is the same outcome, not a dead token.
    expect(await run(2, { notificationId, targets, message: message(notificationId) })).toEqual(outcomes);
    expect(fcm.requests).toHaveLength(1);
  });

  it("loops send() when the platform's provider has no sendBatch", async () => {
    const { notificationId, targets } = await setup('ios', ['iphone', 'ipad']);

    const outcomes = await run(1, { notificationId, targets, message: message(notificationId) });

    expect(outcomes).toEqual(targets.map((t) => ({ deviceId: t.deviceId, status: 'sent', provider: 'sandbox-apns', providerMessageId: expect.stringMatching(/^sandbox-/) })));
    expect((await attemptsOf(notificationId)).map((r) => `${r.status}:${r.provider}`)).toEqual(['sent:sandbox-apns', 'sent:sandbox-apns']);
    expect(fcm.requests).toHaveLength(0);
  });

  it('refuses devices of several platforms in one batch', async () => {
    const android = await setup('android', ['mixed-a']);
    const ios = await setup('ios', ['mixed-i']);
    await expect(
      run(1, { notificationId: android.notificationId, targets: [...android.targets, ...ios.targets], message: message(android.notificationId) }),
    ).rejects.toMatchObject({ type: 'InvalidPushBatch', nonRetryable: true });
  });
});
