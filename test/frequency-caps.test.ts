// Frequency caps counted in a real PostgreSQL: many concurrent claims for one customer, from separate
// connections as separate workers would make them, take exactly the cap's number of slots.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { claimFrequencySlots, createFrequencyCapActivities } from '../activities/frequency-caps';
import { capRulesFor, DEFAULT_FREQUENCY_CAPS, notificationKindFor } from '../domain';
import { loadFrequencyCaps } from '../lib/config';
import { createDb, type Db } from '../lib/db';
import { migrateDatabase, startEmbeddedPostgres, type EmbeddedPostgres } from '../dev/embedded';

let pg: EmbeddedPostgres;
const dbs: Db[] = [];

beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-caps-'));
  fs.chmodSync(dataDir, 0o755);
  pg = await startEmbeddedPostgres({ dataDir, persistent: false });
  await migrateDatabase(pg.url);
  // Four pools, as four workers would have.
  for (let i = 0; i < 4; i++) dbs.push(createDb(pg.url, { max: 5 }));
}, 180_000);

afterAll(async () => {
  await Promise.all(dbs.map((db) => db.$disconnect()));
  await pg?.stop();
}, 60_000);

const hourly = (limit: number) => ({ category: 'marketing', limit, windowSeconds: 3600, description: `push/marketing: ${limit} per 1 hour` });

test('40 concurrent claims under a cap of 5 take exactly 5 slots, and the refusals name the rule', async () => {
  const results = await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      createFrequencyCapActivities(dbs[i % dbs.length]!).claimFrequencySlot({ notificationId: `n-conc-${i}`, customerId: 'c-conc', channel: 'push', rules: [hourly(5)] }),
    ),
  );
  expect(results.filter((r) => r.allowed)).toHaveLength(5);
  expect(results.filter((r) => !r.allowed).every((r) => r.rule === 'push/marketing: 5 per 1 hour')).toBe(true);
  const [counter] = await dbs[0]!.$queryRaw<Array<{ count: number }>>`SELECT count FROM "FrequencyCounter" WHERE "customerId" = 'c-conc'`;
  expect(counter!.count).toBe(5);
  // Another customer has slots of their own.
  expect((await createFrequencyCapActivities(dbs[0]!).claimFrequencySlot({ notificationId: 'n-other', customerId: 'c-other', channel: 'push', rules: [hourly(5)] })).allowed).toBe(true);
});

test('a retried claim returns the same answer without counting twice', async () => {
  const caps = createFrequencyCapActivities(dbs[0]!);
  const claim = (id: string) => caps.claimFrequencySlot({ notificationId: id, customerId: 'c-retry', channel: 'push', rules: [hourly(1)] });
  expect(await claim('n-retry-1')).toEqual({ allowed: true });
  expect(await claim('n-retry-1')).toEqual({ allowed: true });
  expect(await claim('n-retry-2')).toEqual({ allowed: false, rule: 'push/marketing: 1 per 1 hour' });
  expect(await claim('n-retry-2')).toEqual({ allowed: false, rule: 'push/marketing: 1 per 1 hour' });
});

test('with two rules a slot is taken under both or neither', async () => {
  const caps = createFrequencyCapActivities(dbs[0]!);
  const rules = [hourly(10), { category: 'promotions', limit: 1, windowSeconds: 86_400, description: 'push/promotions: 1 per 1 day' }];
  expect((await caps.claimFrequencySlot({ notificationId: 'n-two-1', customerId: 'c-two', channel: 'push', rules })).allowed).toBe(true);
  expect(await caps.claimFrequencySlot({ notificationId: 'n-two-2', customerId: 'c-two', channel: 'push', rules })).toEqual({ allowed: false, rule: 'push/promotions: 1 per 1 day' });
  const rows = await dbs[0]!.$queryRaw<Array<{ category: string; count: number }>>`
    SELECT category, count FROM "FrequencyCounter" WHERE "customerId" = 'c-two' ORDER BY category`;
  // The refused claim did not leave the hourly counter raised.
  expect(rows).toEqual([{ category: 'marketing', count: 1 }, { category: 'promotions', count: 1 }]);
});

