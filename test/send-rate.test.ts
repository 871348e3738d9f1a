// The providers' rate limits held across workers (activities/send-rate.ts), on a real PostgreSQL: each live worker
// takes an equal share from the lease table, a joining worker takes none until every other live row has renewed since
// it joined (the shares never add up to more than the limit), a leaving or dead worker's share goes back to the others,
// a hung renewal stops the worker's sends; within a worker, sends wait their turn by priority, and a cancelled send
// leaves the queue.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CancelledFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createBulkPusher, type BulkPushDevice } from '../activities/bulk-push';
import { createSandboxPushProvider } from '../activities/providers/sandbox';
import { hostIdentity, joinSendRate, PriorityBucket, sendSlot, type SendRate } from '../activities/send-rate';
import { createDb, type Db } from '../lib/db';
import { migrateDatabase, startEmbeddedPostgres, type EmbeddedPostgres } from '../dev/embedded';
import { eventually } from './support/harness';
import { logger } from './support/logger';

let pg: EmbeddedPostgres;
let db: Db;
const joined: SendRate[] = [];

beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-send-rate-'));
  fs.chmodSync(dataDir, 0o755);
  pg = await startEmbeddedPostgres({ dataDir, persistent: false });
  await migrateDatabase(pg.url);
  db = createDb(pg.url, { max: 3 });
}, 180_000);

afterAll(async () => {
  for (const rate of joined) await rate.leave();
  await db?.$disconnect();
  await pg?.stop();
}, 60_000);

const LIMIT = 40;
const RENEW_MS = 400;
/** A lease long enough for a peer row written by a test to outlive the renewals it waits for. */
const LONG_LEASE_MS = 20 * RENEW_MS;
const longLease = `${LONG_LEASE_MS} milliseconds`;
/** A peer's row (or its renewal): expiring a lease from now, as a worker with the same lease length writes it. */
const renewPeer = (workerId: string, host: string, pid: number) => db.$executeRaw`
  INSERT INTO "SendRateLease" ("workerId", "host", "pid", "expiresAt", "joinedAt") VALUES (${workerId}, ${host}, ${pid}, now() + ${longLease}::interval, now() - interval '1 minute')
  ON CONFLICT ("workerId") DO UPDATE SET "expiresAt" = EXCLUDED."expiresAt"`;
const leaseRows = () => db.$queryRaw<Array<{ workerId: string; expiresAt: Date; joinedAt: Date }>>`SELECT "workerId", "expiresAt", "joinedAt" FROM "SendRateLease"`;
const join = async (leaseMs?: number) => {
  // Renewals 0.4 s apart (each bounded to 0.2 s), so the tests take seconds, not the production 5 s renewals.
  const rate = await joinSendRate({ db, limits: { push: LIMIT }, logger, renewMs: RENEW_MS, leaseMs });
  joined.push(rate);
  return rate;
};

test('live workers share the limit; a newcomer waits to be counted, a leaver gives its share back', async () => {
  const first = await join();
  // Alone: the whole limit (a fresh start sends its first notification without waiting for anyone).
  await eventually(() => expect(first.share('push')).toBe(LIMIT), 20_000, 20);

  const second = await join();
  // Counted by the first at its next renewal, while the second takes nothing until then: never more than the limit.
  expect(second.share('push')).toBe(0);
  const sums: number[] = [];
  await eventually(() => {
    sums.push(first.share('push') + second.share('push'));
    expect([first.share('push'), second.share('push')]).toEqual([LIMIT / 2, LIMIT / 2]);
  }, 20_000, 20);
  expect(Math.max(...sums)).toBeLessThanOrEqual(LIMIT);

  await second.leave();
  await eventually(() => expect(first.share('push')).toBe(LIMIT), 20_000, 20);
  await first.leave();
});

test('a worker that died without leaving is dropped when its lease runs out (or at once when it was on this host)', async () => {
  const here = hostIdentity();
  // This machine's boot and pid namespace can be read here (Linux), or the early drop below cannot be shown.
  expect(here).toMatch(/^[0-9a-f-]+\/pid:\[\d+\]$/);
  // Another host's worker, whose lease ends soon and is never renewed: it died.
  await db.$executeRaw`INSERT INTO "SendRateLease" ("workerId", "host", "pid", "expiresAt") VALUES ('elsewhere:1', 'elsewhere', 1, now() + interval '1 second')`;
  // A worker of this machine and pid namespace whose process is gone: dropped at the next renewal, without waiting for its lease.
  await db.$executeRaw`INSERT INTO "SendRateLease" ("workerId", "host", "pid", "expiresAt") VALUES (${`${os.hostname()}:2147483646:x`}, ${here}, 2147483646, now() + interval '1 hour')`;
  const survivor = await join();
  // It counts the dead one elsewhere until its lease runs out (so it waits to be counted first), then takes all.
  expect(survivor.share('push')).toBe(0);
  await eventually(() => expect(survivor.share('push')).toBe(LIMIT), 20_000, 20);
  await eventually(async () => expect(await leaseRows()).toHaveLength(1), 20_000, 20);
  await survivor.leave();
});

