// `npm run bench` (order events; `npm run bench -- campaign` runs bench/campaign.ts instead, `npm run bench -- burst` the burst alone): drives the real stack (Temporal, PostgreSQL, worker and API
// processes) with APNs and FCM faked at the wire and, on the same Temporal server in the same run, the bare-Temporal
// floor (bench/floor/). It reports the first notification after the stack is ready, a rate ladder of both (the
// highest sustainable rate: p99 < 1 s, nothing lost) and Herald's as a share of the floor's, per order event the
// Temporal history events, workflow tasks and activity tasks and the CPU ms of each process, latency at half the
// sustainable rate, peak memory and CPU shares, then a burst.
// Not a test: the figures depend on the machine. Options (env): BENCH_TEMPORAL (dev, server or dev,server: the
// Temporal server of the run; two run one after the other and print side by side), BENCH_STEPS (the ladder's rates,
// default "20,30,40,50,60,75,90"; each system stops at its first unsustainable one), BENCH_STEP_SECONDS (20),
// BENCH_RATE (the latency step's rate; default half Herald's highest sustainable rate), BENCH_SECONDS (its length,
// default 60), BENCH_BURST (events of the burst, default 20000; 0 skips it), BENCH_BURST_CLIENTS (50), BENCH_BURST_VIA
// (http, or kafka: the same events produced to a one-node Kafka the API consumes, reporting produce rate, time until
// stored and drain), BENCH_DIGEST_WINDOW (HERALD_DIGEST_WINDOW of the run, default 0: a digest holds routine updates
// back on purpose, which would be counted as latency; the pipeline's own speed is what is measured), BENCH_JSON (a
// file for every figure as JSON), BENCH_PROFILE_DIR (CPU profiles of the worker and API).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { orderWorkflowId } from '../domain';
import { parseEnv } from '../lib/config';
import { burstEvents, percentile, postBurst } from '../test/support/burst';
import { eventually, iosToken, androidToken, startHarness, type Harness } from '../test/support/harness';
import { produce, samples } from '../test/support/kafka';
import { activityTasksPolled } from '../test/support/round-trips';
import { campaignBench } from './campaign';
import { startFloor, type Floor } from './floor/floor';
import { countHistories, perEvent, type PerEventCounts } from './history-counts';
import { peakMemoryMiB, stopOnInterrupt } from './processes';
import { CUSTOMERS, runStep, type BenchSystem, type CpuParts, type StepResult } from './step';

/** The benchmark's own options; the stack it starts reads Herald's configuration as usual. */
const benchEnvironment = z.object({
  BENCH_TEMPORAL: z
    .string()
    .default('dev')
    .transform((list) => list.split(',').map((mode) => mode.trim()).filter(Boolean))
    .pipe(z.array(z.enum(['dev', 'server'])).min(1)),
  BENCH_RATE: z.coerce.number().positive().optional(),
  BENCH_SECONDS: z.coerce.number().positive().default(60),
  BENCH_STEPS: z
    .string()
    .default('20,30,40,50,60,75,90')
    .transform((list) => list.split(',').filter(Boolean))
    .pipe(z.array(z.coerce.number<string>().positive())),
  BENCH_STEP_SECONDS: z.coerce.number().positive().default(20),
  BENCH_REFINE: z.coerce.number().int().min(0).default(2),
  // Handed to the stack as HERALD_DIGEST_WINDOW, whose schema checks it.
  BENCH_DIGEST_WINDOW: z.string().default('0'),
  BENCH_BURST: z.coerce.number().int().min(0).default(20_000),
  BENCH_BURST_CLIENTS: z.coerce.number().int().positive().default(50),
  BENCH_BURST_VIA: z.enum(['http', 'kafka']).default('http'),
  BENCH_JSON: z.string().optional(),
  BENCH_PROFILE_DIR: z.string().optional(),
});

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

/** The distinct pushes (order and status) of one burst's orders that reach the APNs or FCM fake, until stop(). */
function countPushes(h: Harness, runId: string): { pushed: Set<string>; stop: () => void } {
  const pushed = new Set<string>();
  const onPush = (data: { orderId?: string; status?: string } | undefined) => {
    if (data?.orderId?.startsWith(`${runId}-`)) pushed.add(`${data.orderId}.${data.status}`);
  };
  const offApns = h.apns.onRequest((r) => onPush(r.body as { orderId?: string; status?: string }));
  const offFcm = h.fcm.onMessage((m) => onPush(m.data));
  return {
    pushed,
    stop: () => {
      offApns();
      offFcm();
    },
  };
}

