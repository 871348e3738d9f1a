// The quarantine: rejected events kept to be fixed and replayed. Filters shared by the list and the bulk replay,
// the columns read from a canonical payload, and the replay of one row through the same validation again.
import { isOrderStatus, notificationKindFor } from '../domain';
import type { Db } from '../lib/db';
import { Prisma } from '../lib/db';
import { metrics } from '../lib/metrics';
import { HttpError, type FieldError } from './errors';
import type { AcceptedEvent } from './intake';
import type { RejectionReason } from './sources/rejections';

export const QUARANTINE_STATES = ['open', 'replayed', 'discarded'] as const;
export type QuarantineState = (typeof QUARANTINE_STATES)[number];

export type RejectedRow = Prisma.RejectedEventGetPayload<object>;

/** What the list and the bulk replay filter by; every one optional. */
export interface RejectedFilter {
  state?: QuarantineState;
  /** The configured source, or the `source` field of an event of POST /v1/order-events. */
  source?: string;
  reason?: RejectionReason;
  /** The status as sent (it may be the invalid word). */
  orderStatus?: string;
  critical?: boolean;
  /** receivedAt at or after `from`, before `to`. */
  from?: Date;
  to?: Date;
}

export function filterWhere(f: RejectedFilter): Prisma.RejectedEventWhereInput {
  const and: Prisma.RejectedEventWhereInput[] = [];
  if (f.state) and.push({ state: f.state });
  if (f.source !== undefined) and.push({ OR: [{ sourceId: f.source }, { sourceId: null, source: f.source }] });
  if (f.reason) and.push({ reason: f.reason });
  if (f.orderStatus !== undefined) and.push({ status: f.orderStatus });
  if (f.critical !== undefined) and.push({ critical: f.critical });
  if (f.from || f.to) and.push({ receivedAt: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lt: f.to } : {}) } });
  return { AND: and };
}

/** The columns a canonical payload fills (ids cut to 200 characters): what the list shows and filters by. */
export function rejectedColumns(payload: unknown): Pick<RejectedRow, 'source' | 'eventId' | 'orderId' | 'status' | 'critical'> {
  const body = (payload && typeof payload === 'object' && !Array.isArray(payload) ? payload : {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : null);
  return {
    source: text(body.source),
    eventId: text(body.eventId),
    orderId: text(body.orderId),
    status: text(body.status),
    // Critical statuses are surfaced first to whoever fixes rejected events.
    critical: isOrderStatus(body.status) && notificationKindFor(body.status).priority === 'critical',
  };
}

/** What intake made of a replayed payload: the shape of the sources pipeline's IngestOutcome, without a new rejected event. */
export type ReplayOutcome =
  | { outcome: 'accepted'; accepted: AcceptedEvent }
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'rejected'; code: string; message: string; fields: FieldError[]; reason: RejectionReason };

/** Sends a row's payload through intake again. */
export type ReplayIngest = (row: RejectedRow) => Promise<ReplayOutcome>;

/** A replay of a row that is not open: 409 naming its state. */
export function notOpen(row: RejectedRow): HttpError {
  return row.state === 'replayed'
    ? new HttpError(409, 'already_replayed', `rejected event ${row.id} was replayed already (as event ${row.replayedEventId ?? 'unknown'}); nothing is sent twice`)
    : new HttpError(409, 'rejected_event_discarded', `rejected event ${row.id} is discarded: PATCH its state to open to replay it`);
}

/**
 * Replays one open row and records the outcome: accepted or ignored, it is `replayed`; refused again, it stays
 * open with the new errors and reason. Either way its replay count and time move. A row that is not open is a 409.
 */
export async function replayRejected(db: Db, ingest: ReplayIngest, row: RejectedRow): Promise<{ result: ReplayOutcome; row: RejectedRow }> {
  if (row.state !== 'open') throw notOpen(row);
  const result = await ingest(row);
  metrics.rejectedEventReplays.inc({ outcome: result.outcome });
  const at = new Date();
  const replay = { lastReplayAt: at, updatedAt: at, replayCount: { increment: 1 } };
  if (result.outcome === 'rejected') {
    await db.rejectedEvent.updateMany({
      where: { id: row.id, state: 'open' },
      data: { ...replay, errors: result.fields as Prisma.InputJsonValue, reason: result.reason },
    });
  } else {
    await db.rejectedEvent.updateMany({
      where: { id: row.id, state: 'open' },
      data: { ...replay, state: 'replayed', replayedAt: at, replayedEventId: result.outcome === 'accepted' ? result.accepted.eventId : null },
    });
  }
  return { result, row: await db.rejectedEvent.findUniqueOrThrow({ where: { id: row.id } }) };
}

/** The most rows one bulk replay takes. */
export const BULK_REPLAY_MAX = 1000;
const BULK_BATCH = 50;

/**
 * Open rows due for a replay: never replayed, or changed (fixed) since their last replay, or last replayed before
 * `retryBefore` (to try unchanged ones again after their source's validation changed). A row replayed by this call
 * is no longer due, so calling again goes on where the last call stopped.
 */
function dueWhere(db: Db, filter: RejectedFilter, retryBefore: Date | null): Prisma.RejectedEventWhereInput {
  const due: Prisma.RejectedEventWhereInput[] = [{ lastReplayAt: null }, { updatedAt: { gt: db.rejectedEvent.fields.lastReplayAt } }];
  if (retryBefore) due.push({ lastReplayAt: { lt: retryBefore } });
  return { AND: [filterWhere({ ...filter, state: 'open' }), { OR: due }] };
}

export interface BulkReplayCounts {
  replayed: number;
  rejected: number;
  ignored: number;
  remaining: number;
}

/** Replays up to `limit` due rows matching the filter, oldest first (an order's events in the order they came). */
export async function bulkReplay(db: Db, ingest: ReplayIngest, filter: RejectedFilter, options: { limit: number; retryRejectedBefore?: Date }): Promise<BulkReplayCounts> {
  const started = new Date();
  // Never later than this call's start: the rows it replays must not be due again.
  const retryBefore = options.retryRejectedBefore ? new Date(Math.min(options.retryRejectedBefore.getTime(), started.getTime())) : null;
  const where = dueWhere(db, filter, retryBefore);
  const counts = { replayed: 0, rejected: 0, ignored: 0 };
  let after: { receivedAt: Date; id: string } | null = null;
  let left = options.limit;
  while (left > 0) {
    const position: Prisma.RejectedEventWhereInput = after
      ? { OR: [{ receivedAt: { gt: after.receivedAt } }, { receivedAt: after.receivedAt, id: { gt: after.id } }] }
      : {};
    const rows: RejectedRow[] = await db.rejectedEvent.findMany({ where: { AND: [where, position] }, orderBy: [{ receivedAt: 'asc' }, { id: 'asc' }], take: Math.min(BULK_BATCH, left) });
    if (!rows.length) break;
    for (const row of rows) {
      const { result } = await replayRejected(db, ingest, row);
      if (result.outcome === 'accepted') counts.replayed++;
      else if (result.outcome === 'ignored') counts.ignored++;
      else counts.rejected++;
    }
    left -= rows.length;
    const last = rows[rows.length - 1]!;
    after = { receivedAt: last.receivedAt, id: last.id };
  }
  return { ...counts, remaining: await db.rejectedEvent.count({ where }) };
}