test('sends waiting for the rate go by priority key, then in arrival order, never faster than the rate', async () => {
  const bucket = new PriorityBucket(20);
  const served: string[] = [];
  const started = Date.now();
  // Drain the initial burst, so the rest queue.
  await bucket.take(3);
  await bucket.take(3);
  const waits = [
    ...Array.from({ length: 6 }, (_, i) => bucket.take(3).then(() => served.push(`routine-${i}`))),
    bucket.take(1).then(() => served.push('critical')),
  ];
  await Promise.all(waits);
  expect(served[0]).toBe('critical');
  expect(served.slice(1)).toEqual(Array.from({ length: 6 }, (_, i) => `routine-${i}`));
  // Eight sends at 20 a second with a burst of two: at least (8 - 2) / 20 s. A slow machine only takes longer.
  expect(Date.now() - started).toBeGreaterThanOrEqual(((8 - 2) / 20) * 1000 - 5);
});

test('a container sharing the hostname but not the pid namespace is not dropped for a pid it cannot see', async () => {
  // Live in its own pid namespace (its pid means nothing here): the same hostname, the same boot, another namespace.
  const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  await renewPeer(`${os.hostname()}:2147483645:y`, `${boot}/pid:[1]`, 2147483645);
  const newcomer = await join(LONG_LEASE_MS);
  // Its row stays through the newcomer's renewals, and the newcomer waits to be counted by it.
  const me = (await leaseRows()).find((r) => r.workerId !== `${os.hostname()}:2147483645:y`)!;
  await eventually(async () => {
    const mine = (await leaseRows()).find((r) => r.workerId === me.workerId)!;
    expect(mine.expiresAt.getTime() - me.expiresAt.getTime()).toBeGreaterThanOrEqual(3 * RENEW_MS);
  }, 20_000, 20);
  expect((await leaseRows()).map((r) => r.workerId)).toContain(`${os.hostname()}:2147483645:y`);
  expect(newcomer.share('push')).toBe(0);
  // It renews, so counting the newcomer: now they share.
  await renewPeer(`${os.hostname()}:2147483645:y`, `${boot}/pid:[1]`, 2147483645);
  await eventually(() => expect(newcomer.share('push')).toBe(LIMIT / 2), 20_000, 20);
  await newcomer.leave();
  await db.$executeRaw`DELETE FROM "SendRateLease"`;
});

test('a newcomer takes its share only once every other live row renewed after it joined, however long that takes', async () => {
  // A live worker whose renewals are late (its lease still runs): it has not counted the newcomer.
  await renewPeer('slow:1', 'slow', 1);
  const newcomer = await join(LONG_LEASE_MS);
  const joinedAt = (await leaseRows()).find((r) => r.workerId !== 'slow:1')!;
  // Well past the two renewals a wall-clock wait would have given it: still nothing.
  await eventually(async () => {
    const mine = (await leaseRows()).find((r) => r.workerId === joinedAt.workerId)!;
    expect(mine.expiresAt.getTime() - joinedAt.expiresAt.getTime()).toBeGreaterThanOrEqual(4 * RENEW_MS);
  }, 20_000, 20);
  expect(newcomer.share('push')).toBe(0);
  // The slow worker renews after the newcomer joined (so its count includes it): the newcomer takes half.
  await renewPeer('slow:1', 'slow', 1);
  await eventually(() => expect(newcomer.share('push')).toBe(LIMIT / 2), 20_000, 20);
  await newcomer.leave();
  await db.$executeRaw`DELETE FROM "SendRateLease"`;
});

test('a renewal that hangs stops the worker sending at once, without a second renewal piling up; it sends again once one succeeds', async () => {
  const worker = await join();
  await eventually(() => expect(worker.share('push')).toBe(LIMIT), 20_000, 20);
  // The table locked by someone else: every renewal hangs in PostgreSQL until its statement timeout.
  await db.$transaction(
    async (tx) => {
      await tx.$executeRaw`LOCK TABLE "SendRateLease" IN ACCESS EXCLUSIVE MODE`;
      await eventually(() => expect(worker.share('push')).toBe(0), 20_000, 20);
      // Never more than one renewal of the worker at a time waits on the lock.
      const waiting = await tx.$queryRaw<Array<{ n: number }>>`
        SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%SendRateLease%' AND pid <> pg_backend_pid()`;
      expect(waiting[0]!.n).toBeLessThanOrEqual(1);
    },
    { timeout: 30_000 },
  );
  await eventually(() => expect(worker.share('push')).toBe(LIMIT), 20_000, 20);
  await worker.leave();
}, 60_000);

