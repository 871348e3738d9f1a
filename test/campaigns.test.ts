// Campaigns on the real stack: the API, the campaign workflow on the worker, its batches against PostgreSQL, and
// the pushes and emails at the APNs, FCM and SMTP fakes. Customers, devices and preferences are made in bulk SQL.
import { eventually, untilWorkerReady, useHarness } from './support/harness';

const h = useHarness();

const MINUTE = 60_000;

/** A published template of every channel the campaigns here use. */
async function campaignTemplate(key: string) {
  for (const channel of ['push', 'email'] as const) {
    const created = await h.api('POST', `/v1/templates/${key}/versions`, { channel, locale: 'en', subject: 'Winter sale', body: 'Hello {{ customerName }}, 20% off everything today ({{ campaignName }}).' });
    expect(created.status).toBe(201);
    expect((await h.api('POST', `/v1/templates/${key}/${channel}/en/versions/${created.body.version}/publish`)).status).toBe(200);
  }
}

async function segment(id: string, rule: unknown) {
  await h.db.$executeRaw`INSERT INTO "Segment" (id, name, rule, "updatedAt") VALUES (${id}, ${id}, ${JSON.stringify(rule)}::jsonb, now())`;
}

const campaignBody = (segmentId: string, extra: Record<string, unknown> = {}) => ({
  name: `Campaign to ${segmentId}`,
  segmentId,
  category: 'promotions',
  channels: ['push', 'email'],
  templates: { push: 'campaign.winter-sale', email: 'campaign.winter-sale' },
  schedule: { type: 'now' },
  ...extra,
});

const progressOf = async (campaignId: string) => {
  const res = await h.api('GET', `/v1/campaigns/${campaignId}`);
  expect(res.status).toBe(200);
  return res.body as { status: string; targeted: number | null; progress: Record<string, any>; progressSource: string };
};

const iosTokenOf = (i: number) => i.toString(16).padStart(64, '0');
const androidTokenOf = (prefix: string, i: number) => `${prefix}${i}:${'A'.repeat(140)}`;
const fcmCount = (tokens: string[]) => {
  const wanted = new Set(tokens);
  const counts = new Map<string, number>();
  for (const r of h.fcm.requests) if (r.status === 200 && r.token && wanted.has(r.token)) counts.set(r.token, (counts.get(r.token) ?? 0) + 1);
  return counts;
};

/** HH:MM in a zone at an instant. */
function localClock(timeZone: string, at: number): string {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  return `${parts.find((p) => p.type === 'hour')!.value}:${parts.find((p) => p.type === 'minute')!.value}`;
}

beforeAll(async () => {
  await campaignTemplate('campaign.winter-sale');
});

