// The relay shared by the outboxes (order events, product events): stored rows Temporal has not taken yet are
// handed on, oldest first. A row that fails is tried again later with exponential backoff while the rest go on;
// rows of the same order (one workflow) wait behind it, so an order's events still reach its workflow in order.
// When Temporal itself does not answer, the pass stops without counting a try against any row (the next pass
// starts over from the oldest).
import type { Client } from '@temporalio/client';
import { Prisma, type Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import { errorReason } from '../lib/short-reason';

export type OutboxName = 'order_events' | 'product_events';

/** What the relay reads of every row. */
export interface OutboxRow {
  eventId: string;
  relayAttempts: number;
}

/** The first retry of a failed row waits this long, each next one twice as long, up to RELAY_BACKOFF_MAX_MS. */
export const RELAY_BACKOFF_BASE_MS = 2_000;
export const RELAY_BACKOFF_MAX_MS = 5 * 60_000;
/** A row that failed this many times counts as stuck on /metrics (herald_outbox_stuck_events). */
export const STUCK_AFTER_ATTEMPTS = 3;
const PROBE_DEADLINE_MS = 2_000;

export function relayBackoffMs(attempts: number): number {
  return Math.min(RELAY_BACKOFF_MAX_MS, RELAY_BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

export interface OutboxOptions<Row extends OutboxRow> {
  name: OutboxName;
  db: Db;
  temporal: Client;
  logger: Logger;
  /** The table (a constant of ours, never input) and which of its rows the relay still owes, as SQL over `alias`. */
  table: 'OrderEvent' | 'ProductEvent';
  pending: (alias: string) => Prisma.Sql;
  /** The column whose rows go to one workflow in order (`orderId`); none: every row is on its own. */
  sequenceColumn?: 'orderId';
  send: (row: Row) => Promise<void>;
  words: { done: string };
}

export interface OutboxRelay {
  /** One pass over what is due; answers how many rows went through. */
  relayPending(olderThanMs?: number, batch?: number): Promise<number>;
  /** Runs relayPending every `intervalMs`; the returned function stops it and waits for a pass under way. */
  startRelay(intervalMs?: number): () => Promise<void>;
}

export function createOutboxRelay<Row extends OutboxRow>(options: OutboxOptions<Row>): OutboxRelay {
  const { name, db, temporal, table, pending, sequenceColumn, send } = options;
  const log = options.logger.child({ outbox: name });
  const t = Prisma.raw(`"${table}"`);
  let temporalDown = false;

  /** Rows due now, oldest first: none waiting out a backoff, none behind an earlier row of its order that is. */
  function due(now: Date, olderThan: Date, batch: number): Promise<Row[]> {
    const behindWaiting = sequenceColumn
      ? Prisma.sql`AND NOT EXISTS (
          SELECT 1 FROM ${t} b WHERE b.${Prisma.raw(`"${sequenceColumn}"`)} = e.${Prisma.raw(`"${sequenceColumn}"`)} AND ${pending('b')}
            AND b."relayNextAttemptAt" > ${now} AND (b."receivedAt", b."eventId") < (e."receivedAt", e."eventId"))`
      : Prisma.empty;
    return db.$queryRaw<Row[]>`
      SELECT e.* FROM ${t} e
      WHERE ${pending('e')} AND e."receivedAt" < ${olderThan}
        AND (e."relayNextAttemptAt" IS NULL OR e."relayNextAttemptAt" <= ${now})
        ${behindWaiting}
      ORDER BY e."receivedAt", e."eventId" LIMIT ${batch}`;
  }

  /** Whether Temporal answers at all: tells "this row fails" from "every row would". */
  async function temporalAnswers(): Promise<boolean> {
    try {
      await temporal.withDeadline(Date.now() + PROBE_DEADLINE_MS, () => temporal.workflowService.getSystemInfo({}));
      return true;
    } catch {
      return false;
    }
  }

  async function recordFailure(row: Row, err: unknown): Promise<void> {
    const attempts = row.relayAttempts + 1;
    const nextAttemptAt = new Date(Date.now() + relayBackoffMs(attempts));
    const reason = errorReason(err);
    await db.$executeRaw`
      UPDATE ${t} SET "relayAttempts" = ${attempts}, "relayNextAttemptAt" = ${nextAttemptAt}, "relayLastError" = ${reason}
      WHERE "eventId" = ${row.eventId}`;
    metrics.outboxRelayFailures.inc({ outbox: name, reason: 'event' });
    // Once per try, and tries are a backoff apart: never a line per pass.
    log[attempts >= STUCK_AFTER_ATTEMPTS ? 'error' : 'warn'](
      { eventId: row.eventId, ...(sequenceColumn ? { [sequenceColumn]: (row as Record<string, unknown>)[sequenceColumn] } : {}), attempts, nextAttemptAt, reason },
      attempts >= STUCK_AFTER_ATTEMPTS ? 'outbox event keeps failing; later events of its order wait behind it' : 'outbox event failed; retrying after a backoff',
    );
  }

  /** The gauges: rows stuck past STUCK_AFTER_ATTEMPTS, and how long the oldest owed row has waited (database-wide). */
  async function observeBacklog(now: Date): Promise<void> {
    const [backlog] = await db.$queryRaw<Array<{ stuck: number; oldest: Date | null }>>`
      SELECT (count(*) FILTER (WHERE e."relayAttempts" >= ${STUCK_AFTER_ATTEMPTS}))::int AS stuck, min(e."receivedAt") AS oldest
      FROM ${t} e WHERE ${pending('e')}`;
    metrics.outboxStuckEvents.set({ outbox: name }, backlog?.stuck ?? 0);
    metrics.outboxOldestPendingSeconds.set({ outbox: name }, backlog?.oldest ? Math.max(0, (now.getTime() - backlog.oldest.getTime()) / 1000) : 0);
  }

  async function relayPending(olderThanMs = 2000, batch = 100): Promise<number> {
    const now = new Date();
    const rows = await due(now, new Date(now.getTime() - olderThanMs), batch);
    // Orders with a row that failed in this pass: their later rows wait for the next.
    const waiting = new Set<unknown>();
    let relayed = 0;
    for (const row of rows) {
      const sequence = sequenceColumn ? (row as Record<string, unknown>)[sequenceColumn] : undefined;
      if (sequence !== undefined && waiting.has(sequence)) continue;
      try {
        await send(row);
        relayed++;
      } catch (err) {
        if (!(await temporalAnswers())) {
          metrics.outboxRelayFailures.inc({ outbox: name, reason: 'temporal_unavailable' });
          if (!temporalDown) log.warn({ eventId: row.eventId, reason: errorReason(err) }, 'Temporal does not answer; the relay retries every pass without counting it against the events');
          temporalDown = true;
          break;
        }
        await recordFailure(row, err);
        if (sequence !== undefined) waiting.add(sequence);
        continue;
      }
      if (temporalDown) log.info('Temporal answers again; the relay goes on');
      temporalDown = false;
    }
    await observeBacklog(now);
    if (relayed) log.info({ relayed }, options.words.done);
    return relayed;
  }

  function startRelay(intervalMs = 2000): () => Promise<void> {
    let running: Promise<unknown> = Promise.resolve();
    const timer = setInterval(() => {
      running = running.then(() => relayPending().catch((err: unknown) => log.warn({ err }, 'relay pass failed')));
    }, intervalMs);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await running;
    };
  }

  return { relayPending, startRelay };
}
