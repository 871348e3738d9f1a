// The providers' rate limits (HERALD_<CHANNEL>_RATE_LIMIT), held across every worker without a task-queue limit:
// Temporal's maxTaskQueueActivitiesPerSecond turns eager activity dispatch off, so sends run on the order's own task
// queue and each worker enforces its share of the limit itself. The shares come from leases in PostgreSQL: every live
// worker holds a row it renews; its share is the limit divided by the live rows. A worker that joins takes no share
// until every other has renewed once since (they then count it), so the shares never add up to more than the limit;
// a worker that stops deletes its row, one that dies is dropped when its lease runs out (the others under-use the
// limit meanwhile, never over-use it). A worker that cannot renew its lease stops sending until it can.
import os from 'node:os';
import { Context } from '@temporalio/activity';
import type { DeliveryChannel } from '../domain';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';

export interface SendRate {
  /** Waits for a send slot on the channel; lower priority keys go first (critical 1, routine 3). `waiting` runs every few seconds meanwhile. */
  take(channel: DeliveryChannel, priorityKey: number, waiting?: () => void): Promise<void>;
  /** Sends per second this worker may start now on the channel. */
  share(channel: DeliveryChannel): number;
  /** Gives the share back: the other workers take it at their next renewal. */
  leave(): Promise<void>;
}

export interface SendRateOptions {
  db: Db;
  limits: Partial<Record<DeliveryChannel, number>>;
  logger: Logger;
  /** How often the lease is renewed (and the live workers counted); 5 s. */
  renewMs?: number;
  /** How long a lease lasts without renewal; 3 renewals. */
  leaseMs?: number;
}

const WAITING_EVERY_MS = 2_000;
/** The bucket holds a tenth of a second's sends (at least one): bursts stay small, as a provider's per-second limit wants. */
const BURST_SECONDS = 0.1;

/** Joins the lease table and starts renewing; the shares hold from the first renewal on. */
export async function joinSendRate(options: SendRateOptions): Promise<SendRate> {
  const { db, limits, logger } = options;
  const renewMs = options.renewMs ?? 5_000;
  const leaseMs = options.leaseMs ?? 3 * renewMs;
  const host = os.hostname();
  const workerId = `${host}:${process.pid}:${Date.now().toString(36)}`;
  const buckets = new Map<DeliveryChannel, PriorityBucket>();
  for (const [channel, limit] of Object.entries(limits) as Array<[DeliveryChannel, number]>) if (limit > 0) buckets.set(channel, new PriorityBucket(0));
  let leaseUntil = 0;
  // The share this worker may take once the others have seen it (0 until then, or while its lease is lost).
  let sharedBy = 1;
  let countedAt = 0;
  let stopped = false;

  const apply = () => {
    const usable = !stopped && Date.now() < leaseUntil && Date.now() >= countedAt;
    for (const [channel, bucket] of buckets) bucket.setRate(usable ? limits[channel]! / sharedBy : 0);
  };

  const renew = async (): Promise<void> => {
    try {
      const [, , rows] = await db.$transaction([
        db.$executeRaw`DELETE FROM "SendRateLease" WHERE "expiresAt" < now()`,
        db.$executeRaw`
          INSERT INTO "SendRateLease" ("workerId", "host", "pid", "expiresAt")
          VALUES (${workerId}, ${host}, ${process.pid}, now() + ${leaseMs} * interval '1 millisecond')
          ON CONFLICT ("workerId") DO UPDATE SET "expiresAt" = EXCLUDED."expiresAt"`,
        db.$queryRaw<Array<{ workerId: string; host: string; pid: number }>>`SELECT "workerId", "host", "pid" FROM "SendRateLease" WHERE "expiresAt" >= now()`,
      ]);
      // A worker of this host that is gone (killed before it could leave) needs no share: its row goes now.
      const gone = rows.filter((r) => r.workerId !== workerId && r.host === host && !processAlive(r.pid));
      if (gone.length > 0) await db.$executeRaw`DELETE FROM "SendRateLease" WHERE "workerId" = ANY(${gone.map((r) => r.workerId)})`;
      const live = rows.length - gone.length;
      // More workers than we counted: our share shrinks now. Fewer: it grows now too (they left or died).
      sharedBy = Math.max(1, live);
      leaseUntil = Date.now() + leaseMs - renewMs;
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'could not renew the send-rate lease; sending stops when it runs out');
    }
    apply();
  };

  // The first count: alone, the whole limit at once; with others, none until each has renewed and counted us.
  await renew();
  if (sharedBy > 1) countedAt = Date.now() + 2 * renewMs;
  apply();
  if (countedAt > Date.now()) setTimeout(apply, countedAt - Date.now()).unref();
  const timer = setInterval(() => void renew(), renewMs);
  timer.unref();
  logger.info({ workerId, workers: sharedBy, shares: Object.fromEntries([...buckets.keys()].map((c) => [c, limits[c]! / sharedBy])) }, 'send-rate lease taken');

  return {
    async take(channel, priorityKey, waiting) {
      const bucket = buckets.get(channel);
      if (bucket) await bucket.take(priorityKey, waiting);
    },
    share: (channel) => buckets.get(channel)?.rate ?? Infinity,
    async leave() {
      stopped = true;
      clearInterval(timer);
      apply();
      await db.$executeRaw`DELETE FROM "SendRateLease" WHERE "workerId" = ${workerId}`.catch(() => undefined);
    },
  };
}

