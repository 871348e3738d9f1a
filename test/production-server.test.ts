// Herald on the production Temporal server (dev/temporal-server.ts: PostgreSQL persistence and visibility, four
// history shards, every service), as a deployment runs it: two worker processes and two API processes. A stream of
// order events goes in over both APIs; one worker is killed with SIGKILL while the stream is in flight. Every accepted
// event is notified exactly once (one push Notification row, sent; one apns-id at the APNs fake), none is lost, and
// the other worker carries the rest. (A kill during a new order's first workflow task once lost that order's first
// event: the second test pins the fix in activities/recipient.ts.)
import { postEvent, burstEvent, BURST_PATH, createBurstCustomers } from './support/burst';
import { eventually, useHarness } from './support/harness';
import type { ExtraProcess } from '../dev/stack';
import { Client } from '@temporalio/client';
import { advance, orderWorkflowId, type OrderEvent, type OrderStatus } from '../domain';
import { createRecipientActivities } from '../activities/recipient';
import { settleEvent } from '../store/notifications';
import { connectTemporal } from '../lib/temporal-connection';

const ORDERS = 60;
const EVENTS = ORDERS * BURST_PATH.length;
/** Clients per API; each posts its own orders, one status round after another, a post every PACE_MS. */
const CLIENTS = 5;
const PACE_MS = 250;
const CUSTOMERS = 30;
/** The kill comes once this many pushes went out: the stream is then still in flight. */
const KILL_AFTER_PUSHES = Math.floor(EVENTS / 5);
// A killed worker's sends come back after their heartbeat timeout (15 s for a push) and its workflows after the sticky timeout;
// the rest is one worker's pace on a busy machine.
const DRAIN_MS = 180_000;

const h = useHarness({ temporal: 'server', env: { HERALD_DIGEST_WINDOW: '0' } });
const run = `prod${Date.now().toString(36)}`;
const customerOf = (order: number) => `${run}-c${order % CUSTOMERS}`;
let worker2: ExtraProcess;
let api2: ExtraProcess;

beforeAll(async () => {
  [worker2, api2] = await Promise.all([h.stack.spawnExtra('worker', 'worker-2'), h.stack.spawnExtra('api', 'api-2')]);
  await eventually(async () => expect((await fetch(worker2.url.replace(/\/metrics$/, '/healthz'))).ok).toBe(true), 120_000, 250);
  await createBurstCustomers(h, run, CUSTOMERS, 10);
}, 180_000);

/** Posts one event until it is taken: a 503 again after its Retry-After, a failed connection again after a second. */
async function postUntilTaken(apiUrl: string, event: ReturnType<typeof burstEvent>): Promise<number> {
  for (let tries = 0; ; tries++) {
    const answer = await postEvent(apiUrl, h.adminKey, '/v1/order-events', event).catch(() => ({ status: 0, retryAfter: '1' }));
    if ((answer.status !== 503 && answer.status !== 0) || tries >= 30) return answer.status;
    await new Promise((r) => setTimeout(r, Number(answer.retryAfter ?? 1) * 1000));
  }
}

