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

test("a shipped push carries the template's rendered deep link; a device in another locale gets that locale's own rich fields", async () => {
  await db.customer.create({ data: { id: 'c-rich', name: 'Ada', locale: 'en' } });
  await db.device.create({ data: { deviceId: 'c-rich-en', customerId: 'c-rich', platform: 'ios', token: 'b'.repeat(64) } });
  await db.device.create({ data: { deviceId: 'c-rich-fr', customerId: 'c-rich', platform: 'ios', token: 'c'.repeat(64), locale: 'fr' } });
  // The French template's newest version has an image and no link: the French device must not get the English link.
  await db.template.updateMany({ where: { key: 'order.shipped', channel: 'push', locale: 'fr' }, data: { state: 'archived' } });
  await db.template.create({
    data: { key: 'order.shipped', channel: 'push', locale: 'fr', version: 2, state: 'published', subject: 'Expédiée : {{ orderId }}', body: 'En route.', imageUrl: 'https://cdn.example/fr.png' },
  });
  const trackingUrl = 'https://track.example/1Z-rich';
  const event: OrderEvent = { eventId: 'e-rich-1', orderId: 'o-rich', customerId: 'c-rich', status: 'shipped', occurredAt: '2026-12-01T09:00:00.000Z', source: 'test', data: { trackingUrl }, receivedAt: new Date().toISOString() };
  await db.orderEvent.create({ data: { eventId: event.eventId, orderId: event.orderId, customerId: event.customerId, status: 'shipped', occurredAt: new Date(event.occurredAt), source: 'test', data: { trackingUrl } } });

  const { prepareStep } = createOrderStepActivities(db, createRenderer(db, 'en', 0));
  const prepared = await prepareStep(input(event, 'run-rich'));
  if (prepared.outcome !== 'planned') throw new Error(prepared.outcome);
  const push = prepared.deliveries.find((d) => d.channel === 'push');
  if (!push || !('outbound' in push) || push.outbound.channel !== 'push') throw new Error('no push prepared');
  expect(push.outbound.message.rich).toEqual({ deepLink: trackingUrl });
  expect(push.outbound.localized).toEqual({ fr: { title: 'Expédiée : o-rich', body: 'En route.', rich: { imageUrl: 'https://cdn.example/fr.png' } } });
  await db.template.deleteMany({ where: { key: 'order.shipped', channel: 'push', locale: 'fr', version: 2 } });
  await db.template.updateMany({ where: { key: 'order.shipped', channel: 'push', locale: 'fr' }, data: { state: 'published' } });
});
