// The relay shared by the outboxes (order events, product events, receipts, cart events, the carts an order owes
// a signal): stored rows Temporal has not taken yet are handed on, oldest first. A row that fails is tried again
// later with exponential backoff while the rest go on; rows of the same workflow (an order, a cart) wait behind
// it, so a workflow still gets them in order. When Temporal itself does not answer, the pass stops without
// counting a try against any row (the next pass starts over from the oldest).
import type { Client } from '@temporalio/client';
import { Prisma, type Db } from './db';
import type { Logger } from './logger';
import { metrics } from './metrics';
import { errorReason } from './short-reason';

/** The outboxes, and the `outbox` label of the herald_outbox_* metrics. */
/** Every outbox, as it labels its metrics. */
export const OUTBOX_NAMES = ['order_events', 'product_events', 'receipts', 'cart_events', 'cart_orders'] as const;
export type OutboxName = (typeof OUTBOX_NAMES)[number];

/** The first retry of a failed row waits this long, each next one twice as long, up to RELAY_BACKOFF_MAX_MS. */
export const RELAY_BACKOFF_BASE_MS = 2_000;
export const RELAY_BACKOFF_MAX_MS = 5 * 60_000;
/** A row that failed this many times counts as stuck on /metrics (herald_outbox_stuck_events). */
export const STUCK_AFTER_ATTEMPTS = 3;
const PROBE_DEADLINE_MS = 2_000;

/** How long one relay pass goes on before it leaves the rest to the next. */
export const RELAY_PASS_BUDGET_MS = 15_000;

/**
 * Runs `pass` every `intervalMs`, never two at once: a tick that comes while a pass still runs is skipped, not queued
 * (queued passes would run back to back after a slow one). The returned function stops it and waits for a pass under way.
 */
