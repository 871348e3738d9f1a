// `npm run bench` (order events; `npm run bench -- campaign` runs bench/campaign.ts instead, `npm run bench -- burst` the burst alone): drives the real stack (Temporal dev server, PostgreSQL, worker and API processes) with
// APNs and FCM faked at the wire, and reports throughput, accept-to-provider latency and peak memory, then a burst.
// Not a test: the figures depend on the machine. Options (env): BENCH_RATE (events/s, default 50),
// BENCH_SECONDS (default 60), BENCH_STEPS (rates probed after the target, default "20,30,40,60,80"; stops at the first unsustainable one), BENCH_STEP_SECONDS (20),
// BENCH_BURST (events of the burst, default 20000; 0 skips it), BENCH_BURST_CLIENTS (50), BENCH_BURST_VIA (http, or kafka:
// the same events produced to a one-node Kafka the API consumes, reporting produce rate, time until stored and drain),
// BENCH_DIGEST_WINDOW (HERALD_DIGEST_WINDOW of the run, default 0: a digest holds routine updates back on purpose,
// which would be counted as latency; the pipeline's own speed is what is measured).
import fs from 'node:fs';
import { z } from 'zod';
import { parseEnv } from '../lib/config';
import { burstEvents, percentile, postBurst } from '../test/support/burst';
import { eventually, iosToken, androidToken, startHarness, type Harness } from '../test/support/harness';
import { produce, samples } from '../test/support/kafka';
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
  BENCH_BURST: z.coerce.number().int().min(0).default(20_000),
  BENCH_BURST_CLIENTS: z.coerce.number().int().positive().default(50),
  BENCH_BURST_VIA: z.enum(['http', 'kafka']).default('http'),
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

interface BurstResult {
  events: number;
  clients: number;
  accepted: number;
  failed: number;
  retried503: number;
  acceptSeconds: number;
  acceptRate: number;
  acceptP50: number;
  acceptP99: number;
  acceptMax: number;
  peakBacklog: number;
  peakPoolQueued: number;
  delivered: number;
  drainSeconds: number;
  drainedRate: number;
}

/**
 * A burst: `events` order events posted by `clients` clients as fast as they get answers (test/support/burst.ts),
 * then the wait until every one is pushed. Accept figures are of every answer, all given while the backlog drains.
 */
async function runBurst(h: Harness, runId: string, events: number, clients: number, log: (line: string) => void): Promise<BurstResult> {
  const pushed = new Set<string>();
  const onPush = (data: { orderId?: string; status?: string } | undefined) => {
    if (data?.orderId?.startsWith(`${runId}-`)) pushed.add(`${data.orderId}.${data.status}`);
  };
  const offApns = h.apns.onRequest((r) => onPush(r.body as { orderId?: string; status?: string }));
  const offFcm = h.fcm.onMessage((m) => onPush(m.data));
  let peakBacklog = 0;
  let peakPoolQueued = 0;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const stats = await h.api('GET', `/v1/stats?from=${new Date(Date.now() - 60_000).toISOString()}`).catch(() => null);
      if (stats?.status === 200) {
        peakBacklog = Math.max(peakBacklog, stats.body.intake.unsignalled);
        peakPoolQueued = Math.max(peakPoolQueued, stats.body.intake.signalPool.queued);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  const started = Date.now();
  const answers = await postBurst({
    apiUrl: h.stack.apiUrl,
    apiKey: h.adminKey,
    run: runId,
    events,
    clients,
    customerOf: (order) => `bench-c${order % CUSTOMERS}`,
  });
  const acceptSeconds = (Date.now() - started) / 1000;
  const accepted = answers.filter((a) => a.status === 202).length;
  log(`burst: ${accepted} of ${events} accepted in ${acceptSeconds.toFixed(1)} s; draining (${pushed.size} pushed so far)...`);
  await eventually(() => {
    if (pushed.size < accepted) throw new Error('draining');
  }, Math.max(300_000, events * 200), 500).catch(() => undefined);
  const drainSeconds = (Date.now() - started) / 1000;
  watching = false;
  await watcher;
  offApns();
  offFcm();
  const sorted = answers.map((a) => a.ms).sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    events,
    clients,
    accepted,
    failed: events - accepted,
    retried503: answers.filter((a) => a.retries > 0).length,
    acceptSeconds: round(acceptSeconds),
    acceptRate: round(accepted / acceptSeconds),
    acceptP50: percentile(sorted, 50),
    acceptP99: percentile(sorted, 99),
    acceptMax: sorted[sorted.length - 1] ?? NaN,
    peakBacklog,
    peakPoolQueued,
    delivered: pushed.size,
    drainSeconds: round(drainSeconds),
    drainedRate: round(pushed.size / drainSeconds),
  };
}

