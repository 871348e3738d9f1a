// `npm run bench -- campaign`: one campaign to BENCH_RECIPIENTS customers (default 100,000; half iOS, half Android)
// on the real stack, APNs and FCM faked at the wire in this process. Reports the send rate (overall and the best
// minute), the time from start to the first and the last send, that every notification was recorded once, and CPU
// and peak memory per process. Not a test: the figures depend on the machine.
import fs from 'node:fs';
import os from 'node:os';
import { z } from 'zod';
import { parseEnv } from '../lib/config';
import { eventually, startHarness, type Harness } from '../test/support/harness';
import { cpuSeconds, peakMemoryMiB, stopOnInterrupt } from './processes';

const campaignEnvironment = z.object({
  BENCH_RECIPIENTS: z.coerce.number().int().positive().default(100_000),
  BENCH_JSON: z.string().optional(),
  BENCH_PROFILE_DIR: z.string().optional(),
});

const log = (line: string) => process.stdout.write(`[bench] ${line}\n`);

/** Customers, devices and push opt-ins in bulk SQL: half iOS (even), half Android (odd). */
async function seed(h: Harness, count: number): Promise<void> {
  const id = (i: string) => `'bc-' || lpad(${i}::text, 7, '0')`;
  await h.db.$executeRawUnsafe(`INSERT INTO "Customer" (id, name, "updatedAt") SELECT ${id('i')}, 'Customer ' || i, now() FROM generate_series(1, ${count}) i`);
  await h.db.$executeRawUnsafe(`
    INSERT INTO "Device" (id, "deviceId", "customerId", platform, token, "updatedAt")
    SELECT 'dev-bc-' || i, 'app-bc-' || i, ${id('i')},
      (CASE WHEN i % 2 = 0 THEN 'ios' ELSE 'android' END)::"Platform",
      CASE WHEN i % 2 = 0 THEN lpad(to_hex(i), 64, '0') ELSE 'bc' || i || ':' || repeat('A', 140) END, now()
    FROM generate_series(1, ${count}) i`);
  await h.db.$executeRawUnsafe(`
    INSERT INTO "Preference" ("customerId", channel, category, "optedIn", "updatedAt")
    SELECT ${id('i')}, 'push', 'promotions', true, now() FROM generate_series(1, ${count}) i`);
  await h.db.$executeRawUnsafe('ANALYZE');
}