export function repeatRelay(pass: () => Promise<unknown>, intervalMs: number, log: Logger): () => Promise<void> {
  let running: Promise<unknown> | null = null;
  const timer = setInterval(() => {
    if (running) return;
    running = pass()
      .catch((err: unknown) => log.warn({ err }, 'relay pass failed'))
      .finally(() => (running = null));
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}

export function relayBackoffMs(attempts: number): number {
  return Math.min(RELAY_BACKOFF_MAX_MS, RELAY_BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

/**
 * Where a row keeps the relay's tries, its next one and why the last failed. OrderEvent carries two outboxes
 * (its order's signal and its carts'), each with columns of its own: a cart refusing the order must not hold the
 * order's own events, nor the other way round.
 */
const BOOKKEEPING = {
  relay: { attempts: 'relayAttempts', nextAttemptAt: 'relayNextAttemptAt', lastError: 'relayLastError' },
  cartRelay: { attempts: 'cartRelayAttempts', nextAttemptAt: 'cartRelayNextAttemptAt', lastError: 'cartRelayLastError' },
} as const;

/** What one workflow's rows share: they go in order, and wait behind one of theirs that failed. */
const SEQUENCE_NOUN = { orderId: 'order', cartId: 'cart' } as const;

export interface OutboxOptions<Row> {
  name: OutboxName;
  db: Db;
  temporal: Client;
  logger: Logger;
  /** The table (a constant of ours, never input) and which of its rows the relay still owes, as SQL over `alias`. */
  table: 'OrderEvent' | 'ProductEvent' | 'NotificationReceipt' | 'CartEvent';
  pending: (alias: string) => Prisma.Sql;
  /** The table's key column: `eventId` unless said. */
  key?: 'eventId' | 'id';
  /** The bookkeeping columns: `relay` (relayAttempts, ...) unless said. */
  bookkeeping?: keyof typeof BOOKKEEPING;
  /**
   * The workflow a row goes to, whose rows are kept in order: a column of the table (`orderId`, `cartId`), or
   * `of`, SQL over `alias` that finds it (a receipt's order, through its notification). None: each row on its own.
   */
  sequence?: { name: keyof typeof SEQUENCE_NOUN; of?: (alias: string) => Prisma.Sql };
  /** The columns `send` reads, as SQL over `alias`: every column of the table unless said. */
  select?: (alias: string) => Prisma.Sql;
  send: (row: Row) => Promise<void>;
  /**
   * Rows this process is handing on itself right now (intake's signalling pool, by key and by workflow): a pass leaves
   * them, and the later rows of their workflow, to it, so the two never signal one workflow's rows out of order.
   */
  inHand?: { key(key: string): boolean; sequence?(sequence: string): boolean };
  /** After each pass: how many rows the outbox still owes (database-wide). */
  observed?: (backlog: { pending: number }) => void;
  words: { done: string };
}

export interface OutboxRelay {
  /** One pass over what is due; answers how many rows went through. */
  relayPending(olderThanMs?: number, batch?: number): Promise<number>;
  /** Runs relayPending every `intervalMs`; the returned function stops it and waits for a pass under way. */
  startRelay(intervalMs?: number): () => Promise<void>;
}

/** What the relay reads of every row, next to the caller's columns. */
interface Tracked {
  outboxKey: string;
  outboxAttempts: number;
  outboxSequence: string | null;
}

export function createOutboxRelay<Row>(options: OutboxOptions<Row>): OutboxRelay {
  const { name, db, temporal, table, pending, sequence, send } = options;
  const log = options.logger.child({ outbox: name });
  const t = Prisma.raw(`"${table}"`);
  const key = options.key ?? 'eventId';
  const column = (alias: string, c: string) => Prisma.raw(`${alias}."${c}"`);
  const { attempts, nextAttemptAt, lastError } = BOOKKEEPING[options.bookkeeping ?? 'relay'];
  const sequenceOf = (alias: string) => (sequence ? (sequence.of?.(alias) ?? column(alias, sequence.name)) : Prisma.sql`NULL::text`);
  const select = options.select ?? ((alias: string) => Prisma.raw(`${alias}.*`));
  let temporalDown = false;

  /** Rows due now, oldest first: none waiting out a backoff, none behind an earlier row of its workflow that is. */
  function due(now: Date, olderThan: Date, batch: number): Promise<Array<Row & Tracked>> {
    const behindWaiting = sequence
      ? Prisma.sql`AND NOT EXISTS (
          SELECT 1 FROM ${t} b WHERE ${sequenceOf('b')} = ${sequenceOf('e')} AND ${pending('b')}
            AND ${column('b', nextAttemptAt)} > ${now} AND (b."receivedAt", ${column('b', key)}) < (e."receivedAt", ${column('e', key)}))`
      : Prisma.empty;
    return db.$queryRaw<Array<Row & Tracked>>`
      SELECT ${select('e')}, ${column('e', key)} AS "outboxKey", ${column('e', attempts)} AS "outboxAttempts", ${sequenceOf('e')} AS "outboxSequence"
      FROM ${t} e
      WHERE ${pending('e')} AND e."receivedAt" < ${olderThan}
        AND (${column('e', nextAttemptAt)} IS NULL OR ${column('e', nextAttemptAt)} <= ${now})
        ${behindWaiting}
      ORDER BY e."receivedAt", ${column('e', key)} LIMIT ${batch}`;
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

  async function recordFailure(row: Tracked, err: unknown): Promise<void> {
    const tries = row.outboxAttempts + 1;
    const next = new Date(Date.now() + relayBackoffMs(tries));
    const reason = errorReason(err);
    await db.$executeRaw`
      UPDATE ${t} SET ${Prisma.raw(`"${attempts}"`)} = ${tries}, ${Prisma.raw(`"${nextAttemptAt}"`)} = ${next}, ${Prisma.raw(`"${lastError}"`)} = ${reason}
      WHERE ${Prisma.raw(`"${key}"`)} = ${row.outboxKey}`;
    metrics.outboxRelayFailures.inc({ outbox: name, reason: 'event' });
    const stuck = tries >= STUCK_AFTER_ATTEMPTS;
    // Once per try, and tries are a backoff apart: never a line per pass.
    log[stuck ? 'error' : 'warn'](
      { [key]: row.outboxKey, ...(sequence ? { [sequence.name]: row.outboxSequence } : {}), attempts: tries, nextAttemptAt: next, reason },
      stuck
        ? `outbox row keeps failing; ${sequence ? `later rows of its ${SEQUENCE_NOUN[sequence.name]} wait behind it` : 'the others go on'}`
        : 'outbox row failed; retrying after a backoff',
    );
  }

  /** The gauges: rows stuck past STUCK_AFTER_ATTEMPTS, and how long the oldest owed row has waited (database-wide). */
  async function observeBacklog(now: Date): Promise<void> {
    const [backlog] = await db.$queryRaw<Array<{ pending: number; stuck: number; oldest: Date | null }>>`
      SELECT count(*)::int AS pending, (count(*) FILTER (WHERE ${column('e', attempts)} >= ${STUCK_AFTER_ATTEMPTS}))::int AS stuck, min(e."receivedAt") AS oldest
      FROM ${t} e WHERE ${pending('e')}`;
    options.observed?.({ pending: backlog?.pending ?? 0 });
    metrics.outboxStuckEvents.set({ outbox: name }, backlog?.stuck ?? 0);
    metrics.outboxOldestPendingSeconds.set({ outbox: name }, backlog?.oldest ? Math.max(0, (now.getTime() - backlog.oldest.getTime()) / 1000) : 0);
  }

  async function relayPending(olderThanMs = 2000, batch = 100): Promise<number> {
    const now = new Date();
    const rows = await due(now, new Date(now.getTime() - olderThanMs), batch);
    // Workflows with a row that failed in this pass: their later rows wait for the next.
    const waiting = new Set<string>();
    let relayed = 0;
    for (const row of rows) {
      // A pass of slow failures (each up to a signal deadline and a probe) must not hold the relay for minutes: the next
      // pass picks up where this one stopped, with the failed rows backed off behind the others.
      if (Date.now() - now.getTime() > RELAY_PASS_BUDGET_MS) break;
      const workflow = row.outboxSequence;
      if (workflow !== null && waiting.has(workflow)) continue;
      if (options.inHand?.key(row.outboxKey) || (workflow !== null && options.inHand?.sequence?.(workflow))) {
        if (workflow !== null) waiting.add(workflow);
        continue;
      }
      try {
        await send(row);
        relayed++;
      } catch (err) {
        if (!(await temporalAnswers())) {
          metrics.outboxRelayFailures.inc({ outbox: name, reason: 'temporal_unavailable' });
          if (!temporalDown) log.warn({ [key]: row.outboxKey, reason: errorReason(err) }, 'Temporal does not answer; the relay retries every pass without counting it against the rows');
          temporalDown = true;
          break;
        }
        await recordFailure(row, err);
        if (workflow !== null) waiting.add(workflow);
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
    return repeatRelay(relayPending, intervalMs, log);
  }

  return { relayPending, startRelay };
}
