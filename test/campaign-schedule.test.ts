// The campaign workflow on the time-skipping test server, so its waits (a local time in each zone, the end of
// someone's quiet hours, a variant's evening send) pass in seconds; its activities are the real ones, against an
// embedded PostgreSQL, pushing through the real APNs and FCM providers to their fakes at the wire. Each
// recipient's send is recorded at the workflow's clock (CampaignRecipient.settledAt), which is what is checked.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createCampaignActivities } from '../activities/campaigns';
import { createApnsProvider } from '../activities/providers/apns';
import { createFcmProvider } from '../activities/providers/fcm';
import type { PushProvider } from '../activities/providers/push-provider';
import { createSandboxMessageProvider, createSandboxPushProvider } from '../activities/providers/sandbox';
import { createRenderer } from '../activities/render';
import { DEFAULT_FREQUENCY_CAPS } from '../domain';
import { createDb, type Db } from '../lib/db';
import { migrateDatabase, startEmbeddedPostgres, type EmbeddedPostgres } from '../dev/embedded';
import { testServerPath } from '../dev/tools';
import { campaignWorkflow } from '../workflows/campaign';
import { campaignProgressQuery, cancelCampaignSignal, pauseCampaignSignal, resumeCampaignSignal } from '../workflows/definitions';
import { createApnsKey, startFakeApns, type FakeApnsServer } from './fakes/apns-server';
import { startFakeFcm, type FakeFcmServer } from './fakes/fcm-server';
import { logger } from './support/logger';
import { testWorkflows } from './support/workflow-bundle';

Runtime.install({ logger: new DefaultLogger('ERROR') });

const TASK_QUEUE = 'campaign-schedule';
let env: TestWorkflowEnvironment;
let pg: EmbeddedPostgres;
let db: Db;
let apnsFake: FakeApnsServer;
let fcmFake: FakeFcmServer;
let apns: PushProvider;
let fcm: PushProvider;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-campaign-schedule-'));
  fs.chmodSync(dataDir, 0o755);
  pg = await startEmbeddedPostgres({ dataDir, persistent: false });
  await migrateDatabase(pg.url);
  db = createDb(pg.url, { max: 5 });
  const key = createApnsKey();
  apnsFake = await startFakeApns({ keyId: key.keyId, teamId: key.teamId, publicKeyPem: key.publicKeyPem });
  apns = createApnsProvider({ keyFile: key.keyFile, keyId: key.keyId, teamId: key.teamId, topic: 'com.example.shop', production: false, endpoint: apnsFake.url, caFile: apnsFake.caFile }, logger);
  fcmFake = await startFakeFcm();
  const credentials = fcmFake.createCredentials();
  fcm = createFcmProvider({ credentialsFile: credentials.credentialsFile, endpoint: fcmFake.url, caFile: fcmFake.caFile }, logger);
  const activities = createCampaignActivities(
    db,
    { ios: apns, android: fcm, web: createSandboxPushProvider('webpush', logger) },
    { email: createSandboxMessageProvider('smtp', logger), sms: createSandboxMessageProvider('twilio', logger) },
    createRenderer(db, 'en', 0),
    logger,
    { frequencyCaps: DEFAULT_FREQUENCY_CAPS },
  );
  await db.template.create({ data: { key: 'campaign.morning', channel: 'push', locale: 'en', version: 1, state: 'published', subject: 'Good morning', body: 'Coffee is 2 for 1 until noon.' } });
  env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: testServerPath() } } });
  worker = await Worker.create({ connection: env.nativeConnection, taskQueue: TASK_QUEUE, ...testWorkflows(), activities });
  running = worker.run();
}, 240_000);

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
  await apns?.close();
  await fcm?.close();
  await apnsFake?.close();
  await fcmFake?.close();
  await db?.$disconnect();
  await pg?.stop();
}, 60_000);

let seq = 0;
/** A customer in a zone with a device opted in to promotions on push; returns its token. */
async function customer(id: string, timeZone: string, platform: 'ios' | 'android', quiet?: { start: string; end: string }) {
  const token = platform === 'ios' ? (0xc0ffee + ++seq).toString(16).padStart(64, '0') : `${id}:${'B'.repeat(140)}`;
  await db.customer.create({ data: { id, timeZone, country: 'XX', ...(quiet ? { quietHoursStart: quiet.start, quietHoursEnd: quiet.end } : {}) } });
  await db.device.create({ data: { deviceId: `app-${id}`, customerId: id, platform, token } });
  await db.preference.create({ data: { customerId: id, channel: 'push', category: 'promotions', optedIn: true } });
  return token;
}

