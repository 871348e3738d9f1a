// Delivery statistics, computed in PostgreSQL: one pass over the window's notifications per question,
// with GROUPING SETS so the totals, the groups and their time series come from the same scan.
//
// Definitions (a notification counts in the window when its createdAt is in [from, to)):
// - sent:       a provider accepted it (status sent, or a later receipt status: delivered, opened, clicked).
// - delivered:  of those, a delivery receipt came back (deliveredAt set, or status delivered/opened/clicked).
//               delivered is a subset of sent.
// - failed:     no provider took it (status failed).
// - suppressed: held back on purpose (status suppressed), broken down by suppressionReason.
// - pending:    still queued (no outcome yet).
//   total = sent + failed + suppressed + pending.
// - deliveryRate = sent / (sent + failed): of the notifications Herald tried to send and that have an
//   outcome, the share a provider accepted. Suppressed ones were never meant to go out and pending ones
//   have no outcome yet, so both are left out (pending ones would otherwise read as failures in the newest
//   bucket). null when sent + failed = 0.
// - failureRate  = failed / (sent + failed) = 1 - deliveryRate; null likewise.
// - latencyMs.accepted: from the order event's receivedAt (when the API stored it) to provider acceptance:
//   Notification.sentAt, or else the finishedAt of its first sent DeliveryAttempt. Over notifications
//   with an order event and an acceptance time.
// - latencyMs.delivered: from the same receivedAt to Notification.deliveredAt (the receipt), where one exists.
//   Percentiles are percentile_cont (linear interpolation), in milliseconds; null when count is 0.
// - provider (groupBy): the provider of the notification's first successful attempt, else of its last
//   attempt; null when it had no attempt (suppressed, or failed before sending).
// - failuresByReason: failed notifications by '<provider>: <errorCode>' of that last attempt, else by
//   failureReason (a failure before any attempt, such as a missing template); top 10.
import type { Db } from '../lib/db';
import { Prisma } from '../lib/db';
import type { StatsBucket, StatsGroupBy, StatsQuery } from './schemas';

const BUCKET_MS: Record<StatsBucket, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
/** Enough for hourly buckets over the longest range (90 days) or minutes over a day and a half. */
export const STATS_MAX_BUCKETS = 2_200;

/** The columns of `base` each grouping adds: fixed SQL, never built from the request. */
const GROUP_COLUMNS: Record<StatsGroupBy, Prisma.Sql[]> = {
  channel: [Prisma.sql`channel`],
  provider: [Prisma.sql`provider`],
  template: [Prisma.sql`"templateId"`, Prisma.sql`"templateVersion"`, Prisma.sql`"templateKey"`, Prisma.sql`"templateLocale"`],
  type: [Prisma.sql`type`],
  priority: [Prisma.sql`priority`],
};

const SENT = Prisma.sql`status IN ('sent', 'delivered', 'opened', 'clicked')`;
const DELIVERED = Prisma.sql`("deliveredAt" IS NOT NULL OR status IN ('delivered', 'opened', 'clicked'))`;

/** The window's notifications, one row each, with everything a statistic may group or measure by. */
function base(query: StatsQuery): Prisma.Sql {
  const bucketStart = query.bucket
    ? Prisma.sql`to_char(date_trunc(${query.bucket}, n."createdAt"), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`
    : Prisma.sql`NULL::text`;
  return Prisma.sql`
    base AS (
      SELECT n.status::text AS status, n.channel::text AS channel, n.type, n.priority::text AS priority,
        att.provider, n."templateId", n."templateVersion", t.key AS "templateKey", t.locale AS "templateLocale",
        n."suppressionReason", n."deliveredAt",
        CASE WHEN n.status = 'failed' THEN COALESCE(att.provider || ': ' || att."errorCode", n."failureReason", 'unknown') END AS "failureReason",
        (EXTRACT(EPOCH FROM COALESCE(n."sentAt", att."acceptedAt") - e."receivedAt") * 1000)::float8 AS "acceptedMs",
        (EXTRACT(EPOCH FROM n."deliveredAt" - e."receivedAt") * 1000)::float8 AS "deliveredMs",
        ${bucketStart} AS "bucketStart"
      FROM "Notification" n
      LEFT JOIN "OrderEvent" e ON e."eventId" = n."eventId"
      LEFT JOIN "Template" t ON t.id = n."templateId"
      -- The first successful attempt, else the last one.
      LEFT JOIN LATERAL (
        SELECT a.provider, a."errorCode", CASE WHEN a.status = 'sent' THEN a."finishedAt" END AS "acceptedAt"
        FROM "DeliveryAttempt" a
        WHERE a."notificationId" = n.id
        ORDER BY (a.status = 'sent') DESC, CASE WHEN a.status = 'sent' THEN a."finishedAt" END ASC NULLS LAST,
          a."startedAt" DESC, a."attemptNumber" DESC, a.id DESC
        LIMIT 1
      ) att ON true
      WHERE n."createdAt" >= ${query.from}::timestamptz AT TIME ZONE 'UTC'
        AND n."createdAt" < ${query.to}::timestamptz AT TIME ZONE 'UTC'
    )`;
}