test('a campaign to 2,001 customers reaches each permitted one once, on the first channel they allow, skips the opted-out and the unconsented with reasons, and waits for quiet hours; cancel ends it', async () => {
  const count = 2000;
  // i % 10: 0-5 push (even iOS, odd Android) opted in to promotions; 6 email only, opted in; 7 push opted out;
  // 8 push without consent; 9 push without consent but email opted in (the campaign falls back to email).
  await h.db.$executeRaw`
    INSERT INTO "Customer" (id, name, email, country, "timeZone", "updatedAt")
    SELECT 'cm-' || lpad(i::text, 4, '0'), 'Customer ' || i, CASE WHEN i % 10 IN (6, 9) THEN 'cm' || i || '@shop.example' END, 'FR', 'Europe/Paris', now()
    FROM generate_series(1, ${count}) i`;
  await h.db.$executeRaw`
    INSERT INTO "Device" (id, "deviceId", "customerId", platform, token, "updatedAt")
    SELECT 'dev-cm-' || i, 'app-cm-' || i, 'cm-' || lpad(i::text, 4, '0'), (CASE WHEN i % 2 = 0 THEN 'ios' ELSE 'android' END)::"Platform",
      CASE WHEN i % 2 = 0 THEN lpad(to_hex(i), 64, '0') ELSE 'cm' || i || ':' || repeat('A', 140) END, now()
    FROM generate_series(1, ${count}) i WHERE i % 10 <> 6`;
  await h.db.$executeRaw`
    INSERT INTO "Preference" ("customerId", channel, category, "optedIn", "updatedAt")
    SELECT 'cm-' || lpad(i::text, 4, '0'), (CASE WHEN i % 10 IN (6, 9) THEN 'email' ELSE 'push' END)::"Channel", 'promotions', i % 10 <> 7, now()
    FROM generate_series(1, ${count}) i WHERE i % 10 NOT IN (8)`;
  // One more, in quiet hours in their own zone right now (22:00-style window around Tokyo's current time).
  const minute = Math.floor(Date.now() / MINUTE) * MINUTE;
  const quietEnd = minute + 120 * MINUTE;
  await h.db.$executeRaw`
    INSERT INTO "Customer" (id, name, country, "timeZone", "quietHoursStart", "quietHoursEnd", "updatedAt")
    VALUES ('cm-quiet', 'Sleeper', 'FR', 'Asia/Tokyo', ${localClock('Asia/Tokyo', minute - 60 * MINUTE)}, ${localClock('Asia/Tokyo', quietEnd)}, now())`;
  await h.db.$executeRaw`INSERT INTO "Device" (id, "deviceId", "customerId", platform, token, "updatedAt") VALUES ('dev-cm-quiet', 'app-cm-quiet', 'cm-quiet', 'ios', ${'f'.repeat(64)}, now())`;
  await h.db.$executeRaw`INSERT INTO "Preference" ("customerId", channel, category, "optedIn", "updatedAt") VALUES ('cm-quiet', 'push', 'promotions', true, now())`;
  await segment('france', { all: [{ attribute: 'country', in: ['FR'] }] });

  const put = await h.api('PUT', '/v1/campaigns/winter-fr', campaignBody('france'));
  expect(put).toMatchObject({ status: 201, body: { campaignId: 'winter-fr', status: 'draft', progress: null, workflowId: 'campaign:winter-fr' } });
  const started = await h.api('POST', '/v1/campaigns/winter-fr/start');
  expect(started).toMatchObject({ status: 202, body: { workflowId: 'campaign:winter-fr', requested: 'start' } });

  const push = [0, 1, 2, 3, 4, 5];
  const ids = (groups: number[]) => Array.from({ length: count }, (_, k) => k + 1).filter((i) => groups.includes(i % 10));
  const done = await eventually(async () => {
    const p = await progressOf('winter-fr');
    expect(p).toMatchObject({ status: 'running', targeted: count + 1, progressSource: 'workflow' });
    expect(p.progress).toMatchObject({ sent: 1600, suppressed: { preference: 200, no_consent: 200 }, failed: 0, pending: 1, remaining: 1 });
    // The one waiting is the sleeper, due when their window ends in Tokyo: the workflow sleeps until then.
    expect(p.progress.nextDueAt).toBe(new Date(quietEnd).toISOString());
    return p;
  }, 120_000, 500);
  expect(done.progress.inFlight).toBeUndefined();
  expect(await h.db.campaignRecipient.findUnique({ where: { campaignId_customerId: { campaignId: 'winter-fr', customerId: 'cm-quiet' } } })).toMatchObject({
    status: 'pending',
    dueAt: new Date(quietEnd),
    notificationId: null,
  });
  expect(h.apns.requestsFor('f'.repeat(64))).toHaveLength(0);

  // Each permitted customer exactly once, at the provider of their device, or by email.
  const iosPermitted = ids(push).filter((i) => i % 2 === 0);
  for (const i of iosPermitted) expect({ i, pushes: h.apns.requestsFor(iosTokenOf(i)).length }).toEqual({ i, pushes: 1 });
  const androidPermitted = ids(push).filter((i) => i % 2 === 1).map((i) => androidTokenOf('cm', i));
  const perAndroid = fcmCount(androidPermitted);
  expect(perAndroid.size).toBe(androidPermitted.length);
  expect([...perAndroid.values()].every((n) => n === 1)).toBe(true);
  for (const i of ids([6, 9])) expect({ i, emails: h.smtp.messagesTo(`cm${i}@shop.example`).length }).toEqual({ i, emails: 1 });
  // Nobody opted out or unconsented got anything on push.
  for (const i of ids([7, 8, 9])) {
    const pushes = i % 2 === 0 ? h.apns.requestsFor(iosTokenOf(i)).length : (fcmCount([androidTokenOf('cm', i)]).get(androidTokenOf('cm', i)) ?? 0);
    expect({ i, pushes }).toEqual({ i, pushes: 0 });
  }
  const fcmPush = h.fcm.requests.find((r) => r.token === androidPermitted[0]);
  expect(fcmPush).toMatchObject({ notification: { title: 'Winter sale', body: 'Hello Customer 1, 20% off everything today (Campaign to france).' }, data: { campaignId: 'winter-fr', notificationId: 'campaign:winter-fr:cm-0001' } });

  // Every recipient is a notification with its reason or its attempt, in the history like any other.
  const byStatus = await h.db.notification.groupBy({ by: ['status', 'channel', 'suppressionReason'], where: { campaignId: 'winter-fr' }, _count: true });
  expect(byStatus.map((g) => [g.status, g.channel, g.suppressionReason, g._count]).sort()).toEqual(
    [
      ['sent', 'email', null, 400],
      ['sent', 'push', null, 1200],
      ['suppressed', 'push', 'no_consent', 200],
      ['suppressed', 'push', 'preference', 200],
    ].sort(),
  );
  expect(await h.db.deliveryAttempt.count({ where: { notification: { campaignId: 'winter-fr' }, status: 'sent' } })).toBe(1600);
  const history = await h.api('GET', '/v1/customers/cm-0007/notifications');
  expect(history.body.items).toEqual([expect.objectContaining({ type: 'campaign', status: 'suppressed', suppressionReason: 'preference', channel: 'push' })]);
  expect((await h.api('GET', '/v1/customers/cm-0002/timeline')).status).toBe(200);
  expect((await h.api('GET', '/v1/customers/cm-0002/notifications')).body.items).toEqual([expect.objectContaining({ type: 'campaign', status: 'sent', orderId: null })]);

  // Starting again answers the same workflow and sends nothing more; a running campaign is not edited.
  expect(await h.api('POST', '/v1/campaigns/winter-fr/start')).toMatchObject({ status: 202, body: { workflowId: 'campaign:winter-fr' } });
  expect((await h.api('PUT', '/v1/campaigns/winter-fr', campaignBody('france'))).status).toBe(409);

  // Cancel: the sleeper, still waiting, is cancelled, and so is the campaign.
  expect((await h.api('POST', '/v1/campaigns/winter-fr/cancel')).status).toBe(202);
  const cancelled = await eventually(async () => {
    const p = await progressOf('winter-fr');
    expect(p).toMatchObject({ status: 'cancelled', progressSource: 'database' });
    return p;
  }, 30_000);
  expect(cancelled.progress).toMatchObject({ sent: 1600, pending: 0, cancelled: 1, remaining: 0, nextDueAt: null });
  expect(await h.db.campaign.findUnique({ where: { id: 'winter-fr' } })).toMatchObject({ status: 'cancelled', finishedAt: expect.any(Date), startedAt: expect.any(Date) });
  expect((await h.api('POST', '/v1/campaigns/winter-fr/pause')).status).toBe(409);
  expect(h.apns.requestsFor('f'.repeat(64))).toHaveLength(0);
  expect(fcmCount(androidPermitted).get(androidPermitted[0]!)).toBe(1);
}, 240_000);