async function campaign(id: string, customerIds: string[], schedule: unknown, experimentId?: string) {
  await db.segment.create({ data: { id: `seg-${id}`, name: id, rule: { customerIds } } });
  await db.campaign.create({
    data: { id, name: id, segmentId: `seg-${id}`, category: 'promotions', channels: ['push'], templates: { push: 'campaign.morning' }, schedule: schedule as object, status: 'scheduled', experimentId },
  });
  return env.client.workflow.start(campaignWorkflow, { workflowId: `campaign:${id}`, taskQueue: TASK_QUEUE, args: [{ campaignId: id }] });
}

/** With RECORD_HISTORIES=1, keeps a finished run's history as a replay fixture (test/histories, replayed by test/replay.test.ts). */
async function keepHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  const history = await handle.fetchHistory();
  fs.writeFileSync(path.join(__dirname, 'histories', `${name}.bin`), temporal.api.history.v1.History.encode(history).finish());
}

/** The wall clock in a zone at an instant: "HH:MM". */
const wallClock = (at: Date, timeZone: string) => new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(at);

const recipients = (campaignId: string) => db.campaignRecipient.findMany({ where: { campaignId }, orderBy: { customerId: 'asc' } });

test('a 10:00 local-time campaign sends at 10:00 in Paris and at 10:00 in New York; a customer in quiet hours waits for their end', async () => {
  const paris = await customer('paris', 'Europe/Paris', 'ios');
  const newYork = await customer('new-york', 'America/New_York', 'android');
  const sleeper = await customer('paris-late', 'Europe/Paris', 'ios', { start: '09:30', end: '11:15' });
  const startedAt = await env.currentTimeMs();
  const handle = await campaign('morning', ['paris', 'new-york', 'paris-late'], { type: 'local', localTime: '10:00' });

  // Before anyone is due: enrolled, each due at 10:00 in their own zone, nothing sent.
  // (A query does not skip time: the workflow is seen while it waits.)
  let waiting = await handle.query(campaignProgressQuery);
  for (let tries = 0; waiting.targeted === null && tries < 100; tries++) {
    await new Promise((r) => setTimeout(r, 100));
    waiting = await handle.query(campaignProgressQuery);
  }
  expect(waiting).toMatchObject({ status: 'scheduled', targeted: 3, pending: 3, sent: 0 });
  const due = await recipients('morning');
  for (const r of due) expect({ customer: r.customerId, local: wallClock(r.dueAt, r.customerId === 'new-york' ? 'America/New_York' : 'Europe/Paris') }).toEqual({ customer: r.customerId, local: '10:00' });

  const result = await handle.result();
  expect(result).toMatchObject({ status: 'completed', targeted: 3, sent: 3, pending: 0 });
  await keepHistory(handle, 'campaign-local-time');
  const sent = new Map((await recipients('morning')).map((r) => [r.customerId, r]));
  // Each went at 10:00 on their own clock (the first 10:00 after the start), the sleeper when their quiet hours ended.
  expect(wallClock(sent.get('paris')!.settledAt!, 'Europe/Paris')).toBe('10:00');
  expect(wallClock(sent.get('new-york')!.settledAt!, 'America/New_York')).toBe('10:00');
  expect(wallClock(sent.get('paris-late')!.settledAt!, 'Europe/Paris')).toBe('11:15');
  for (const r of sent.values()) {
    expect(r.status).toBe('sent');
    expect(r.settledAt!.getTime()).toBeGreaterThan(startedAt);
    expect(r.settledAt!.getTime() - startedAt).toBeLessThan(26 * 3_600_000);
  }
  expect(Math.round((sent.get('paris-late')!.settledAt!.getTime() - sent.get('paris')!.settledAt!.getTime()) / 60_000)).toBe(75);
  // One push each, at the providers.
  expect(apnsFake.requestsFor(paris)).toHaveLength(1);
  expect(apnsFake.requestsFor(sleeper)).toHaveLength(1);
  expect(fcmFake.requests.filter((r) => r.token === newYork && r.status === 200)).toHaveLength(1);
  expect(await db.campaign.findUnique({ where: { id: 'morning' } })).toMatchObject({ status: 'completed', targeted: 3 });
}, 120_000);