const KAFKA_TOPIC = 'herald.order-events';
const KAFKA_PARTITIONS = 3;

interface KafkaBurstResult {
  via: 'kafka';
  events: number;
  partitions: number;
  produced: number;
  produceSeconds: number;
  produceRate: number;
  stored: number;
  storedSeconds: number;
  storedRate: number;
  peakBacklog: number;
  peakLag: number;
  delivered: number;
  drainSeconds: number;
  drainedRate: number;
}

/**
 * The burst through Kafka: the same events, one stream keyed by order id, produced as fast as scripts/kafka-produce.ts
 * sends them; then the waits until every one is stored (the consumer's pace) and pushed (the drain). Times are from
 * the producer's start.
 */
async function runKafkaBurst(h: Harness, runId: string, events: number, log: (line: string) => void): Promise<KafkaBurstResult> {
  const pushed = new Set<string>();
  const onPush = (data: { orderId?: string; status?: string } | undefined) => {
    if (data?.orderId?.startsWith(`${runId}-`)) pushed.add(`${data.orderId}.${data.status}`);
  };
  const offApns = h.apns.onRequest((r) => onPush(r.body as { orderId?: string; status?: string }));
  const offFcm = h.fcm.onMessage((m) => onPush(m.data));
  let peakBacklog = 0;
  let peakLag = 0;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const stats = await h.api('GET', `/v1/stats?from=${new Date(Date.now() - 60_000).toISOString()}`).catch(() => null);
      if (stats?.status === 200) peakBacklog = Math.max(peakBacklog, stats.body.intake.unsignalled);
      const text = await fetch(`${h.stack.apiUrl}/metrics`).then((r) => r.text()).catch(() => '');
      const lag = samples(text, 'herald_kafka_consumer_lag').filter((s) => s.labels.topic === KAFKA_TOPIC);
      peakLag = Math.max(peakLag, lag.reduce((sum, s) => sum + s.value, 0));
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  const started = Date.now();
  const produced = await produce(h.stack.kafka!.brokers, KAFKA_TOPIC, burstEvents(runId, events, (order) => `bench-c${order % CUSTOMERS}`), { partitions: KAFKA_PARTITIONS });
  log(`burst: ${produced.sent} of ${events} produced in ${produced.seconds} s; storing...`);
  const storedCount = () => h.db.orderEvent.count({ where: { eventId: { startsWith: `${runId}-` } } });
  let stored = 0;
  await eventually(async () => {
    stored = await storedCount();
    if (stored < produced.sent) throw new Error('storing');
  }, Math.max(300_000, events * 100), 250).catch(() => undefined);
  const storedSeconds = (Date.now() - started) / 1000;
  log(`burst: ${stored} stored ${storedSeconds.toFixed(1)} s after the producer started; draining (${pushed.size} pushed so far)...`);
  await eventually(() => {
    if (pushed.size < stored) throw new Error('draining');
  }, Math.max(300_000, events * 200), 500).catch(() => undefined);
  const drainSeconds = (Date.now() - started) / 1000;
  watching = false;
  await watcher;
  offApns();
  offFcm();
  const round = (n: number) => Math.round(n * 10) / 10;
  return {
    via: 'kafka',
    events,
    partitions: KAFKA_PARTITIONS,
    produced: produced.sent,
    produceSeconds: produced.seconds,
    produceRate: round(produced.sent / produced.seconds),
    stored,
    storedSeconds: round(storedSeconds),
    storedRate: round(stored / storedSeconds),
    peakBacklog,
    peakLag,
    delivered: pushed.size,
    drainSeconds: round(drainSeconds),
    drainedRate: round(pushed.size / drainSeconds),
  };
}

function logKafkaBurst(log: (line: string) => void, b: KafkaBurstResult): void {
  log(
    `burst via Kafka: ${b.events} events over ${b.partitions} partitions: produced ${b.produced} at ${b.produceRate}/s; ${b.stored} stored ${b.storedSeconds} s after the producer started, ${b.storedRate}/s; ` +
      `peak lag ${b.peakLag}, peak backlog ${b.peakBacklog}; drained (${b.delivered} pushed) ${b.drainSeconds} s after the producer started, ${b.drainedRate}/s`,
  );
}

