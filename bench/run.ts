// `npm run bench` (order events; `npm run bench -- campaign` runs bench/campaign.ts instead): drives the real stack (Temporal dev server, PostgreSQL, worker and API processes) with
// APNs and FCM faked at the wire, and reports throughput, accept-to-provider latency and peak memory.
// Not a test: the figures depend on the machine. Options (env): BENCH_RATE (events/s, default 50),
// BENCH_SECONDS (default 60), BENCH_STEPS (rates probed after the target, default "20,30,40,60,80"; stops at the first unsustainable one), BENCH_STEP_SECONDS (20),
// BENCH_DIGEST_WINDOW (HERALD_DIGEST_WINDOW of the run, default 0: a digest holds routine updates back on purpose,
// which would be counted as latency; the pipeline's own speed is what is measured).
import fs from 'node:fs';
import { z } from 'zod';
import { parseEnv } from '../lib/config';
import { eventually, iosToken, androidToken, startHarness, type Harness } from '../test/support/harness';
import { campaignBench } from './campaign';
import { cpuSeconds, peakMemoryMiB, stopOnInterrupt } from './processes';

/** The benchmark's own options; the stack it starts reads Herald's configuration as usual. */
const benchEnvironment = z.object({
  BENCH_RATE: z.coerce.number().positive().default(50),
  BENCH_SECONDS: z.coerce.number().positive().default(60),
  BENCH_STEPS: z
    .string()
    .default('20,30,40,60,80')
    .transform((list) => list.split(',').filter(Boolean))
    .pipe(z.array(z.coerce.number<string>().positive())),
  BENCH_STEP_SECONDS: z.coerce.number().positive().default(20),
  // Handed to the stack as HERALD_DIGEST_WINDOW, whose schema checks it.
  BENCH_DIGEST_WINDOW: z.string().default('0'),
  BENCH_JSON: z.string().optional(),
  BENCH_PROFILE_DIR: z.string().optional(),
});

interface StepResult {
  rate: number;
  seconds: number;
  sent: number;
  accepted: number;
  failed: number;
  delivered: number;
  acceptThroughput: number;
  deliveredThroughput: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  drainSeconds: number;
  sustainable: boolean;
}

const CUSTOMERS = 200;
const OPEN_ORDERS = 100;
const PATH = ['confirmed', 'packed', 'shipped', 'out_for_delivery', 'delivered'] as const;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function runStep(h: Harness, runId: string, rate: number, seconds: number): Promise<StepResult> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const onPush = (data: { orderId?: string; status?: string } | undefined, receivedAt: number) => {
    const key = `${data?.orderId}/${data?.status}`;
    const start = sentAt.get(key);
    if (start !== undefined) {
      latencies.push(receivedAt - start);
      sentAt.delete(key);
    }
  };
  const offApns = h.apns.onRequest((r) => onPush(r.body as { orderId?: string; status?: string }, r.receivedAt));
  const offFcm = h.fcm.onMessage((m) => onPush(m.data, m.receivedAt));

  const total = rate * seconds;
  let sent = 0;
  let accepted = 0;
  let failed = 0;
  const inFlight = new Set<Promise<void>>();
  const started = Date.now();
  const tickMs = 20;
  // Orders move along their path as they do in a shop: each open order gets its next status in turn,
  // and a delivered order is replaced by a new one, so one event in five starts a workflow.
  const open: Array<{ orderId: string; next: number }> = [];
  let ordersStarted = 0;
  const nextEvent = () => {
    if (open.length < OPEN_ORDERS) open.push({ orderId: `${runId}-${rate}-o${ordersStarted++}`, next: 0 });
    const order = open.shift()!;
    const status = PATH[order.next]!;
    order.next++;
    if (order.next < PATH.length) open.push(order);
    return { orderId: order.orderId, status };
  };
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate));
    while (sent < due) {
      const i = sent++;
      const { orderId, status } = nextEvent();
      const customerId = `bench-c${Number(orderId.slice(orderId.lastIndexOf('o') + 1)) % CUSTOMERS}`;
      const key = `${orderId}/${status}`;
      sentAt.set(key, Date.now());
      const p = h
        .api('POST', '/v1/order-events', {
          eventId: `${orderId}.${status}`,
          orderId,
          customerId,
          status,
          occurredAt: new Date(Date.now() + i).toISOString(),
          source: 'bench',
          data: { trackingNumber: `TRK${i}`, carrier: 'UPS' },
        })
        .then((res) => {
          if (res.status === 202) accepted++;
          else failed++;
        })
        .catch(() => {
          failed++;
        })
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await new Promise((r) => setTimeout(r, tickMs));
  }
  await Promise.all(inFlight);
  const acceptSeconds = (Date.now() - started) / 1000;
  const drainStart = Date.now();
  await eventually(() => {
    if (latencies.length < accepted) throw new Error('draining');
  }, 120_000, 100).catch(() => undefined);
  const drainSeconds = (Date.now() - drainStart) / 1000;
  offApns();
  offFcm();
  const sorted = [...latencies].sort((a, b) => a - b);
  const elapsed = (Date.now() - started) / 1000;
  const p99 = percentile(sorted, 99);
  return {
    rate,
    seconds,
    sent,
    accepted,
    failed,
    delivered: latencies.length,
    acceptThroughput: Math.round((accepted / acceptSeconds) * 10) / 10,
    deliveredThroughput: Math.round((latencies.length / elapsed) * 10) / 10,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99,
    max: sorted[sorted.length - 1] ?? NaN,
    drainSeconds: Math.round(drainSeconds * 10) / 10,
    sustainable: failed === 0 && latencies.length === accepted && p99 < 1000,
  };
}