test('pause stops new sends once the batches in flight finish; resume finishes the campaign, nobody twice', async () => {
  const count = 300;
  await h.db.$executeRaw`INSERT INTO "Customer" (id, country, "updatedAt") SELECT 'pr-' || lpad(i::text, 4, '0'), 'DE', now() FROM generate_series(1, ${count}) i`;
  await h.db.$executeRaw`
    INSERT INTO "Device" (id, "deviceId", "customerId", platform, token, "updatedAt")
    SELECT 'dev-pr-' || i, 'app-pr-' || i, 'pr-' || lpad(i::text, 4, '0'), 'android', 'pr' || i || ':' || repeat('A', 140), now() FROM generate_series(1, ${count}) i`;
  await h.db.$executeRaw`
    INSERT INTO "Preference" ("customerId", channel, category, "optedIn", "updatedAt")
    SELECT 'pr-' || lpad(i::text, 4, '0'), 'push', 'promotions', true, now() FROM generate_series(1, ${count}) i`;
  await segment('germany', { all: [{ attribute: 'country', in: ['DE'] }] });
  const tokens = Array.from({ length: count }, (_, k) => androidTokenOf('pr', k + 1));
  const sentSoFar = () => h.db.notification.count({ where: { campaignId: 'slow-de', status: 'sent' } });

  // 600 a minute: batches of 50 every 5 seconds, so the campaign takes half a minute.
  expect((await h.api('PUT', '/v1/campaigns/slow-de', campaignBody('germany', { maxPerMinute: 600 }))).status).toBe(201);
  expect((await h.api('POST', '/v1/campaigns/slow-de/start')).status).toBe(202);
  await eventually(async () => expect(await sentSoFar()).toBeGreaterThanOrEqual(50), 60_000);
  expect((await h.api('POST', '/v1/campaigns/slow-de/pause')).status).toBe(202);
  const paused = await eventually(async () => {
    const p = await progressOf('slow-de');
    expect(p.status).toBe('paused');
    return p;
  }, 30_000);
  const atPause = { sent: await sentSoFar(), pushes: [...fcmCount(tokens).values()].reduce((a, b) => a + b, 0) };
  expect(atPause.sent).toBeLessThan(count);
  expect(paused.progress).toMatchObject({ sent: atPause.sent, remaining: count - atPause.sent });
  // Its segment is frozen while it runs: a new rule would mix two segments in one campaign.
  const frozen = await h.api('PUT', '/v1/segments/germany', { name: 'Germany', rule: { attribute: 'country', in: ['AT'] } });
  expect(frozen).toMatchObject({ status: 409, body: { error: { code: 'segment_in_use', fields: [{ field: 'campaignId', reason: 'slow-de is running on this segment' }] } } });
  // Longer than the 5-second spacing of the batches: paused, nothing more goes (an absence can only be watched for a while).
  await new Promise((r) => setTimeout(r, 8000));
  expect({ sent: await sentSoFar(), pushes: [...fcmCount(tokens).values()].reduce((a, b) => a + b, 0), status: (await progressOf('slow-de')).status }).toEqual({ ...atPause, status: 'paused' });

  expect((await h.api('POST', '/v1/campaigns/slow-de/resume')).status).toBe(202);
  const finished = await eventually(async () => {
    const p = await progressOf('slow-de');
    expect(p.status).toBe('completed');
    return p;
  }, 90_000, 500);
  expect(finished.progress).toMatchObject({ targeted: count, sent: count, pending: 0, remaining: 0 });
  const perToken = fcmCount(tokens);
  expect(perToken.size).toBe(count);
  expect([...perToken.values()].every((n) => n === 1)).toBe(true);
  // The ceiling held: no 60 seconds saw more than 600 recipients handed over.
  const sentTimes = (await h.db.notification.findMany({ where: { campaignId: 'slow-de' }, select: { createdAt: true } })).map((n) => n.createdAt.getTime()).sort((a, b) => a - b);
  for (let i = 0; i < sentTimes.length; i++) expect(sentTimes.filter((t) => t >= sentTimes[i]! && t < sentTimes[i]! + MINUTE).length).toBeLessThanOrEqual(600);
  const recorded = await h.db.campaign.findUnique({ where: { id: 'slow-de' } });
  expect(recorded).toMatchObject({ status: 'completed', targeted: count });
  expect(recorded!.finishedAt!.getTime() - recorded!.startedAt!.getTime()).toBeGreaterThan(20_000);
}, 240_000);