/**
 * A burst: `events` order events posted by `clients` clients as fast as they get answers (test/support/burst.ts),
 * then the wait until every one is pushed. Accept figures are of every answer, all given while the backlog drains.
 */
async function runBurst(h: Harness, runId: string, events: number, clients: number, log: (line: string) => void): Promise<BurstResult> {
  const { pushed, stop: stopCounting } = countPushes(h, runId);
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
  stopCounting();
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
  const { pushed, stop: stopCounting } = countPushes(h, runId);
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
  stopCounting();
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


type BenchOptions = z.infer<typeof benchEnvironment>;
type TemporalMode = BenchOptions['BENCH_TEMPORAL'][number];

/** Herald as the bench drives it: events posted to its API, notifications seen by the APNs and FCM fakes. */
function heraldSystem(h: Harness): BenchSystem {
  return {
    name: 'herald',
    workflowId: orderWorkflowId,
    activityTasksPolled: () => activityTasksPolled(`http://127.0.0.1:${h.stack.env.HERALD_SDK_METRICS_PORT}/metrics`),
    async send(event) {
      const res = await h.api('POST', '/v1/order-events', {
        eventId: `${event.orderId}.${event.status}`,
        orderId: event.orderId,
        customerId: event.customerId,
        status: event.status,
        occurredAt: new Date(Date.now() + event.seq).toISOString(),
        source: 'bench',
        data: { trackingNumber: `TRK${event.seq}`, carrier: 'UPS' },
      });
      return res.status === 202;
    },
    onNotified(listener) {
      const seen = (data: { orderId?: string; status?: string } | undefined, receivedAt: number) => {
        if (data?.orderId && data.status) listener(data.orderId, data.status, receivedAt);
      };
      const offApns = h.apns.onRequest((r) => seen(r.body as { orderId?: string; status?: string }, r.receivedAt));
      const offFcm = h.fcm.onMessage((m) => seen(m.data, m.receivedAt));
      return () => {
        offApns();
        offFcm();
      };
    },
  };
}

/** One event to a system that has not had any yet: the time from the send to its provider (or sink). */
async function firstNotificationMs(system: BenchSystem, orderId: string, customerId: string): Promise<number> {
  let arrivedAt: number | undefined;
  const off = system.onNotified((o, status, receivedAt) => {
    if (o === orderId && status === 'confirmed') arrivedAt = receivedAt;
  });
  try {
    const sentAt = Date.now();
    if (!(await system.send({ orderId, customerId, status: 'confirmed', seq: 0 }))) throw new Error(`${system.name} did not accept the first event`);
    await eventually(() => {
      if (arrivedAt === undefined) throw new Error(`the first ${system.name} notification has not arrived`);
    }, 60_000, 10);
    return arrivedAt! - sentAt;
  } finally {
    off();
  }
}

interface SystemFigures {
  firstNotificationMs: number;
  /** The ladder, lowest rate first; the last step is the first unsustainable one unless every rate held. */
  ladder: Array<Omit<StepResult, 'orderIds'> & { perEvent: PerEventCounts }>;
  sustainableRate: number | null;
  /** Per order event at the highest sustainable rate (the lowest step when none held). */
  perEventAtSustainable: PerEventCounts & { rate: number; cpuMs: Record<string, number> };
  halfRate: (Omit<StepResult, 'orderIds'> & { perEvent: PerEventCounts }) | null;
  /** CPU of each part over the system's ladder steps, 100 = one core. */
  cpuShares: Record<string, number>;
}

interface ModeReport {
  temporal: TemporalMode;
  herald: SystemFigures;
  floor: SystemFigures;
  /** Herald's highest sustainable rate over the floor's. */
  ratio: number | null;
  memory: { workerPeakMiB: number; apiPeakMiB: number; floorWorkerPeakMiB: number; temporalPeakMiB: number };
  burst: BurstResult | KafkaBurstResult | null;
}

/** The highest rate a system sustained: below every unsustainable one it was stepped at (a later lucky step does not count). */
function sustainable(steps: StepResult[]): number | undefined {
  const ceiling = Math.min(...steps.filter((s) => !s.sustainable).map((s) => s.rate));
  return steps.filter((s) => s.sustainable && s.rate < ceiling).sort((a, b) => b.rate - a.rate)[0]?.rate;
}

const withoutOrders = ({ orderIds: _orderIds, ...rest }: StepResult) => rest;

async function counted(floor: Floor, system: BenchSystem, step: StepResult, log: (line: string) => void) {
  const counts = await countHistories(floor.client, step.orderIds.map((id) => system.workflowId(id)));
  if (counts.missing.length > 0) {
    log(`${system.name} at ${step.rate}/s: ${counts.missing.length} of ${step.orderIds.length} workflows not found, e.g. ${counts.missing.slice(0, 3).join(', ')}`);
  }
  return { ...withoutOrders(step), perEvent: perEvent(counts, step.accepted, step.activityTasksPolled) };
}

function cpuShares(steps: StepResult[]): Record<string, number> {
  const wall = steps.reduce((sum, s) => sum + s.wallSeconds, 0);
  const shares: Record<string, number> = {};
  for (const part of Object.keys(steps[0]?.cpuPercent ?? {})) {
    shares[part] = Math.round(steps.reduce((sum, s) => sum + s.cpuPercent[part]! * s.wallSeconds, 0) / wall);
  }
  return shares;
}

async function figures(
  floor: Floor,
  system: BenchSystem,
  first: number,
  ladder: StepResult[],
  half: StepResult | null,
  log: (line: string) => void,
): Promise<SystemFigures> {
  const bestRate = sustainable(ladder);
  const best = ladder.find((s) => s.rate === bestRate && s.sustainable);
  const countedLadder = [];
  for (const step of ladder) countedLadder.push(await counted(floor, system, step, log));
  const at = countedLadder[best ? ladder.indexOf(best) : 0]!;
  return {
    firstNotificationMs: first,
    ladder: countedLadder,
    sustainableRate: best?.rate ?? null,
    perEventAtSustainable: { rate: at.rate, ...at.perEvent, cpuMs: at.cpuMsPerEvent },
    halfRate: half ? await counted(floor, system, half, log) : null,
    cpuShares: cpuShares(ladder),
  };
}

/** The whole bench on one Temporal server: stack, floor, first notifications, ladder, half-rate step, counts, burst. */
async function runOnServer(mode: TemporalMode, options: BenchOptions, log: (line: string) => void): Promise<ModeReport> {
  const viaKafka = options.BENCH_BURST_VIA === 'kafka' && options.BENCH_BURST > 0;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bench-'));
  log(`[${mode}] starting the stack (${mode === 'server' ? 'production Temporal server' : 'Temporal dev server on a SQLite file'}) with fake APNs and FCM${viaKafka ? ' and a one-node Kafka' : ''}...`);
  const h = await startHarness({
    kafka: viaKafka,
    ...(mode === 'server' ? { temporal: 'server' } : { temporalDbFile: path.join(scratch, 'temporal.db') }),
    env: {
      LOG_LEVEL: 'warn',
      ...(viaKafka ? { HERALD_KAFKA_TOPIC: KAFKA_TOPIC } : {}),
      HERALD_DIGEST_WINDOW: options.BENCH_DIGEST_WINDOW,
      ...(options.BENCH_PROFILE_DIR ? { HERALD_NODE_ARGS: `--cpu-prof --cpu-prof-dir=${options.BENCH_PROFILE_DIR}` } : {}),
    },
  });
  let floor: Floor | undefined;
  const unregister = stopOnInterrupt(h, { stop: async () => floor?.stop() });
  try {
    const runId = `b${Date.now().toString(36)}`;
    const herald = heraldSystem(h);
    // Right after the stack is ready, before anything else has warmed it: one customer, one event.
    await h.api('PUT', '/v1/customers/bench-first', { locale: 'en' });
    await h.api('POST', '/v1/customers/bench-first/devices', { deviceId: 'bench-first-ios', platform: 'ios', token: iosToken('bench-first') });
    const heraldFirst = await firstNotificationMs(herald, `${runId}-first`, 'bench-first');
    log(`[${mode}] first notification after the stack is ready: ${heraldFirst} ms from the API call to the provider (target < 1000 ms)`);
    log(`[${mode}] starting the bare-Temporal floor (its own worker process, an HTTP sink here)...`);
    floor = await startFloor(h.stack, scratch);
    const floorFirst = await firstNotificationMs(floor, `${runId}-first`, 'bench-first');
    log(`[${mode}] floor: first notification after its worker polls: ${floorFirst} ms`);
    await createCustomers(h);

    const parts: CpuParts = {
      temporal: h.stack.serverPids.temporal,
      postgres: h.stack.serverPids.postgres,
      worker: h.stack.worker.pid,
      api: h.stack.api.pid,
      floorWorker: floor.workerPid,
    };
    log(`[${mode}] warm-up: 5 s at 20 events/s each`);
    await runStep(floor, `${runId}-warm`, 20, 5, parts);
    await runStep(herald, `${runId}-warm`, 20, 5, parts);

    // The ladder, each rate floor first then Herald, so both see the same server at the same point of the run.
    const ladders = new Map<BenchSystem, StepResult[]>([
      [floor, []],
      [herald, []],
    ]);
    for (const rate of options.BENCH_STEPS) {
      for (const [system, steps] of ladders) {
        if (steps.length > 0 && !steps[steps.length - 1]!.sustainable) continue;
        log(`[${mode}] ${system.name}: ${rate} events/s for ${options.BENCH_STEP_SECONDS} s`);
        const step = await runStep(system, `${runId}-${rate}`, rate, options.BENCH_STEP_SECONDS, parts);
        steps.push(step);
        log(`[${mode}] ${system.name}: ${rate}/s: ${stepLine(step)}`);
      }
    }
    // Between a system's highest sustainable rate and the first that was not, BENCH_REFINE more steps halve the gap.
    for (const [system, steps] of ladders) {
      let low = sustainable(steps);
      let high = steps.find((s) => !s.sustainable)?.rate;
      for (let probe = 0; probe < options.BENCH_REFINE && low !== undefined && high !== undefined; probe++) {
        const rate = Math.round((low + high) / 2);
        if (rate <= low || rate >= high) break;
        log(`[${mode}] ${system.name}: refining at ${rate} events/s for ${options.BENCH_STEP_SECONDS} s`);
        const step = await runStep(system, `${runId}-${rate}`, rate, options.BENCH_STEP_SECONDS, parts);
        steps.push(step);
        log(`[${mode}] ${system.name}: ${rate}/s: ${stepLine(step)}`);
        if (step.sustainable) low = rate;
        else high = rate;
      }
    }
    const halfOf = (system: BenchSystem, steps: StepResult[]) => {
      if (system === herald && options.BENCH_RATE) return options.BENCH_RATE;
      const best = sustainable(steps);
      return best ? Math.max(1, Math.floor(best / 2)) : undefined;
    };
    const halves = new Map<BenchSystem, StepResult | null>();
    for (const [system, steps] of ladders) {
      const rate = halfOf(system, steps);
      if (!rate) {
        halves.set(system, null);
        continue;
      }
      log(`[${mode}] ${system.name}: latency at ${rate} events/s for ${options.BENCH_SECONDS} s`);
      const step = await runStep(system, `${runId}-half${rate}`, rate, options.BENCH_SECONDS, parts);
      halves.set(system, step);
      log(`[${mode}] ${system.name}: ${rate}/s: ${stepLine(step)}`);
    }

    log(`[${mode}] counting the workflows' histories...`);
    const heraldFigures = await figures(floor, herald, heraldFirst, ladders.get(herald)!, halves.get(herald)!, log);
    const floorFigures = await figures(floor, floor, floorFirst, ladders.get(floor)!, halves.get(floor)!, log);
    const memory = {
      workerPeakMiB: peakMemoryMiB(h.stack.worker.pid),
      apiPeakMiB: peakMemoryMiB(h.stack.api.pid),
      floorWorkerPeakMiB: peakMemoryMiB(floor.workerPid),
      temporalPeakMiB: h.stack.serverPids.temporal ? peakMemoryMiB(h.stack.serverPids.temporal) : NaN,
    };
    const burst = options.BENCH_BURST > 0 ? await burstVia(h, `${runId}burst`, options, log) : null;
    const ratio = heraldFigures.sustainableRate && floorFigures.sustainableRate ? Math.round((heraldFigures.sustainableRate / floorFigures.sustainableRate) * 100) / 100 : null;
    return { temporal: mode, herald: heraldFigures, floor: floorFigures, ratio, memory, burst };
  } finally {
    await floor?.stop();
    await h.stop();
    unregister();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

function stepLine(s: StepResult): string {
  return (
    `${s.accepted}/${s.sent} accepted, ${s.delivered} delivered, ${s.deliveredThroughput}/s; p50 ${s.p50} ms, p95 ${s.p95} ms, p99 ${s.p99} ms, max ${s.max} ms; ` +
    `drained in ${s.drainSeconds} s; ${s.sustainable ? 'sustainable' : 'NOT sustainable'}`
  );
}

const LADDER_COLUMNS = 'system  rate/s  secs  accepted  failed  delivered  accept/s  delivered/s  p50ms  p95ms  p99ms  maxms  drain_s  sustainable';

function logReport(r: ModeReport, log: (line: string) => void): void {
  const tag = `[${r.temporal}]`;
  log('');
  log(`${tag} ${LADDER_COLUMNS}`);
  const rows = [...r.floor.ladder, ...r.herald.ladder].sort((a, b) => a.rate - b.rate || a.system.localeCompare(b.system));
  for (const s of rows) {
    log(
      `${tag} ${s.system.padStart(6)}  ` +
        [s.rate, s.seconds, s.accepted, s.failed, s.delivered, s.acceptThroughput, s.deliveredThroughput, s.p50, s.p95, s.p99, s.max, s.drainSeconds, s.sustainable ? 'yes' : 'no']
          .map((v) => String(v).padStart(6))
          .join('  '),
    );
  }
  const rate = (f: SystemFigures) => (f.sustainableRate ? `${f.sustainableRate} events/s` : 'none');
  log(
    `${tag} highest sustainable rate (p99 < 1 s, nothing lost): Herald ${rate(r.herald)}, floor ${rate(r.floor)}; ratio Herald/floor ${r.ratio ?? 'n/a'} (target >= 0.9; the ladder's steps bound its precision)`,
  );
  for (const [name, f] of [['Herald', r.herald], ['floor', r.floor]] as const) {
    const p = f.perEventAtSustainable;
    const cpu = Object.entries(p.cpuMs)
      .filter(([, ms]) => ms >= 0.05)
      .map(([part, ms]) => `${part} ${ms}`)
      .join(', ');
    log(
      `${tag} ${name} per order event at ${p.rate}/s: ${p.historyEvents} history events, ${p.workflowTasks} workflow tasks, ${p.activityTasks} activity tasks ` +
        `(${p.activityTasksPolled ?? '?'} polled, the rest eager), ${p.localActivityMarkers} local activities, ${p.searchAttributeUpserts} search-attribute upserts, ${p.timers} timers; CPU ms ${cpu}`,
    );
  }
  for (const [name, f] of [['Herald', r.herald], ['floor', r.floor]] as const) {
    const s = f.halfRate;
    log(`${tag} ${name} at half its sustainable rate${s ? ` (${s.rate}/s, ${s.seconds} s): p50 ${s.p50} ms, p95 ${s.p95} ms, p99 ${s.p99} ms, ${s.delivered}/${s.accepted} delivered` : ': not run (nothing sustainable)'}${name === 'Herald' ? ' (target p50 <= 100, p99 <= 300 ms)' : ''}`);
  }
  log(`${tag} first notification after ready: Herald ${r.herald.firstNotificationMs} ms API call to provider (target < 1000), floor ${r.floor.firstNotificationMs} ms`);
  log(
    `${tag} peak memory (VmHWM, process tree): worker ${r.memory.workerPeakMiB} MiB (target <= 300), API ${r.memory.apiPeakMiB} MiB (target <= 150), floor worker ${r.memory.floorWorkerPeakMiB} MiB, Temporal ${r.memory.temporalPeakMiB} MiB`,
  );
  const shares = (f: SystemFigures) =>
    Object.entries(f.cpuShares)
      .map(([part, pct]) => `${part} ${pct}%`)
      .join(', ');
  log(`${tag} CPU over Herald's ladder (100% = one core, process trees; bench = load generator, fakes and sink): ${shares(r.herald)}`);
  log(`${tag} CPU over the floor's ladder: ${shares(r.floor)}`);
}

/** Two servers' key figures in two columns. */
function logSideBySide(reports: ModeReport[], log: (line: string) => void): void {
  const rows: Array<[string, (r: ModeReport) => string | number | null]> = [
    ['Herald sustainable events/s', (r) => r.herald.sustainableRate],
    ['floor sustainable events/s', (r) => r.floor.sustainableRate],
    ['ratio Herald/floor', (r) => r.ratio],
    ['Herald history events/event', (r) => r.herald.perEventAtSustainable.historyEvents],
    ['Herald workflow tasks/event', (r) => r.herald.perEventAtSustainable.workflowTasks],
    ['Herald activity tasks/event', (r) => r.herald.perEventAtSustainable.activityTasks],
    ['Herald polled activity tasks/event', (r) => r.herald.perEventAtSustainable.activityTasksPolled],
    ['floor history events/event', (r) => r.floor.perEventAtSustainable.historyEvents],
    ['Herald CPU ms/event worker', (r) => r.herald.perEventAtSustainable.cpuMs.worker ?? null],
    ['Herald CPU ms/event temporal', (r) => r.herald.perEventAtSustainable.cpuMs.temporal ?? null],
    ['Herald CPU ms/event api', (r) => r.herald.perEventAtSustainable.cpuMs.api ?? null],
    ['Herald CPU ms/event postgres', (r) => r.herald.perEventAtSustainable.cpuMs.postgres ?? null],
    ['floor CPU ms/event temporal', (r) => r.floor.perEventAtSustainable.cpuMs.temporal ?? null],
    ['Herald half-rate p50 ms', (r) => r.herald.halfRate?.p50 ?? null],
    ['Herald half-rate p99 ms', (r) => r.herald.halfRate?.p99 ?? null],
    ['Herald first notification ms', (r) => r.herald.firstNotificationMs],
    ['floor first notification ms', (r) => r.floor.firstNotificationMs],
    ['worker peak MiB', (r) => r.memory.workerPeakMiB],
    ['API peak MiB', (r) => r.memory.apiPeakMiB],
    ['Temporal peak MiB', (r) => r.memory.temporalPeakMiB],
  ];
  log('');
  log(`${''.padEnd(32)}${reports.map((r) => r.temporal.padStart(10)).join('')}`);
  for (const [label, value] of rows) log(`${label.padEnd(32)}${reports.map((r) => String(value(r) ?? 'n/a').padStart(10)).join('')}`);
}

/** `npm run bench -- burst`: the burst alone, on the first server BENCH_TEMPORAL names. */
async function burstOnly(options: BenchOptions, log: (line: string) => void): Promise<void> {
  const viaKafka = options.BENCH_BURST_VIA === 'kafka';
  const mode = options.BENCH_TEMPORAL[0]!;
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-bench-'));
  log(`starting the stack with fake APNs and FCM${viaKafka ? ' and a one-node Kafka' : ''}...`);
  const h = await startHarness({
    kafka: viaKafka,
    ...(mode === 'server' ? { temporal: 'server' } : { temporalDbFile: path.join(scratch, 'temporal.db') }),
    env: { LOG_LEVEL: 'warn', ...(viaKafka ? { HERALD_KAFKA_TOPIC: KAFKA_TOPIC } : {}), HERALD_DIGEST_WINDOW: options.BENCH_DIGEST_WINDOW },
  });
  const unregister = stopOnInterrupt(h);
  try {
    await createCustomers(h);
    const burst = await burstVia(h, `b${Date.now().toString(36)}burst`, options, log);
    const memory = { workerPeakMiB: peakMemoryMiB(h.stack.worker.pid), apiPeakMiB: peakMemoryMiB(h.stack.api.pid) };
    process.stdout.write(`${JSON.stringify({ burst, memory })}\n`);
    if (options.BENCH_JSON) fs.writeFileSync(options.BENCH_JSON, JSON.stringify({ burst, memory }, null, 2));
  } finally {
    await h.stop();
    unregister();
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

async function main(onlyTheBurst: boolean): Promise<void> {
  const options = parseEnv(benchEnvironment, process.env);
  const log = (line: string) => process.stdout.write(`[bench] ${line}\n`);
  if (onlyTheBurst) return burstOnly(options, log);
  const reports: ModeReport[] = [];
  for (const mode of options.BENCH_TEMPORAL) {
    const report = await runOnServer(mode, options, log);
    logReport(report, log);
    reports.push(report);
  }
  if (reports.length > 1) logSideBySide(reports, log);
  log(`machine: ${os.cpus().length} cores; shared and noisy, compare ratios within one run`);
  const json = { machine: { cores: os.cpus().length, node: process.version }, runs: reports };
  if (options.BENCH_JSON) fs.writeFileSync(options.BENCH_JSON, JSON.stringify(json, null, 2));
  else process.stdout.write(`${JSON.stringify(json)}\n`);
}

(process.argv[2] === 'campaign' ? campaignBench() : main(process.argv[2] === 'burst')).catch((err) => {
  process.stderr.write(`[bench] failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
