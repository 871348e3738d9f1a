// The plan-step activity against a real PostgreSQL: one round prepares every channel of a step, and a
// retry of the same run's step carries on where an event another run settled is not sent again.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createOrderStepActivities, type PrepareStepInput } from '../activities/order-steps';
import { createRenderer } from '../activities/render';
import { DEFAULT_CHANNEL_PLANS, notificationKindFor, planFor, START_POSITION, advance, type OrderEvent } from '../domain';
import { createDb, type Db } from '../lib/db';
import { ensureDefaultTemplates } from '../lib/seed';
import { migrateDatabase, startEmbeddedPostgres, type EmbeddedPostgres } from '../dev/embedded';

let pg: EmbeddedPostgres;
let db: Db;

beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-steps-'));
  fs.chmodSync(dataDir, 0o755);
  pg = await startEmbeddedPostgres({ dataDir, persistent: false });
  await migrateDatabase(pg.url);
  db = createDb(pg.url, { max: 3 });
  await ensureDefaultTemplates(db);
}, 180_000);

afterAll(async () => {
  await db?.$disconnect();
  await pg?.stop();
}, 60_000);

async function stored(eventId: string, status: OrderEvent['status']): Promise<OrderEvent> {
  const event: OrderEvent = { eventId, orderId: `o-${eventId}`, customerId: 'c-steps', status, occurredAt: '2026-12-01T09:00:00.000Z', source: 'test', data: {}, receivedAt: new Date().toISOString() };
  await db.orderEvent.create({ data: { eventId, orderId: event.orderId, customerId: event.customerId, status, occurredAt: new Date(event.occurredAt), source: 'test', data: {} } });
  return event;
}

function input(event: OrderEvent, runId: string): PrepareStepInput {
  const kind = notificationKindFor(event.status);
  const plan = planFor(DEFAULT_CHANNEL_PLANS, kind);
  return {
    event,
    kind,
    step: 0,
    channels: plan.channels,
    planChannels: [...plan.channels, ...plan.then.flatMap((s) => s.channels)],
    position: advance(START_POSITION, event.status, event.occurredAt),
    runId,
    now: new Date().toISOString(),
    digestWindowMs: 0,
    windows: { lastRoutineSentAt: {}, openDigests: {} },
    capRules: [],
  };
}

test('a confirmation step prepares the email receipt, the push and the inbox in one round, and settles the event', async () => {
  await db.customer.create({ data: { id: 'c-steps', name: 'Ada', email: 'ada@example.com', locale: 'en' } });
  await db.device.create({ data: { deviceId: 'c-steps-phone', customerId: 'c-steps', platform: 'ios', token: 'a'.repeat(64) } });
  const { prepareStep } = createOrderStepActivities(db, createRenderer(db, 'en', 0));
  const event = await stored('e-steps-1', 'confirmed');
  const prepared = await prepareStep(input(event, 'run-1'));
  expect(prepared.outcome).toBe('planned');
  if (prepared.outcome !== 'planned') return;
  expect(prepared.deliveries.map((d) => [d.channel, d.decision.action])).toEqual([
    ['email', 'send'],
    ['push', 'send'],
    ['inapp', 'written'],
  ]);
  const rows = await db.notification.findMany({ where: { eventId: 'e-steps-1' }, orderBy: { channel: 'asc' } });
  expect(rows.map((r) => [r.channel, r.status, r.title])).toEqual([
    ['push', 'queued', 'Order o-e-steps-1 confirmed'],
    ['email', 'queued', 'Order o-e-steps-1 confirmed'],
  ]);
  expect(await db.inboxMessage.count({ where: { notificationId: 'e-steps-1/inapp' } })).toBe(1);
  expect(await db.orderEvent.findUnique({ where: { eventId: 'e-steps-1' } })).toMatchObject({ disposition: 'announced', settledByRun: 'run-1' });

  // The same run's step again (its result lost with a worker): it carries on, writing nothing twice.
  const again = await prepareStep(input(event, 'run-1'));
  expect(again.outcome).toBe('planned');
  expect(await db.notification.count({ where: { eventId: 'e-steps-1' } })).toBe(2);
  expect(await db.inboxMessage.count({ where: { notificationId: 'e-steps-1/inapp' } })).toBe(1);
  // Another run (the event re-signalled after this one ended): handled already, nothing is sent again.
  expect(await prepareStep(input(event, 'run-2'))).toEqual({ outcome: 'already_processed' });
});