test('a worker killed mid-campaign, a batch half sent, resumes without sending anyone twice', async () => {
  const count = 900;
  // Odd customers on iOS, even on Android, all opted in; kl-0001's push hangs at APNs while the worker dies.
  await h.db.$executeRaw`INSERT INTO "Customer" (id, country, "updatedAt") SELECT 'kl-' || lpad(i::text, 4, '0'), 'IT', now() FROM generate_series(1, ${count}) i`;
  await h.db.$executeRaw`
    INSERT INTO "Device" (id, "deviceId", "customerId", platform, token, "updatedAt")
    SELECT 'dev-kl-' || i, 'app-kl-' || i, 'kl-' || lpad(i::text, 4, '0'), (CASE WHEN i % 2 = 1 THEN 'ios' ELSE 'android' END)::"Platform",
      CASE WHEN i % 2 = 1 THEN lpad(to_hex(100000 + i), 64, '0') ELSE 'kl' || i || ':' || repeat('A', 140) END, now()
    FROM generate_series(1, ${count}) i`;
  await h.db.$executeRaw`
    INSERT INTO "Preference" ("customerId", channel, category, "optedIn", "updatedAt")
    SELECT 'kl-' || lpad(i::text, 4, '0'), 'push', 'promotions', true, now() FROM generate_series(1, ${count}) i`;
  await segment('italy', { all: [{ attribute: 'country', in: ['IT'] }] });
  const iosTokens = Array.from({ length: count / 2 }, (_, k) => (100000 + 2 * k + 1).toString(16).padStart(64, '0'));
  const androidTokens = Array.from({ length: count / 2 }, (_, k) => androidTokenOf('kl', 2 * k + 2));
  const hung = iosTokens[0]!;
  h.apns.respondWith(hung, [{ status: 200, delayMs: 20_000 }]);

  // 6,000 a minute: batches of 500 (kl-0001 in the first), 5 seconds apart.
  expect((await h.api('PUT', '/v1/campaigns/kill-it', campaignBody('italy', { maxPerMinute: 6000 }))).status).toBe(201);
  expect((await h.api('POST', '/v1/campaigns/kill-it/start')).status).toBe(202);
  // The first batch has pushed everyone but kl-0001, whose push the worker still holds (APNs gives up on it after 10 s):
  // every other attempt made so far is answered and written down, this one alone is still sending.
  await eventually(async () => {
    expect(h.apns.requestsFor(hung)).toHaveLength(1);
    // Keyed by status, error code and message, so a failure shows why attempts failed (it once showed 50 FCM sends reset
    // by the fake's 5 s keep-alive, which batches 5 s apart raced: see test/fakes/fcm-server.ts).
    const attempts = Object.fromEntries(
      (await h.db.deliveryAttempt.groupBy({ by: ['status', 'errorCode', 'errorMessage'], where: { notification: { campaignId: 'kill-it' } }, _count: true })).map((a) => [
        a.errorCode ? `${a.status}:${a.errorCode}:${a.errorMessage ?? ''}` : a.status,
        a._count,
      ]),
    );
    expect(attempts).toEqual({ sent: expect.any(Number), sending: 1 });
    expect(attempts.sent).toBeGreaterThanOrEqual(499);
  }, 9_000, 50);
  await h.stack.worker.kill();
  await h.stack.startWorker();
  await untilWorkerReady(h.stack);

  const finished = await eventually(async () => {
    const p = await progressOf('kill-it');
    expect(p.status).toBe('completed');
    return p;
  }, 180_000, 1000);
  expect(finished.progress).toMatchObject({ targeted: count, sent: count, pending: 0, failed: 0, suppressed: {} });
  const p = finished.progress;
  expect(p.sent + p.failed + p.pending + p.holdout + p.cancelled + Object.values<number>(p.suppressed).reduce((a, b) => a + b, 0)).toBe(p.targeted);

  // Nobody twice: one push per device, except the one the dead worker held, sent again under the same apns-id.
  for (const token of iosTokens.slice(1)) expect({ token, pushes: h.apns.requestsFor(token).length }).toEqual({ token, pushes: 1 });
  expect(new Set(h.apns.requestsFor(hung).map((r) => r.headers['apns-id'])).size).toBe(1);
  const perAndroid = fcmCount(androidTokens);
  expect(perAndroid.size).toBe(count / 2);
  expect([...perAndroid.values()].every((n) => n === 1)).toBe(true);
  const held = await h.db.deliveryAttempt.findMany({ where: { notificationId: 'campaign:kill-it:kl-0001' }, orderBy: { attemptNumber: 'asc' } });
  expect(held.map((a) => [a.attemptNumber, a.status, a.errorCode])).toEqual([
    [1, 'failed', 'abandoned'],
    [2, 'sent', null],
  ]);
  expect(await h.db.notification.count({ where: { campaignId: 'kill-it', status: 'sent' } })).toBe(count);
}, 300_000);

