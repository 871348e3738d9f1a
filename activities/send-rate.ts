// The providers' rate limits (HERALD_<CHANNEL>_RATE_LIMIT), held across every worker without a task-queue limit:
// Temporal's maxTaskQueueActivitiesPerSecond turns eager activity dispatch off, so sends run on the order's own task
// queue and each worker enforces its share of the limit itself, one slot per provider call (single sends, batches,
// product alerts, campaigns). The shares come from leases in PostgreSQL: every live worker holds a row it renews;
// its share is the limit divided by the live rows. A worker that joins takes no share until every other live row
// has renewed since it joined (their renewal counted it), so the shares never add up to more than the limit; a
// worker that stops deletes its row, one that dies is dropped when its lease runs out (the others under-use the limit
// meanwhile, never over-use it). A worker whose renewal fails or hangs stops sending at once: it cannot know whether
// the others counted a newcomer that its stale share would overlap; the share also drops to 0 when the lease runs out.
import fs from 'node:fs';
import os from 'node:os';
import { Context } from '@temporalio/activity';
import type { DeliveryChannel } from '../domain';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';

export interface SendRate {
  /**
   * Waits for a send slot on the channel; lower priority keys go first (critical 1, routine 3). `waiting` runs every
   * few seconds meanwhile. An aborted `signal` takes the waiter out of the queue and rejects with the signal's reason.
   */
  take(channel: DeliveryChannel, priorityKey: number, waiting?: () => void, signal?: AbortSignal): Promise<void>;
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
  /** This machine's identity, for dropping the rows of its dead processes (hostIdentity()); null: never dropped early. */
  hostId?: string | null;
}

const WAITING_EVERY_MS = 2_000;
/** The bucket holds a tenth of a second's sends (at least one): bursts stay small, as a provider's per-second limit wants. */
const BURST_SECONDS = 0.1;

/**
 * Who may judge a pid on this machine: the boot (/proc/sys/kernel/random/boot_id) and the pid namespace. Containers
 * that share a hostname but not a pid namespace get different identities, so none drops another's live row because
 * its pid means nothing here. Null when either cannot be read (not Linux, a locked-down /proc): no early drops then.
 */
export function hostIdentity(): string | null {
  try {
    const boot = fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const pidNamespace = fs.readlinkSync('/proc/self/ns/pid');
    return boot && pidNamespace ? `${boot}/${pidNamespace}` : null;
  } catch {
    return null;
  }
}

interface LeaseRow {
  workerId: string;
  host: string;
  pid: number;
  expiresAt: Date;
  joinedAt: Date;
}