/** For a failure: where the events without a sent push are, in the database and in Temporal. */
async function whereTheyAre(): Promise<string> {
  const rows = await h.db.orderEvent.findMany({ where: { eventId: { startsWith: `${run}-` } }, select: { eventId: true, orderId: true, signalledAt: true, disposition: true, processedAt: true, relayAttempts: true, relayLastError: true } });
  const sent = new Set((await h.db.notification.findMany({ where: { eventId: { startsWith: `${run}-` }, channel: 'push', status: 'sent' }, select: { eventId: true } })).map((n) => n.eventId));
  const missing = rows.filter((row) => !sent.has(row.eventId));
  const lines = missing.slice(0, 12).map((row) => JSON.stringify(row));
  const others = await h.db.notification.findMany({ where: { eventId: { in: missing.map((row) => row.eventId) } }, select: { eventId: true, channel: true, status: true } });
  lines.push(`their notifications: ${JSON.stringify(others.slice(0, 20))}`);
  const connection = await connectTemporal(h.stack.temporal);
  try {
    const client = new Client({ connection, namespace: h.stack.temporal.namespace });
    for (const orderId of [...new Set(missing.map((row) => row.orderId))].slice(0, 3)) {
      const handle = client.workflow.getHandle(orderWorkflowId(orderId));
      const description = await handle.describe().catch((error: Error) => error);
      if (description instanceof Error) {
        lines.push(`${orderId}: ${description.message}`);
        continue;
      }
      const raw = description.raw;
      lines.push(`${orderId}: ${description.status.name}, history ${description.historyLength}, pending activities ${JSON.stringify(raw.pendingActivities?.map((a) => ({ type: a.activityType?.name, state: a.state, attempt: a.attempt, lastFailure: a.lastFailure?.message })))}, pending workflow task ${JSON.stringify(raw.pendingWorkflowTask ? { state: raw.pendingWorkflowTask.state, attempt: raw.pendingWorkflowTask.attempt } : null)}`);
      const history = await handle.fetchHistory();
      lines.push(
        `  history: ${history.events!
          .map((e) => {
            const signal = e.workflowExecutionSignaledEventAttributes;
            const payload = signal?.input?.payloads?.[0]?.data;
            const eventId = payload ? (/"eventId":"([^"]+)"/.exec(Buffer.from(payload).toString())?.[1] ?? '') : '';
            return `${e.eventId}:${e.eventType}${signal ? `(${signal.signalName} ${eventId.split('.').pop()})` : ''}@${new Date(Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6)).toISOString().slice(17, 23)}`;
          })
          .join(' ')}`,
      );
    }
  } finally {
    await connection.close();
  }
  return lines.join('\n');
}