test('rules: critical events are never capped, transactional is exempt unless a rule names it, configuration is checked', () => {
  expect(capRulesFor(DEFAULT_FREQUENCY_CAPS, 'push', notificationKindFor('packed'))).toEqual([]);
  const marketing = { type: 'promo', priority: 'routine' as const, category: 'marketing' as const, topic: 'promotions' as const };
  expect(capRulesFor(DEFAULT_FREQUENCY_CAPS, 'push', marketing)).toEqual([DEFAULT_FREQUENCY_CAPS[0]]);
  expect(capRulesFor(DEFAULT_FREQUENCY_CAPS, 'push', { ...marketing, priority: 'critical' })).toEqual([]);
  const custom = loadFrequencyCaps('[{"channel":"push","category":"transactional","limit":3,"window":"1 hour"}]');
  expect(capRulesFor(custom, 'push', notificationKindFor('packed'))).toHaveLength(1);
  expect(capRulesFor(custom, 'push', notificationKindFor('shipped'))).toEqual([]);
  expect(loadFrequencyCaps('[]')).toEqual([]);
  expect(() => loadFrequencyCaps('[{"channel":"fax","category":"x","limit":1,"window":"1 hour"}]')).toThrow(/channel/);
  expect(() => loadFrequencyCaps('[{"channel":"push","category":"x","limit":1,"window":"soon"}]')).toThrow(/window/);
  expect(() => loadFrequencyCaps('{')).toThrow(/HERALD_FREQUENCY_CAPS/);
});

test('a campaign batch claims in bulk: each customer a slot under every rule or none, the refused give back what the earlier rules took, a retry is answered the same', async () => {
  const db = dbs[0]!;
  const daily = { category: 'promotions', limit: 1, windowSeconds: 86_400, description: 'push/promotions: 1 per 1 day' };
  const caps = createFrequencyCapActivities(db);
  // c-bulk-2 had a promotion today already; c-bulk-3 had five marketing pushes this hour.
  expect((await caps.claimFrequencySlot({ notificationId: 'n-bulk-earlier-2', customerId: 'c-bulk-2', channel: 'push', rules: [daily] })).allowed).toBe(true);
  for (let i = 0; i < 5; i++) expect((await caps.claimFrequencySlot({ notificationId: `n-bulk-earlier-3-${i}`, customerId: 'c-bulk-3', channel: 'push', rules: [hourly(5)] })).allowed).toBe(true);
  const claims = [1, 2, 3].map((i) => ({ notificationId: `n-bulk-${i}`, customerId: `c-bulk-${i}` }));
  const input = { channel: 'push' as const, rules: [hourly(5), daily], claims };
  const first = await claimFrequencySlots(db, input);
  expect(Object.fromEntries(first)).toEqual({
    'n-bulk-1': { allowed: true },
    'n-bulk-2': { allowed: false, rule: 'push/promotions: 1 per 1 day' },
    'n-bulk-3': { allowed: false, rule: 'push/marketing: 5 per 1 hour' },
  });
  const counts = async () =>
    Object.fromEntries(
      (await db.$queryRaw<Array<{ key: string; count: number }>>`
        SELECT "customerId" || '/' || category AS key, count FROM "FrequencyCounter" WHERE "customerId" LIKE 'c-bulk-%'`).map((r) => [r.key, r.count]),
    );
  // c-bulk-2's hourly slot, taken before the daily rule refused it, was given back.
  expect(await counts()).toEqual({ 'c-bulk-1/marketing': 1, 'c-bulk-1/promotions': 1, 'c-bulk-2/marketing': 0, 'c-bulk-2/promotions': 1, 'c-bulk-3/marketing': 5 });
  expect(Object.fromEntries(await claimFrequencySlots(db, input))).toEqual(Object.fromEntries(first));
  expect(await counts()).toEqual({ 'c-bulk-1/marketing': 1, 'c-bulk-1/promotions': 1, 'c-bulk-2/marketing': 0, 'c-bulk-2/promotions': 1, 'c-bulk-3/marketing': 5 });
});