/** The burst the options ask for: posted by HTTP clients, or produced to Kafka. */
async function burstVia(h: Harness, runId: string, options: z.infer<typeof benchEnvironment>, log: (line: string) => void): Promise<BurstResult | KafkaBurstResult> {
  if (options.BENCH_BURST_VIA === 'kafka') {
    log(`burst: ${options.BENCH_BURST} events through Kafka (${KAFKA_PARTITIONS} partitions)`);
    const burst = await runKafkaBurst(h, runId, options.BENCH_BURST, log);
    logKafkaBurst(log, burst);
    return burst;
  }
  log(`burst: ${options.BENCH_BURST} events from ${options.BENCH_BURST_CLIENTS} clients`);
  const burst = await runBurst(h, runId, options.BENCH_BURST, options.BENCH_BURST_CLIENTS, log);
  logBurst(log, burst);
  return burst;
}

function logBurst(log: (line: string) => void, b: BurstResult): void {
  log(
    `burst: ${b.events} events, ${b.clients} clients: ${b.accepted} accepted (${b.retried503} after a 503), ${b.acceptRate}/s; accept p50 ${b.acceptP50} ms, p99 ${b.acceptP99} ms, max ${b.acceptMax} ms ` +
      `(target p99 < 100 ms); peak backlog ${b.peakBacklog} (pool queue ${b.peakPoolQueued}); drained (${b.delivered} pushed) ${b.drainSeconds} s after the first post, ${b.drainedRate}/s`,
  );
}

/** The customers the steps and the burst notify: half on iOS, half on Android. */
async function createCustomers(h: Harness): Promise<void> {
  for (let c = 0; c < CUSTOMERS; c++) {
    const id = `bench-c${c}`;
    await h.api('PUT', `/v1/customers/${id}`, { locale: 'en' });
    const device = c % 2 === 0 ? { deviceId: `${id}-ios`, platform: 'ios', token: iosToken(id) } : { deviceId: `${id}-android`, platform: 'android', token: androidToken(id) };
    await h.api('POST', `/v1/customers/${id}/devices`, device);
  }
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

async function main(burstOnly: boolean): Promise<void> {
  const options = parseEnv(benchEnvironment, process.env);
  const { BENCH_RATE: rate, BENCH_SECONDS: seconds, BENCH_STEPS: steps, BENCH_STEP_SECONDS: stepSeconds } = options;
  const log = (line: string) => process.stdout.write(`[bench] ${line}\n`);

  const viaKafka = options.BENCH_BURST_VIA === 'kafka' && options.BENCH_BURST > 0;
  log(`starting the stack with fake APNs and FCM${viaKafka ? ' and a one-node Kafka' : ''}...`);
  const h = await startHarness({
    kafka: viaKafka,
    env: {
      LOG_LEVEL: 'warn',
      ...(viaKafka ? { HERALD_KAFKA_TOPIC: KAFKA_TOPIC } : {}),
      HERALD_DIGEST_WINDOW: options.BENCH_DIGEST_WINDOW,
      ...(options.BENCH_PROFILE_DIR ? { HERALD_NODE_ARGS: `--cpu-prof --cpu-prof-dir=${options.BENCH_PROFILE_DIR}` } : {}),
    },
  });
  stopOnInterrupt(h);
  try {
    await createCustomers(h);
    const runId = `b${Date.now().toString(36)}`;
    if (burstOnly) {
      const burst = await burstVia(h, `${runId}burst`, options, log);
      const memory = { workerPeakMiB: peakMemoryMiB(h.stack.worker.pid), apiPeakMiB: peakMemoryMiB(h.stack.api.pid) };
      process.stdout.write(`${JSON.stringify({ burst, memory })}
`);
      if (options.BENCH_JSON) fs.writeFileSync(options.BENCH_JSON, JSON.stringify({ burst, memory }, null, 2));
      return;
    }
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
    const burst = options.BENCH_BURST > 0 ? await burstVia(h, `${runId}burst`, options, log) : null;
    if (options.BENCH_JSON) fs.writeFileSync(options.BENCH_JSON, JSON.stringify({ results, memory, burst }, null, 2));
    else if (burst) process.stdout.write(`${JSON.stringify({ burst })}\n`);
  } finally {
    await h.stop();
  }
}

(process.argv[2] === 'campaign' ? campaignBench() : main(process.argv[2] === 'burst')).catch((err) => {
  process.stderr.write(`[bench] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
