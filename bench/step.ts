// One step of the bench at a fixed rate, for Herald or for the bare-Temporal floor alike: the shop's pattern of open
// orders each moving along its path, the latency of every event from the send to its provider, and what the step cost
// each process in CPU.
import { percentile } from '../test/support/burst';
import { eventually } from '../test/support/harness';
import { cpuSeconds } from './processes';

export const CUSTOMERS = 200;
export const OPEN_ORDERS = 100;
export const PATH = ['confirmed', 'packed', 'shipped', 'out_for_delivery', 'delivered'] as const;

export interface BenchOrderEvent {
  orderId: string;
  customerId: string;
  status: (typeof PATH)[number];
  /** The event's number within its step (unique event data, a strictly later occurredAt). */
  seq: number;
}

/** What the bench drives: Herald through its API, or the floor through signal-with-start. */
export interface BenchSystem {
  name: 'herald' | 'floor';
  /** Sends one order event; true once it is accepted (Herald: a 202; the floor: the signal-with-start answered). */
  send(event: BenchOrderEvent): Promise<boolean>;
  /** Calls back for each notification that reaches the provider (fake) or the sink, with when it arrived. */
  onNotified(listener: (orderId: string, status: string, receivedAt: number) => void): () => void;
  /** The Temporal workflow of an order. */
  workflowId(orderId: string): string;
  /** Activity tasks its worker has had from polls so far (SDK metrics), not eagerly; null when it cannot tell. */
  activityTasksPolled(): Promise<number | null>;
}

/** The process trees a step charges CPU to (pids), 'bench' being this process: load generator, fakes and sink. */
export type CpuParts = Record<string, number | undefined>;

export interface StepResult {
  system: BenchSystem['name'];
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
  /** CPU milliseconds per delivered event of each part, from the step's start until it drained. */
  cpuMsPerEvent: Record<string, number>;
  /** CPU of each part over the step's wall time, 100 = one core. */
  cpuPercent: Record<string, number>;
  wallSeconds: number;
  /** Activity tasks the system's worker polled for during the step (the others came eagerly); null when unknown. */
  activityTasksPolled: number | null;
  /** The orders the step opened (their workflows are counted afterwards, bench/history-counts.ts). */
  orderIds: string[];
}

const round1 = (n: number) => Math.round(n * 10) / 10;

function cpuNow(parts: CpuParts): Record<string, number> {
  const usage = process.cpuUsage();
  return { ...Object.fromEntries(Object.entries(parts).map(([k, pid]) => [k, cpuSeconds(pid)])), bench: (usage.user + usage.system) / 1e6 };
}

/**
 * Sends `rate` events/s for `seconds` s to `system`, then waits (up to `drainTimeoutMs`) for every accepted one to be
 * notified. Orders move along PATH as in a shop: each of OPEN_ORDERS open orders gets its next status in turn and a
 * delivered order is replaced by a new one, so one event in five starts a workflow. Order ids start with `prefix`.
 */
export async function runStep(
  system: BenchSystem,
  prefix: string,
  rate: number,
  seconds: number,
  parts: CpuParts,
  drainTimeoutMs = 120_000,
): Promise<StepResult> {
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const off = system.onNotified((orderId, status, receivedAt) => {
    const key = `${orderId}/${status}`;
    const start = sentAt.get(key);
    if (start !== undefined) {
      latencies.push(receivedAt - start);
      sentAt.delete(key);
    }
  });

  const total = Math.round(rate * seconds);
  let sent = 0;
  let accepted = 0;
  let failed = 0;
  const inFlight = new Set<Promise<void>>();
  const polledBefore = await system.activityTasksPolled().catch(() => null);
  const cpuBefore = cpuNow(parts);
  const started = Date.now();
  const tickMs = 20;
  const open: Array<{ orderId: string; customerId: string; next: number }> = [];
  let ordersOpened = 0;
  // The orders that got at least one event: those have a workflow.
  const orderIds: string[] = [];
  const nextEvent = (): Omit<BenchOrderEvent, 'seq'> => {
    if (open.length < OPEN_ORDERS) {
      open.push({ orderId: `${prefix}-o${ordersOpened}`, customerId: `bench-c${ordersOpened % CUSTOMERS}`, next: 0 });
      ordersOpened++;
    }
    const order = open.shift()!;
    if (order.next === 0) orderIds.push(order.orderId);
    const status = PATH[order.next]!;
    order.next++;
    if (order.next < PATH.length) open.push(order);
    return { orderId: order.orderId, customerId: order.customerId, status };
  };
  while (sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate));
    while (sent < due) {
      const event = { ...nextEvent(), seq: sent++ };
      sentAt.set(`${event.orderId}/${event.status}`, Date.now());
      const p = system
        .send(event)
        .then((ok) => {
          if (ok) accepted++;
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
  }, drainTimeoutMs, 100).catch(() => undefined);
  const drainSeconds = (Date.now() - drainStart) / 1000;
  const cpuAfter = cpuNow(parts);
  const polledAfter = await system.activityTasksPolled().catch(() => null);
  off();
  const sorted = [...latencies].sort((a, b) => a - b);
  const elapsed = (Date.now() - started) / 1000;
  const delivered = latencies.length;
  const cpuMsPerEvent: Record<string, number> = {};
  const cpuPercent: Record<string, number> = {};
  for (const [part, after] of Object.entries(cpuAfter)) {
    const used = after - cpuBefore[part]!;
    cpuMsPerEvent[part] = delivered ? round1((used * 1000) / delivered) : NaN;
    cpuPercent[part] = Math.round((used / elapsed) * 100);
  }
  return {
    system: system.name,
    rate,
    seconds,
    sent,
    accepted,
    failed,
    delivered,
    acceptThroughput: round1(accepted / acceptSeconds),
    deliveredThroughput: round1(delivered / elapsed),
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
    drainSeconds: round1(drainSeconds),
    sustainable: failed === 0 && delivered === accepted && percentile(sorted, 99) < 1000,
    cpuMsPerEvent,
    cpuPercent,
    wallSeconds: round1(elapsed),
    activityTasksPolled: polledBefore === null || polledAfter === null ? null : polledAfter - polledBefore,
    orderIds,
  };
}