async function main(): Promise<void> {
  const options = parseEnv(benchEnvironment, process.env);
  const { BENCH_RATE: rate, BENCH_SECONDS: seconds, BENCH_STEPS: steps, BENCH_STEP_SECONDS: stepSeconds } = options;
  const log = (line: string) => process.stdout.write(`[bench] ${line}\n`);

  log('starting the stack with fake APNs and FCM...');
  const h = await startHarness({
    env: {
      LOG_LEVEL: 'warn',
      HERALD_DIGEST_WINDOW: options.BENCH_DIGEST_WINDOW,
      ...(options.BENCH_PROFILE_DIR ? { HERALD_NODE_ARGS: `--cpu-prof --cpu-prof-dir=${options.BENCH_PROFILE_DIR}` } : {}),
    },
  });
  stopOnInterrupt(h);
  try {
    for (let c = 0; c < CUSTOMERS; c++) {
      const id = `bench-c${c}`;
      await h.api('PUT', `/v1/customers/${id}`, { locale: 'en' });
      const device = c % 2 === 0 ? { deviceId: `${id}-ios`, platform: 'ios', token: iosToken(id) } : { deviceId: `${id}-android`, platform: 'android', token: androidToken(id) };
      await h.api('POST', `/v1/customers/${id}/devices`, device);
    }
    const runId = `b${Date.now().toString(36)}`;
    log(`warm-up: 5 s at 20 events/s`);
    await runStep(h, `${runId}w`, 20, 5);

    const results: StepResult[] = [];
    const parts = {
      temporal: h.stack.serverPids.temporal,
      postgres: h.stack.serverPids.postgres,
      worker: h.stack.worker.pid,
      api: h.stack.api.pid,
    };
    const cpuBefore = Object.fromEntries(Object.entries(parts).map(([k, pid]) => [k, cpuSeconds(pid)]));
    const wallBefore = Date.now();
    const benchCpuBefore = (process.cpuUsage().user + process.cpuUsage().system) / 1e6;
    log(`target: ${rate} events/s for ${seconds} s`);
    results.push(await runStep(h, runId, rate, seconds));
    for (const stepRate of steps) {
      log(`probe: ${stepRate} events/s for ${stepSeconds} s`);
      const r = await runStep(h, runId, stepRate, stepSeconds);
      results.push(r);
      if (!r.sustainable) break;
    }
    const wall = (Date.now() - wallBefore) / 1000;
    const cpuShare = Object.entries(parts)
      .map(([k, pid]) => `${k} ${Math.round(((cpuSeconds(pid) - cpuBefore[k]!) / wall) * 100)}%`)
      .join(', ');
    const benchOwn = Math.round(((process.cpuUsage().user + process.cpuUsage().system) / 1e6 - benchCpuBefore) / wall * 100);
    const memory = { workerPeakMiB: peakMemoryMiB(h.stack.worker.pid), apiPeakMiB: peakMemoryMiB(h.stack.api.pid) };
    log('');
    log('rate/s  secs  accepted  failed  delivered  accept/s  delivered/s  p50ms  p95ms  p99ms  maxms  drain_s  sustainable');
    for (const r of results) {
      log(
        [r.rate, r.seconds, r.accepted, r.failed, r.delivered, r.acceptThroughput, r.deliveredThroughput, r.p50, r.p95, r.p99, r.max, r.drainSeconds, r.sustainable ? 'yes' : 'no']
          .map((v) => String(v).padStart(6))
          .join('  '),
      );
    }
    const best = results.filter((r) => r.sustainable).sort((a, b) => b.rate - a.rate)[0];
    log(`highest sustainable rate probed: ${best ? `${best.rate} events/s` : 'none'} (p99 < 1 s, nothing lost)`);
    log(`peak memory: worker ${memory.workerPeakMiB} MiB, API ${memory.apiPeakMiB} MiB (VmHWM, process tree)`);
    log(`CPU over the measured steps (100% = one core, process trees): ${cpuShare}, load generator and fake providers ${benchOwn}%`);
    log(`machine: ${require('node:os').cpus().length} cores; shared and noisy, compare ratios within one run`);
    if (options.BENCH_JSON) fs.writeFileSync(options.BENCH_JSON, JSON.stringify({ results, memory }, null, 2));
  } finally {
    await h.stop();
  }
}

(process.argv[2] === 'campaign' ? campaignBench() : main()).catch((err) => {
  process.stderr.write(`[bench] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