test('a send-time experiment: the "now" variant goes at the start, the "evening" one at 18:00 in each recipient\u2019s zone, each assignment recorded', async () => {
  await db.experiment.create({
    data: {
      id: 'now-or-evening',
      name: 'Now or in the evening',
      kind: 'send_time',
      control: 'now',
      variants: [
        { id: 'now', weight: 1, sendAt: { type: 'schedule' } },
        { id: 'evening', weight: 1, sendAt: { type: 'local', localTime: '18:00' } },
      ],
    },
  });
  const ids = Array.from({ length: 20 }, (_, i) => `exp-${i}`);
  for (const [i, id] of ids.entries()) await customer(id, i % 2 ? 'Europe/Paris' : 'Asia/Tokyo', i % 3 ? 'android' : 'ios');
  const startedAt = await env.currentTimeMs();
  const handle = await campaign('evening-test', ids, { type: 'now' }, 'now-or-evening');
  const result = await handle.result();
  expect(result).toMatchObject({ status: 'completed', targeted: 20, sent: 20 });
  await keepHistory(handle, 'campaign-send-time-variant');

  const rows = await recipients('evening-test');
  const assignments = new Map((await db.experimentAssignment.findMany({ where: { experimentId: 'now-or-evening' } })).map((a) => [a.customerId, a]));
  const variants = new Set(rows.map((r) => r.variant));
  expect(variants).toEqual(new Set(['now', 'evening']));
  for (const r of rows) {
    const zone = Number(r.customerId.slice(4)) % 2 ? 'Europe/Paris' : 'Asia/Tokyo';
    expect(assignments.get(r.customerId)).toMatchObject({ variant: r.variant, exposedAt: r.settledAt });
    if (r.variant === 'now') expect(r.settledAt!.getTime() - startedAt).toBeLessThan(60_000);
    else {
      expect({ customer: r.customerId, local: wallClock(r.settledAt!, zone) }).toEqual({ customer: r.customerId, local: '18:00' });
      expect(r.settledAt!.getTime() - startedAt).toBeLessThan(24 * 3_600_000);
    }
  }
  const notifications = await db.notification.findMany({ where: { campaignId: 'evening-test' } });
  expect(notifications).toHaveLength(20);
  for (const n of notifications) expect(n).toMatchObject({ status: 'sent', experimentId: 'now-or-evening', variant: rows.find((r) => r.customerId === n.customerId)!.variant });
}, 120_000);

test('a campaign waiting for its time is paused, resumed and cancelled by signals: nobody gets it, everyone pending is cancelled', async () => {
  await customer('wait-1', 'Europe/Paris', 'ios');
  await customer('wait-2', 'America/New_York', 'android');
  const at = new Date((await env.currentTimeMs()) + 2 * 86_400_000).toISOString();
  const handle = await campaign('waiting', ['wait-1', 'wait-2'], { type: 'at', at });
  // A query does not skip time: each state is seen while the run waits for the day after tomorrow.
  const until = async (status: string) => {
    for (let tries = 0; tries < 100; tries++) {
      const p = await handle.query(campaignProgressQuery);
      if (p.status === status && p.targeted !== null) return p;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`the campaign never became ${status}: ${JSON.stringify(await handle.query(campaignProgressQuery))}`);
  };
  expect(await until('scheduled')).toMatchObject({ targeted: 2, pending: 2, nextDueAt: at.replace('Z', '').slice(0, 23) + 'Z' });
  await handle.signal(pauseCampaignSignal);
  await until('paused');
  expect(await db.campaign.findUnique({ where: { id: 'waiting' } })).toMatchObject({ status: 'paused' });
  await handle.signal(resumeCampaignSignal);
  await until('scheduled');
  expect(await db.campaign.findUnique({ where: { id: 'waiting' } })).toMatchObject({ status: 'scheduled' });
  await handle.signal(cancelCampaignSignal);
  expect(await handle.result()).toMatchObject({ status: 'cancelled', targeted: 2, pending: 0, sent: 0, cancelled: 2, remaining: 0 });
  expect((await recipients('waiting')).map((r) => [r.customerId, r.status, r.reason])).toEqual([
    ['wait-1', 'cancelled', 'campaign_cancelled'],
    ['wait-2', 'cancelled', 'campaign_cancelled'],
  ]);
  expect(await db.campaign.findUnique({ where: { id: 'waiting' } })).toMatchObject({ status: 'cancelled', finishedAt: expect.any(Date) });
  expect(await db.notification.count({ where: { campaignId: 'waiting' } })).toBe(0);
  await keepHistory(handle, 'campaign-paused-cancelled');
}, 120_000);