async function ok(h: Harness, method: string, path: string, body?: unknown): Promise<any> {
  const res = await h.api(method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function campaignBench(): Promise<void> {
  const options = parseEnv(campaignEnvironment, process.env);
  const count = options.BENCH_RECIPIENTS;
  log(`starting the stack with fake APNs and FCM...`);
  const h = await startHarness({
    env: { LOG_LEVEL: 'warn', ...(options.BENCH_PROFILE_DIR ? { HERALD_NODE_ARGS: `--cpu-prof --cpu-prof-dir=${options.BENCH_PROFILE_DIR}` } : {}) },
  });
  stopOnInterrupt(h);
  try {
    log(`seeding ${count} customers (half iOS, half Android), each opted in to promotions on push...`);
    const seedStart = Date.now();
    await seed(h, count);
    log(`seeded in ${((Date.now() - seedStart) / 1000).toFixed(1)} s`);

    const key = 'campaign.bench';
    const version = await ok(h, 'POST', `/v1/templates/${key}/versions`, { channel: 'push', locale: 'en', subject: 'Winter sale', body: 'Hello {{ customerName }}, 20% off everything today.' });
    await ok(h, 'POST', `/v1/templates/${key}/push/en/versions/${version.version}/publish`);
    await ok(h, 'PUT', '/v1/segments/bench-everyone', { name: 'Everyone with the app', rule: { reachable: 'push' } });
    await ok(h, 'PUT', '/v1/campaigns/bench-winter', {
      name: 'Winter sale',
      segmentId: 'bench-everyone',
      category: 'promotions',
      channels: ['push'],
      templates: { push: key },
      schedule: { type: 'now' },
    });

    // Every push at the fakes, by arrival time (ms), and the devices they reached.
    const arrivals: number[] = [];
    const tokens = new Set<string>();
    const offApns = h.apns.onRequest((r) => {
      arrivals.push(r.receivedAt);
      tokens.add(r.token);
    });
    const offFcm = h.fcm.onMessage((m) => {
      if (m.status !== 200) return;
      arrivals.push(m.receivedAt);
      if (m.token) tokens.add(m.token);
    });
    const parts = { temporal: h.stack.serverPids.temporal, postgres: h.stack.serverPids.postgres, worker: h.stack.worker.pid, api: h.stack.api.pid };
    const cpuBefore = Object.fromEntries(Object.entries(parts).map(([k, pid]) => [k, cpuSeconds(pid)]));
    const benchCpuBefore = (process.cpuUsage().user + process.cpuUsage().system) / 1e6;

    log(`starting the campaign to ${count} recipients...`);
    const started = Date.now();
    await ok(h, 'POST', '/v1/campaigns/bench-winter/start');
    let lastCount = 0;
    let lastChange = Date.now();
    await eventually(
      () => {
        if (arrivals.length !== lastCount) {
          lastCount = arrivals.length;
          lastChange = Date.now();
        }
        if (Date.now() - lastChange > 120_000) return; // stalled: report what came
        if (arrivals.length < count) throw new Error(`${arrivals.length} of ${count} pushes`);
      },
      60 * 60_000,
      250,
    );
    const finished = Date.now();
    offApns();
    offFcm();
    // The last batch settles its rows after the providers answered: count once the campaign says it is done.
    let campaign = await ok(h, 'GET', '/v1/campaigns/bench-winter');
    await eventually(async () => {
      campaign = await ok(h, 'GET', '/v1/campaigns/bench-winter');
      if (campaign.status !== 'completed') throw new Error(`campaign ${campaign.status}`);
    }, 120_000, 250).catch(() => undefined);
    const wall = (finished - started) / 1000;
    const cpuShare = Object.fromEntries(Object.entries(parts).map(([k, pid]) => [k, Math.round(((cpuSeconds(pid) - cpuBefore[k]!) / wall) * 100)]));
    const benchOwn = Math.round((((process.cpuUsage().user + process.cpuUsage().system) / 1e6 - benchCpuBefore) / wall) * 100);
    const memory = Object.fromEntries(Object.entries(parts).map(([k, pid]) => [k, pid ? peakMemoryMiB(pid) : NaN]));

    // What the database recorded: one notification per recipient, each sent, with one attempt that went.
    const [recorded] = await h.db.$queryRaw<Array<{ notifications: bigint; sent: bigint; attempts: bigint }>>`
      SELECT count(*) AS notifications, count(*) FILTER (WHERE n.status = 'sent') AS sent,
        (SELECT count(*) FROM "DeliveryAttempt" a JOIN "Notification" m ON m.id = a."notificationId" WHERE m."campaignId" = 'bench-winter' AND a.status = 'sent') AS attempts
      FROM "Notification" n WHERE n."campaignId" = 'bench-winter'`;

    arrivals.sort((a, b) => a - b);
    const first = arrivals[0] ?? NaN;
    const last = arrivals.at(-1) ?? NaN;
    const sendSeconds = (last - first) / 1000;
    // The best 60 s window (a two-pointer sweep over the sorted arrivals).
    let bestMinute = 0;
    for (let i = 0, j = 0; j < arrivals.length; j++) {
      while (arrivals[j]! - arrivals[i]! > 60_000) i++;
      bestMinute = Math.max(bestMinute, j - i + 1);
    }
    const result = {
      recipients: count,
      pushes: arrivals.length,
      distinctDevices: tokens.size,
      duplicates: arrivals.length - tokens.size,
      recorded: { notifications: Number(recorded!.notifications), sent: Number(recorded!.sent), attemptsSent: Number(recorded!.attempts) },
      firstSendSeconds: Math.round((first - started) / 100) / 10,
      lastSendSeconds: Math.round((last - started) / 100) / 10,
      sendsPerMinute: Math.round((arrivals.length / Math.max(sendSeconds, 0.001)) * 60),
      sendsPerMinuteStartToLast: Math.round((arrivals.length / ((last - started) / 1000)) * 60),
      bestMinute: arrivals.length > 0 && last - first < 60_000 ? null : bestMinute,
      cpuPercent: { ...cpuShare, benchAndFakes: benchOwn },
      peakMemoryMiB: memory,
      campaignStatus: campaign.status,
      cores: os.cpus().length,
    };
    log('');
    log(`pushes at the fakes: ${result.pushes} to ${result.distinctDevices} devices (${result.duplicates} duplicates)`);
    log(`recorded: ${result.recorded.notifications} notifications, ${result.recorded.sent} sent, ${result.recorded.attemptsSent} attempts that went; campaign ${result.campaignStatus}`);
    log(`first send ${result.firstSendSeconds} s after start, last ${result.lastSendSeconds} s after start`);
    log(`rate: ${result.sendsPerMinute} sends/min between the first and the last send; ${result.sendsPerMinuteStartToLast}/min from the start${result.bestMinute ? `; best 60 s: ${result.bestMinute}` : ''}`);
    log(`CPU (100% = one core, process trees): ${Object.entries(result.cpuPercent).map(([k, v]) => `${k} ${v}%`).join(', ')}`);
    log(`peak memory (VmHWM): ${Object.entries(memory).map(([k, v]) => `${k} ${v} MiB`).join(', ')}`);
    log(`machine: ${result.cores} cores; shared and noisy, compare ratios within one run`);
    if (options.BENCH_JSON) fs.writeFileSync(options.BENCH_JSON, JSON.stringify(result, null, 2));
  } finally {
    await h.stop();
  }
}