interface CountsRow {
  total: number;
  sent: number;
  delivered: number;
  failed: number;
  suppressed: number;
  pending: number;
  acceptedCount: number;
  accepted: number[] | null;
  deliveredCount: number;
  deliveredPct: number[] | null;
}

type GroupColumns = {
  channel?: string | null;
  provider?: string | null;
  type?: string | null;
  priority?: string | null;
  templateId?: string | null;
  templateVersion?: number | null;
  templateKey?: string | null;
  templateLocale?: string | null;
};

/** Which grouping set a row came from: the totals (no group column) or a group; with or without its bucket. */
interface SetFlags {
  isTotal: boolean;
  bucketStart: string | null;
}

export interface Percentiles {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface Counts {
  total: number;
  sent: number;
  delivered: number;
  failed: number;
  suppressed: number;
  pending: number;
  deliveryRate: number | null;
  failureRate: number | null;
  latencyMs: { accepted: Percentiles; delivered: Percentiles };
}

export interface GroupStats extends Counts {
  suppressedByReason: Record<string, number>;
  failuresByReason: Array<{ reason: string; count: number }>;
  series?: Array<{ bucketStart: string } & Counts>;
}

export interface StatsResult {
  from: string;
  to: string;
  groupBy: StatsGroupBy[];
  bucket: StatsBucket | null;
  totals: GroupStats;
  groups: Array<{ key: Record<string, unknown> } & GroupStats>;
  /** Failed provider attempts of the window's notifications (retries and dead devices included), top 10. */
  attemptErrors: Array<{ reason: string; count: number }>;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

function percentiles(count: number, values: number[] | null): Percentiles {
  const [p50, p95, p99] = count > 0 && values ? values.map((v) => round(v, 1)) : [null, null, null];
  return { count, p50: p50 ?? null, p95: p95 ?? null, p99: p99 ?? null };
}

function countsOf(row: CountsRow | undefined): Counts {
  const r = row ?? { total: 0, sent: 0, delivered: 0, failed: 0, suppressed: 0, pending: 0, acceptedCount: 0, accepted: null, deliveredCount: 0, deliveredPct: null };
  const attempted = r.sent + r.failed;
  return {
    total: r.total,
    sent: r.sent,
    delivered: r.delivered,
    failed: r.failed,
    suppressed: r.suppressed,
    pending: r.pending,
    deliveryRate: attempted ? round(r.sent / attempted, 4) : null,
    failureRate: attempted ? round(r.failed / attempted, 4) : null,
    latencyMs: { accepted: percentiles(r.acceptedCount, r.accepted), delivered: percentiles(r.deliveredCount, r.deliveredPct) },
  };
}

function keyOf(groupBy: StatsGroupBy[], row: GroupColumns): Record<string, unknown> {
  const key: Record<string, unknown> = {};
  for (const g of groupBy) {
    if (g === 'template') {
      key.template = row.templateId
        ? { id: row.templateId, key: row.templateKey ?? null, locale: row.templateLocale ?? null, version: row.templateVersion ?? null }
        : null;
    } else {
      key[g] = row[g] ?? null;
    }
  }
  return key;
}

/** Every bucket start of the window, so a series has a point (zero) for buckets with no notification. */
export function bucketStarts(from: Date, to: Date, bucket: StatsBucket): string[] {
  const step = BUCKET_MS[bucket];
  // Buckets are UTC (the database session's time zone), so truncation is plain arithmetic.
  const first = Math.floor(from.getTime() / step) * step;
  const starts: string[] = [];
  for (let t = first; t < to.getTime(); t += step) starts.push(new Date(t).toISOString().replace('.000Z', 'Z'));
  return starts;
}

export async function computeStats(db: Db, query: StatsQuery): Promise<StatsResult> {
  const cols = query.groupBy.flatMap((g) => GROUP_COLUMNS[g]);
  const groupCols = Prisma.join(cols);
  // GROUPING(first column) is 1 in the sets without the group columns: the totals.
  const isTotal = Prisma.sql`GROUPING(${cols[0]!}) = 1 AS "isTotal"`;
  const sets = query.bucket
    ? Prisma.sql`GROUPING SETS ((${groupCols}), (), (${groupCols}, "bucketStart"), ("bucketStart"))`
    : Prisma.sql`GROUPING SETS ((${groupCols}), ())`;
  const bucketColumn = query.bucket
    ? Prisma.sql`CASE WHEN GROUPING("bucketStart") = 0 THEN "bucketStart" END AS "bucketStart"`
    : Prisma.sql`NULL::text AS "bucketStart"`;
  const cte = base(query);

  const countsSql = Prisma.sql`
    WITH ${cte}
    SELECT ${groupCols}, ${isTotal}, ${bucketColumn},
      count(*)::int AS total,
      (count(*) FILTER (WHERE ${SENT}))::int AS sent,
      (count(*) FILTER (WHERE ${DELIVERED}))::int AS delivered,
      (count(*) FILTER (WHERE status = 'failed'))::int AS failed,
      (count(*) FILTER (WHERE status = 'suppressed'))::int AS suppressed,
      (count(*) FILTER (WHERE status = 'queued'))::int AS pending,
      count("acceptedMs")::int AS "acceptedCount",
      percentile_cont(ARRAY[0.5, 0.95, 0.99]::float8[]) WITHIN GROUP (ORDER BY "acceptedMs") AS accepted,
      count("deliveredMs")::int AS "deliveredCount",
      percentile_cont(ARRAY[0.5, 0.95, 0.99]::float8[]) WITHIN GROUP (ORDER BY "deliveredMs") AS "deliveredPct"
    FROM base
    GROUP BY ${sets}`;

  const suppressedSql = Prisma.sql`
    WITH ${cte}
    SELECT ${groupCols}, ${isTotal}, "suppressionReason" AS reason, count(*)::int AS count
    FROM base WHERE status = 'suppressed'
    GROUP BY GROUPING SETS ((${groupCols}, "suppressionReason"), ("suppressionReason"))`;

  const failuresSql = Prisma.sql`
    WITH ${cte}, reasons AS (
      SELECT ${groupCols}, ${isTotal}, "failureReason" AS reason, count(*)::int AS count
      FROM base WHERE status = 'failed'
      GROUP BY GROUPING SETS ((${groupCols}, "failureReason"), ("failureReason"))
    )
    SELECT * FROM (
      SELECT *, row_number() OVER (PARTITION BY "isTotal", ${groupCols} ORDER BY count DESC, reason) AS rank FROM reasons
    ) ranked WHERE rank <= 10 ORDER BY count DESC, reason`;

  const attemptErrorsSql = Prisma.sql`
    SELECT a.provider || ': ' || COALESCE(a."errorCode", 'unknown') AS reason, count(*)::int AS count
    FROM "DeliveryAttempt" a JOIN "Notification" n ON n.id = a."notificationId"
    WHERE a.status = 'failed'
      AND n."createdAt" >= ${query.from}::timestamptz AT TIME ZONE 'UTC'
      AND n."createdAt" < ${query.to}::timestamptz AT TIME ZONE 'UTC'
    GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`;

  // One snapshot for all four, so the series always add up to the totals.
  const [counts, suppressed, failures, attemptErrors] = await db.$transaction(
    [
      db.$queryRaw<Array<GroupColumns & SetFlags & CountsRow>>(countsSql),
      db.$queryRaw<Array<GroupColumns & SetFlags & { reason: string | null; count: number }>>(suppressedSql),
      db.$queryRaw<Array<GroupColumns & SetFlags & { reason: string; count: number }>>(failuresSql),
      db.$queryRaw<Array<{ reason: string; count: number }>>(attemptErrorsSql),
    ],
    { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead },
  );

  const groupId = (row: GroupColumns & SetFlags) => (row.isTotal ? '' : JSON.stringify(keyOf(query.groupBy, row)));
  const stats = new Map<string, { key: Record<string, unknown>; row?: CountsRow; series: Map<string, CountsRow> }>();
  const entry = (row: GroupColumns & SetFlags) => {
    const id = groupId(row);
    let e = stats.get(id);
    if (!e) stats.set(id, (e = { key: row.isTotal ? {} : keyOf(query.groupBy, row), series: new Map() }));
    return e;
  };
  for (const row of counts) {
    if (row.bucketStart) entry(row).series.set(row.bucketStart, row);
    else entry(row).row = row;
  }
  const suppressedBy = new Map<string, Record<string, number>>();
  for (const row of suppressed) {
    const by = suppressedBy.get(groupId(row)) ?? {};
    by[row.reason ?? 'unknown'] = row.count;
    suppressedBy.set(groupId(row), by);
  }
  const failuresBy = new Map<string, Array<{ reason: string; count: number }>>();
  for (const row of failures) {
    const list = failuresBy.get(groupId(row)) ?? [];
    list.push({ reason: row.reason, count: row.count });
    failuresBy.set(groupId(row), list);
  }

  const starts = query.bucket ? bucketStarts(query.from, query.to, query.bucket) : [];
  const view = (id: string): GroupStats => {
    const e = stats.get(id);
    return {
      ...countsOf(e?.row),
      suppressedByReason: suppressedBy.get(id) ?? {},
      failuresByReason: failuresBy.get(id) ?? [],
      ...(query.bucket ? { series: starts.map((bucketStart) => ({ bucketStart, ...countsOf(e?.series.get(bucketStart)) })) } : {}),
    };
  };

  const groups = [...stats.entries()]
    .filter(([id]) => id !== '')
    .sort(([a, x], [b, y]) => (y.row?.total ?? 0) - (x.row?.total ?? 0) || a.localeCompare(b))
    .map(([id, e]) => ({ key: e.key, ...view(id) }));

  return {
    from: query.from.toISOString(),
    to: query.to.toISOString(),
    groupBy: query.groupBy,
    bucket: query.bucket,
    totals: view(''),
    groups,
    attemptErrors,
  };
}
