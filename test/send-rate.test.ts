// The providers' rate limits held across workers (activities/send-rate.ts), on a real PostgreSQL: each live worker
// takes an equal share from the lease table, a joining worker takes none until the others count it (the shares never
// add up to more than the limit), a leaving or dead worker's share goes back to the others; within a worker, sends
// wait their turn by priority.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { joinSendRate, PriorityBucket, type SendRate } from '../activities/send-rate';
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
const join = async () => {
  const rate = await joinSendRate({ db, limits: { push: LIMIT }, logger, renewMs: 200 });
  joined.push(rate);
  return rate;
};

test('live workers share the limit; a newcomer waits to be counted, a leaver gives its share back', async () => {
  const first = await join();
  // Alone: the whole limit at once (a fresh start sends its first notification without waiting for anyone).
  expect(first.share('push')).toBe(LIMIT);

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
  // Another host's worker, whose lease ends soon and is never renewed: it died.
  await db.$executeRaw`INSERT INTO "SendRateLease" ("workerId", "host", "pid", "expiresAt") VALUES ('elsewhere:1', 'elsewhere', 1, now() + interval '1 second')`;
  // A worker of this host whose process is gone: dropped at the next renewal, without waiting for its lease.
  await db.$executeRaw`INSERT INTO "SendRateLease" ("workerId", "host", "pid", "expiresAt") VALUES (${`${os.hostname()}:2147483646:x`}, ${os.hostname()}, 2147483646, now() + interval '1 hour')`;
  const survivor = await join();
  // It counts the dead one elsewhere until its lease runs out (so it waits to be counted first), then takes all.
  expect(survivor.share('push')).toBe(0);
  await eventually(() => expect(survivor.share('push')).toBe(LIMIT), 20_000, 20);
  expect(await db.$queryRaw<Array<{ workerId: string }>>`SELECT "workerId" FROM "SendRateLease"`).toHaveLength(1);
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