test('campaigns refuse what they cannot send: transactional categories, unknown segments, templates and experiments, bad schedules and ceilings', async () => {
  await segment('nobody', { customerIds: [] });
  const put = (body: unknown, id = 'bad-one') => h.api('PUT', `/v1/campaigns/${id}`, body);
  const fieldsOf = async (body: unknown) => {
    const res = await put(body);
    expect(res.status).toBe(400);
    return res.body.error.fields.map((f: { field: string }) => f.field);
  };
  expect(await fieldsOf(campaignBody('nobody', { category: 'transactional' }))).toEqual(['category']);
  expect((await put(campaignBody('nobody', { category: 'order-updates' }))).body.error.fields[0].reason).toContain('must be a marketing category');
  expect(await fieldsOf(campaignBody('nobody', { category: 'newsletters' }))).toEqual(['category']);
  expect(await fieldsOf(campaignBody('no-such-segment'))).toEqual(['segmentId']);
  expect(await fieldsOf(campaignBody('nobody', { channels: [] }))).toEqual(['channels']);
  expect(await fieldsOf(campaignBody('nobody', { channels: ['push', 'push'], templates: { push: 'campaign.winter-sale' } }))).toEqual(['channels']);
  expect(await fieldsOf(campaignBody('nobody', { channels: ['inapp'], templates: { inapp: 'campaign.winter-sale' } }))).toContain('channels.0');
  expect(await fieldsOf(campaignBody('nobody', { channels: ['push', 'sms'] }))).toEqual(['templates.sms', 'templates.email']);
  expect(await fieldsOf(campaignBody('nobody', { templates: { push: 'order.shipped', email: 'campaign.winter-sale' } }))).toEqual(['templates.push']);
  expect(await fieldsOf(campaignBody('nobody', { templates: { push: 'campaign.never-written', email: 'campaign.winter-sale' } }))).toEqual(['templates.push']);
  expect(await fieldsOf(campaignBody('nobody', { schedule: { type: 'local', localTime: '25:00' } }))).toEqual(['schedule.localTime']);
  expect(await fieldsOf(campaignBody('nobody', { schedule: { type: 'at', at: 'tomorrow' } }))).toEqual(['schedule.at']);
  expect(await fieldsOf(campaignBody('nobody', { schedule: { type: 'local', localTime: '10:00', date: '2027-02-30' } }))).toEqual(['schedule.date']);
  expect(await fieldsOf(campaignBody('nobody', { schedule: { type: 'later' } }))).toEqual(['schedule.type']);
  expect(await fieldsOf(campaignBody('nobody', { maxPerMinute: 0 }))).toEqual(['maxPerMinute']);
  expect(await fieldsOf(campaignBody('nobody', { experimentId: 'no-such-experiment' }))).toEqual(['experimentId']);
  await h.db.$executeRaw`
    INSERT INTO "Experiment" (id, name, kind, variants, control, "notificationType", "updatedAt")
    VALUES ('shipped-copy', 'Shipped copy', 'content', '[{"id":"control","weight":1},{"id":"b","weight":1}]'::jsonb, 'control', 'order.shipped', now())`;
  const orderExperiment = await put(campaignBody('nobody', { experimentId: 'shipped-copy' }));
  expect(orderExperiment.body.error.fields).toEqual([{ field: 'experimentId', reason: 'experiment shipped-copy varies order.shipped order updates, not a campaign' }]);
  // A campaign's experiment is active, and each variant is one the campaign can send.
  const variantExperiment = (id: string, status: string, variants: unknown[]) => h.db.$executeRaw`
    INSERT INTO "Experiment" (id, name, kind, variants, control, status, "updatedAt")
    VALUES (${id}, ${id}, 'content', ${JSON.stringify(variants)}::jsonb, 'control', ${status}, now())`;
  const reasonOf = async (experimentId: string) => (await put(campaignBody('nobody', { experimentId }))).body.error.fields[0].reason as string;
  await variantExperiment('winter-stopped', 'stopped', [{ id: 'control', weight: 1, templates: { push: 'campaign.winter-sale' } }, { id: 'b', weight: 1, templates: { push: 'campaign.winter-sale' } }]);
  expect(await reasonOf('winter-stopped')).toBe('experiment winter-stopped is stopped: it assigns nobody');
  await variantExperiment('winter-sms', 'active', [{ id: 'control', weight: 1, channel: 'push' }, { id: 'b', weight: 1, channel: 'sms' }]);
  expect(await reasonOf('winter-sms')).toBe("variant b of experiment winter-sms sends on sms, which is not one of the campaign's channels (push, email)");
  await variantExperiment('winter-missing', 'active', [{ id: 'control', weight: 1, templates: { push: 'campaign.winter-sale' } }, { id: 'b', weight: 1, templates: { push: 'campaign.never-written' } }]);
  expect(await reasonOf('winter-missing')).toContain('variant b (variants.1): no push template campaign.never-written');
  expect(await h.db.campaign.count({ where: { id: 'bad-one' } })).toBe(0);

  // Editable while a draft; an empty segment completes at once; then it is not editable, nor pausable.
  expect((await put(campaignBody('nobody'), 'empty')).status).toBe(201);
  expect((await put(campaignBody('nobody', { name: 'Renamed' }), 'empty')).body).toMatchObject({ name: 'Renamed', status: 'draft' });
  expect((await h.api('POST', '/v1/campaigns/empty/resume')).status).toBe(409);
  expect((await h.api('POST', '/v1/campaigns/empty/start')).status).toBe(202);
  await eventually(async () => expect(await progressOf('empty')).toMatchObject({ status: 'completed', targeted: 0, progress: { sent: 0, pending: 0 } }));
  expect((await put(campaignBody('nobody'), 'empty')).status).toBe(409);
  expect((await h.api('POST', '/v1/campaigns/empty/pause')).status).toBe(409);
  expect((await h.api('POST', '/v1/campaigns/empty/cancel')).status).toBe(409);
  expect((await h.api('POST', '/v1/campaigns/nothing-here/start')).status).toBe(404);
  expect((await h.api('GET', '/v1/campaigns/nothing-here')).status).toBe(404);
  const list = await h.api('GET', '/v1/campaigns?status=completed&limit=100');
  expect(list.body.items.map((c: { campaignId: string }) => c.campaignId)).toContain('empty');
});