/** Joins the lease table and starts renewing; the shares hold from the first renewal on. */
export async function joinSendRate(options: SendRateOptions): Promise<SendRate> {
  const { db, limits, logger } = options;
  const renewMs = options.renewMs ?? 5_000;
  const leaseMs = options.leaseMs ?? 3 * renewMs;
  // A renewal that takes longer than this is given up on (and its statement cancelled), well before the next one is due.
  const renewalBoundMs = Math.max(1, Math.floor(renewMs / 2));
  const hostId = options.hostId === undefined ? hostIdentity() : options.hostId;
  // Rows without an identity still need a host value: one no other process can match.
  const host = hostId ?? `unknown:${os.hostname()}:${process.pid}:${Date.now().toString(36)}`;
  const workerId = `${os.hostname()}:${process.pid}:${Date.now().toString(36)}`;
  const buckets = new Map<DeliveryChannel, PriorityBucket>();
  for (const [channel, limit] of Object.entries(limits) as Array<[DeliveryChannel, number]>) if (limit > 0) buckets.set(channel, new PriorityBucket(0));
  // This worker's local clock: until when its lease holds (0: not held, or a renewal failed).
  let leaseUntil = 0;
  let sharedBy = 1;
  // Whether every other live worker has renewed (so counted this one) since it joined; once true it stays true.
  let counted = false;
  let stopped = false;
  let renewing: Promise<void> | null = null;
  // The transaction of a renewal given up on, until PostgreSQL ends it: no other renewal starts meanwhile.
  let inFlight: Promise<unknown> | null = null;
  // The row is committed (a renewal succeeded), and then its joinedAt re-stamped by a later renewal: a time by which
  // the row was visible to every other worker's renewal (an insert's own now() precedes its commit).
  let rowCommitted = false;
  let joinSettled = false;
  let leaseTimer: NodeJS.Timeout | undefined;

  const apply = () => {
    const usable = !stopped && counted && Date.now() < leaseUntil;
    for (const [channel, bucket] of buckets) bucket.setRate(usable ? limits[channel]! / sharedBy : 0);
  };

  const renewOnce = async (): Promise<void> => {
    // Taken before the query: a slow answer shortens the lease rather than stretching it past the row's expiry.
    const startedAt = Date.now();
    let bound: NodeJS.Timeout | undefined;
    try {
      const settleJoin = rowCommitted && !joinSettled;
      const renewal = db.$transaction([
        // The statement timeout ends a renewal stuck in PostgreSQL (a lock, a slow disk); the race below a stuck pool.
        db.$executeRawUnsafe(`SET LOCAL statement_timeout = ${renewalBoundMs}`),
        db.$executeRaw`DELETE FROM "SendRateLease" WHERE "expiresAt" < now()`,
        db.$executeRaw`
          INSERT INTO "SendRateLease" ("workerId", "host", "pid", "expiresAt", "joinedAt")
          VALUES (${workerId}, ${host}, ${process.pid}, now() + ${leaseMs} * interval '1 millisecond', now())
          ON CONFLICT ("workerId") DO UPDATE SET "expiresAt" = EXCLUDED."expiresAt",
            "joinedAt" = CASE WHEN ${settleJoin}::boolean THEN now() ELSE "SendRateLease"."joinedAt" END`,
        db.$queryRaw<LeaseRow[]>`SELECT "workerId", "host", "pid", "expiresAt", "joinedAt" FROM "SendRateLease" WHERE "expiresAt" >= now()`,
      ]);
      const timedOut = new Promise<never>((_, reject) => {
        bound = setTimeout(() => reject(new Error(`the renewal took longer than ${renewalBoundMs} ms`)), renewalBoundMs);
      });
      const flight: Promise<unknown> = renewal.catch(() => undefined).finally(() => {
        if (inFlight === flight) inFlight = null;
      });
      inFlight = flight;
      const [, , , rows] = await Promise.race([renewal, timedOut]);
      // Answered: the next renewal may start (the timed-out case waits for PostgreSQL to end it).
      inFlight = null;
      rowCommitted = true;
      if (settleJoin) joinSettled = true;
      // A worker of this machine and pid namespace that is gone (killed before it could leave) needs no share: its row goes now.
      const gone = hostId === null ? [] : rows.filter((r) => r.workerId !== workerId && r.host === hostId && !processAlive(r.pid));
      // Not awaited: this count leaves them out already, and a slow delete must not hold up the renewals.
      if (gone.length > 0) db.$executeRaw`DELETE FROM "SendRateLease" WHERE "workerId" = ANY(${gone.map((r) => r.workerId)})`.catch(() => undefined);
      const others = rows.filter((r) => r.workerId !== workerId && !gone.includes(r));
      const mine = rows.find((r) => r.workerId === workerId);
      // Counted once each other live row's lease was renewed after this one joined (their renewal saw this row).
      if (mine && joinSettled && !counted) counted = others.every((r) => r.expiresAt.getTime() >= mine.joinedAt.getTime() + leaseMs);
      // More workers than we counted: our share shrinks now. Fewer: it grows now too (they left or died).
      sharedBy = 1 + others.length;
      leaseUntil = startedAt + leaseMs - renewMs;
    } catch (err) {
      // Unknown whether it committed: the others may count on a share this worker no longer knows. Stop until one succeeds.
      leaseUntil = 0;
      logger.warn({ err: (err as Error).message }, 'could not renew the send-rate lease; sending stops until a renewal succeeds');
    } finally {
      clearTimeout(bound);
    }
    apply();
    // The share ends with the lease even if the next renewal hangs.
    clearTimeout(leaseTimer);
    if (leaseUntil > Date.now()) {
      leaseTimer = setTimeout(apply, leaseUntil - Date.now());
      leaseTimer.unref();
    }
  };

  // One renewal at a time: one still running (its statement not yet cancelled) is not joined by another.
  const renew = (): Promise<void> => {
    if (stopped || inFlight) return Promise.resolve();
    renewing ??= renewOnce().finally(() => {
      renewing = null;
    });
    return renewing;
  };

  // The first count: alone, the whole limit at once; with others, none until each has renewed and counted us.
  // The first renewal inserts the row, the second stamps when it became visible (and counts the others at once when
  // there are none); a failed or hung one is carried on by the timer.
  await renew();
  await renew();
  const timer = setInterval(() => void renew(), renewMs);
  timer.unref();
  logger.info({ workerId, workers: sharedBy, counted, shares: Object.fromEntries([...buckets.keys()].map((c) => [c, counted ? limits[c]! / sharedBy : 0])) }, 'send-rate lease taken');

  return {
    async take(channel, priorityKey, waiting, signal) {
      const bucket = buckets.get(channel);
      if (bucket) await bucket.take(priorityKey, waiting, signal);
    },
    share: (channel) => buckets.get(channel)?.rate ?? Infinity,
    async leave() {
      stopped = true;
      clearInterval(timer);
      clearTimeout(leaseTimer);
      apply();
      await renewing?.catch(() => undefined);
      await inFlight;
      await db.$executeRaw`DELETE FROM "SendRateLease" WHERE "workerId" = ${workerId}`.catch(() => undefined);
    },
  };
}