/** Activities a worker has run, from the SDK's histogram on its /metrics (all task queues). */
async function activitiesRun(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  return [...text.matchAll(/^temporal_activity_execution_latency\w*_count(?:\{[^}]*\})? (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

const pushesSent = () => h.db.notification.count({ where: { eventId: { startsWith: `${run}-` }, channel: 'push', status: 'sent' } });

test(`${EVENTS} events over two APIs to two workers, one SIGKILLed mid-stream: every accepted event notified exactly once`, async () => {
  const apis = [h.stack.apiUrl, api2.url];
  // Order o goes through API o % 2; client k of each API posts the orders o with floor(o / 2) % CLIENTS === k.
  let posted = 0;
  const stream = Promise.all(
    apis.flatMap((apiUrl, a) =>
      Array.from({ length: CLIENTS }, async (_, k) => {
        const mine = Array.from({ length: ORDERS }, (_, o) => o).filter((o) => o % 2 === a && Math.floor(o / 2) % CLIENTS === k);
        const statuses: number[] = [];
        for (let step = 0; step < BURST_PATH.length; step++) {
          for (const o of mine) {
            statuses.push(await postUntilTaken(apiUrl, burstEvent(run, o, step, customerOf(o))));
            posted++;
            await new Promise((r) => setTimeout(r, PACE_MS));
          }
        }
        return statuses;
      }),
    ),
  );

  // Mid-stream: once a fifth of the pushes went out, the stack's first worker dies without a word.
  await eventually(async () => expect(await pushesSent()).toBeGreaterThanOrEqual(KILL_AFTER_PUSHES), DRAIN_MS, 200);
  const atKill = { posted, pushed: await pushesSent(), activities: [await activitiesRun(h.stack.workerMetricsUrl), await activitiesRun(worker2.url)] };
  await h.stack.worker.kill();
  expect(await h.stack.worker.managed.exited).toEqual({ code: null, signal: 'SIGKILL' });

  const statuses = (await stream).flat();
  expect(statuses.filter((s) => s !== 202)).toEqual([]);
  expect(await h.db.orderEvent.count({ where: { eventId: { startsWith: `${run}-` } } })).toBe(EVENTS);

  // None lost: the second worker sends the rest, those the dead one had in hand included.
  const drainStarted = Date.now();
  let last = 0;
  await eventually(async () => {
    last = await pushesSent();
    expect(last).toBe(EVENTS);
  }, DRAIN_MS, 1_000).catch(async (err: Error) => {
    throw new Error(`${last} of ${EVENTS} pushed ${Math.round((Date.now() - drainStarted) / 1000)} s after the stream: ${err.message}\n${await whereTheyAre()}`);
  });
  // The second worker lives on and ran what was left.
  expect(worker2.managed.hasExited()).toBe(false);
  const worker2Activities = await activitiesRun(worker2.url);
  expect(worker2Activities).toBeGreaterThan(atKill.activities[1]!);

  // Exactly once in the records: one push Notification per event.
  const notTheOne = await h.db.$queryRaw<Array<{ eventId: string; n: number }>>`
    SELECT "eventId", count(*)::int AS n FROM "Notification" WHERE "eventId" LIKE ${`${run}-%`} AND channel = 'push' GROUP BY 1 HAVING count(*) <> 1`;
  expect(notTheOne).toEqual([]);
  // And at the provider: one idempotency key (apns-id) per event. A send the kill cut off after APNs took it is
  // retried with the same apns-id, which APNs treats as the same notification.
  const idsPerEvent = new Map<string, Set<string>>();
  let requests = 0;
  for (const r of h.apns.requests) {
    const body = r.body as { orderId?: string; status?: string };
    if (!body.orderId?.startsWith(`${run}-`)) continue;
    requests++;
    const key = `${body.orderId}.${body.status}`;
    idsPerEvent.set(key, (idsPerEvent.get(key) ?? new Set()).add(r.apnsId));
  }
  expect(idsPerEvent.size).toBe(EVENTS);
  expect([...idsPerEvent].filter(([, ids]) => ids.size !== 1).map(([key]) => key)).toEqual([]);

  process.stdout.write(`[production-server] ${JSON.stringify({ events: EVENTS, killedAt: atKill, worker2ActivitiesAtEnd: worker2Activities, apnsRequests: requests, repeatedSameApnsId: requests - EVENTS, drainAfterStreamS: Math.round((Date.now() - drainStarted) / 1000) })}\n`);
}, DRAIN_MS * 2 + 120_000);

test("a run whose first workflow task a dead worker cut off loads the position earlier runs left, not its own progress", async () => {
  // What the SIGKILL above may hit: run B's first task settled `shipped` (moving the order row on), then its worker
  // died before the task completed; the task's next attempt loads the position again and must not see `shipped` as done.
  const orderId = `${run}-position`;
  const recipient = createRecipientActivities(h.db);
  let position = await recipient.loadOrderPosition(orderId, 'run-a');
  expect(position).toEqual({ stage: null, status: null, occurredAt: null });
  for (const [step, runId] of [[0, 'run-a'], [1, 'run-a'], [2, 'run-b']] as const) {
    const event = burstEvent(run, 999_999, step, customerOf(0));
    await h.db.orderEvent.create({ data: { ...event, orderId, eventId: `${orderId}.${event.status}`, occurredAt: new Date(event.occurredAt), data: event.data as object } });
    position = advance(position, event.status as OrderStatus, event.occurredAt);
    await settleEvent(h.db, { ...event, orderId, eventId: `${orderId}.${event.status}` } as OrderEvent, position, runId);
  }
  const afterRunA = (await recipient.loadOrderPosition(orderId, 'run-b')).status;
  expect(afterRunA).toBe('packed');
  // Any other run (and a caller without a run id) reads the order as it stands.
  expect((await recipient.loadOrderPosition(orderId, 'run-c')).status).toBe('shipped');
  expect((await recipient.loadOrderPosition(orderId)).status).toBe('shipped');
});