/** Temporal's default priority key, for a send scheduled without one. */
const DEFAULT_PRIORITY_KEY = 3;

/**
 * Waits, inside a send activity, for the channel's slot at the activity's own priority. A long wait heartbeats (the
 * sends' heartbeat timeout is what finds a crashed worker; their start-to-close timeout leaves room for the wait).
 */
export async function sendSlot(sendRate: SendRate | undefined, channel: DeliveryChannel): Promise<void> {
  if (!sendRate) return;
  const context = Context.current();
  let waited = false;
  await sendRate.take(channel, context.info.priority?.priorityKey || DEFAULT_PRIORITY_KEY, () => {
    waited = true;
    context.heartbeat();
  });
  if (waited) context.heartbeat();
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Waiter {
  priorityKey: number;
  seq: number;
  resolve: () => void;
}

/** A token bucket whose waiters are served by priority key, then in arrival order. */
export class PriorityBucket {
  private tokens = 0;
  private last = Date.now();
  private readonly waiters: Waiter[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(public rate: number) {}

  private get capacity(): number {
    return Math.max(1, this.rate * BURST_SECONDS);
  }

  setRate(rate: number): void {
    this.refill();
    this.rate = rate;
    this.tokens = Math.min(this.tokens, this.capacity);
    this.drain();
  }

  async take(priorityKey: number, waiting?: () => void): Promise<void> {
    this.refill();
    if (this.waiters.length === 0 && this.tokens >= 1) {
      this.tokens--;
      return;
    }
    const ticker = waiting ? setInterval(waiting, WAITING_EVERY_MS) : undefined;
    try {
      await new Promise<void>((resolve) => {
        const waiter = { priorityKey, seq: this.seq++, resolve };
        const at = this.waiters.findIndex((w) => w.priorityKey > priorityKey);
        this.waiters.splice(at === -1 ? this.waiters.length : at, 0, waiter);
        this.drain();
      });
    } finally {
      if (ticker) clearInterval(ticker);
    }
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  private drain(): void {
    this.refill();
    while (this.waiters.length > 0 && this.tokens >= 1) {
      this.tokens--;
      this.waiters.shift()!.resolve();
    }
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.waiters.length > 0 && this.rate > 0) {
      this.timer = setTimeout(() => this.drain(), Math.max(1, Math.ceil(((1 - this.tokens) / this.rate) * 1000)));
    }
  }
}