test('a send cancelled while it waits for its slot leaves the queue and never gets one', async () => {
  const bucket = new PriorityBucket(20);
  await bucket.take(3);
  await bucket.take(3);
  const abandoned = new AbortController();
  const served: string[] = [];
  const cancelled = bucket.take(1, undefined, abandoned.signal).then(() => served.push('cancelled'), (err: unknown) => err);
  const next = bucket.take(3).then(() => served.push('next'));
  expect(bucket.waiting).toBe(2);
  abandoned.abort(new Error('given up on'));
  expect(await cancelled).toEqual(new Error('given up on'));
  expect(bucket.waiting).toBe(1);
  await next;
  expect(served).toEqual(['next']);
});

test('sendSlot in an activity attempt Temporal cancels rejects with the cancellation, before any provider call', async () => {
  // A worker that is not counted yet (a live peer that has not renewed since): its share is 0, sends wait.
  await renewPeer('peer:1', 'peer', 1);
  const waiting = await join(LONG_LEASE_MS);
  expect(waiting.share('push')).toBe(0);
  const env = new MockActivityEnvironment();
  let providerCalls = 0;
  // Its first heartbeat says it is waiting in the queue; Temporal's cancellation comes then (at a heartbeat).
  const heartbeat = new Promise((resolve) => env.once('heartbeat', resolve));
  const attempt = env.run(async () => {
    await sendSlot(waiting, 'push');
    providerCalls++;
  });
  await heartbeat;
  env.cancel();
  await expect(attempt).rejects.toBeInstanceOf(CancelledFailure);
  // The peer counts it now: the share comes, but the cancelled attempt took no slot and called nothing.
  await renewPeer('peer:1', 'peer', 1);
  await eventually(() => expect(waiting.share('push')).toBe(LIMIT / 2), 20_000, 20);
  await waiting.take('push', 3);
  expect(providerCalls).toBe(0);
  await waiting.leave();
  await db.$executeRaw`DELETE FROM "SendRateLease"`;
});

test('product alerts and campaigns push under the same share: each provider call of the bulk pusher waits for a slot', async () => {
  await db.customer.create({ data: { id: 'alerted', name: 'Alerted' } });
  await db.notification.create({
    data: { id: 'alert-1', customerId: 'alerted', type: 'product_alert', priority: 'routine', category: 'marketing', channel: 'push', status: 'queued' },
  });
  const devices: BulkPushDevice[] = [];
  for (const name of ['a', 'b', 'c']) {
    const d = await db.device.create({ data: { deviceId: `app-${name}`, customerId: 'alerted', platform: 'ios', token: `alert-token-${name}` } });
    devices.push({ deviceId: d.id, platform: 'ios', token: d.token, app: null });
  }
  const sandbox = createSandboxPushProvider('apns', logger);
  const pushers = { android: sandbox, ios: sandbox, web: sandbox };
  // Not counted yet by a live peer: a share of 0, so every provider call waits.
  await renewPeer('peer:2', 'peer', 1);
  const rate = await join(LONG_LEASE_MS);
  expect(rate.share('push')).toBe(0);
  const pusher = createBulkPusher(db, pushers, rate);
  const env = new MockActivityEnvironment();
  const heartbeat = new Promise((resolve) => env.once('heartbeat', resolve));
  const pushed = env.run(() =>
    pusher.pushQueued({
      ids: ['alert-1'],
      devicesOf: () => devices,
      messageOf: (n) => ({ notificationId: n.id, orderId: '', title: 'Back in stock', body: 'It is back', priority: 'routine', collapseKey: 'alert', data: { notificationId: n.id } }),
      attempt: 1,
    }),
  );
  await heartbeat;
  const sent = () => db.deliveryAttempt.count({ where: { notificationId: 'alert-1', status: 'sent' } });
  expect(await sent()).toBe(0);
  // Counted: the share comes and the three calls go out under it.
  await renewPeer('peer:2', 'peer', 1);
  expect(await pushed).toEqual({ pushes: 3, transient: 0 });
  expect(await sent()).toBe(3);
  await rate.leave();
  await db.$executeRaw`DELETE FROM "SendRateLease"`;
}, 60_000);