/** Temporal's default priority key, for a send scheduled without one. */
const DEFAULT_PRIORITY_KEY = 3;

/**
 * Waits, inside a send activity, for the channel's slot at the activity's own priority. A long wait heartbeats (the
 * sends' heartbeat timeout is what finds a crashed worker; their start-to-close timeout leaves room for the wait).
 * An attempt cancelled meanwhile (Temporal gave up on it, delivered at a heartbeat) leaves the queue and throws: its
 * retry sends instead. Call it right before the provider call; throwIfCancelled() again if anything is awaited between.
 */
export async function sendSlot(sendRate: SendRate | undefined, channel: DeliveryChannel): Promise<void> {
  if (!sendRate) return;
  const context = Context.current();
  context.cancellationSignal.throwIfAborted();
  let waited = false;
  await Promise.race([
    sendRate.take(channel, context.info.priority?.priorityKey || DEFAULT_PRIORITY_KEY, () => {
      waited = true;
      context.heartbeat();
    }, context.cancellationSignal),
    context.cancelled,
  ]);
  if (waited) context.heartbeat();
  context.cancellationSignal.throwIfAborted();
}

/** Throws Temporal's cancellation when the attempt was given up on: a provider call now would duplicate its retry's. */
export function throwIfCancelled(): void {
  Context.current().cancellationSignal.throwIfAborted();
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

  async take(priorityKey: number, waiting?: () => void, signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    this.refill();
    if (this.waiters.length === 0 && this.tokens >= 1) {
      this.tokens--;
      return;
    }
    const ticker = waiting ? setInterval(waiting, WAITING_EVERY_MS) : undefined;
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const waiter = { priorityKey, seq: this.seq++, resolve };
        const at = this.waiters.findIndex((w) => w.priorityKey > priorityKey);
        this.waiters.splice(at === -1 ? this.waiters.length : at, 0, waiter);
        if (signal) {
          // Given up on: out of the queue, so the slot goes to the next waiter instead of a send nobody wants.
          onAbort = () => {
            const index = this.waiters.indexOf(waiter);
            if (index === -1) return;
            this.waiters.splice(index, 1);
            reject(signal.reason);
            this.drain();
          };
          signal.addEventListener('abort', onAbort, { once: true });
        }
        this.drain();
      });
    } finally {
      if (ticker) clearInterval(ticker);
      if (onAbort) signal!.removeEventListener('abort', onAbort);
    }
  }

  /** Sends waiting for a slot. */
  get waiting(): number {
    return this.waiters.length;
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
