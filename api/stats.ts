// Delivery statistics, computed in PostgreSQL: one pass over the window's notifications per question,
// with GROUPING SETS so the totals, the groups and their time series come from the same scan.
//
// Definitions (a notification counts in the window when its createdAt is in [from, to)):
// - sent:       a provider accepted it (status sent, or a later receipt status: delivered, opened, clicked).
//               Shown as "Accepted by provider": acceptance is not delivery.
// - delivered:  of those, a delivery receipt came back (deliveredAt set, or status delivered/opened/clicked).
//               delivered is a subset of sent. Shown as "Delivered (receipt)".
// - failed:     no provider took it (status failed).
// - suppressed: held back on purpose (status suppressed), broken down by suppressionReason.
// - pending:    still queued (no outcome yet).
//   total = sent + failed + suppressed + pending.
// - acceptedRate = sent / (sent + failed): of the notifications Herald tried to send and that have an
//   outcome, the share a provider accepted. Suppressed ones were never meant to go out and pending ones
//   have no outcome yet, so both are left out (pending ones would otherwise read as failures in the newest
//   bucket). null when sent + failed = 0. deliveryRate is the same number under its old name (kept for
//   compatibility): it says nothing about delivery.
// - receiptRate = delivered / sent: of what a provider accepted, the share a delivery receipt confirmed.
//   null when sent = 0. Channels without receipts (push today) read low here, not as delivered.
// - failureRate  = failed / (sent + failed) = 1 - acceptedRate; null likewise.
// - Engagement, from the notification's receipts (NotificationReceipt; RECEIPT_TYPES in domain/receipts.ts), each
//   notification counted once however many receipts of a kind it has:
//     - opened:     of the sent ones, those with an `opened` or a `clicked` receipt (a click is an open whose pixel
//                   the mail client did not load). openRate = opened / sent.
//     - clicked:    of the sent ones, those with a `clicked` receipt. clickRate = clicked / sent.
//     - bounced:    those with a hard bounce (a `bounced` receipt not marked `bounceType: soft`; a soft bounce is the
//                   provider still trying). A hard bounce fails its notification, so the denominator of bounceRate and
//                   complaintRate is `reached`: the sent ones plus the bounced ones. bounceRate = bounced / reached.
//     - complained: those with a `complained` receipt (a spam report). complaintRate = complained / reached.
//   All null when their denominator is 0. Sent, not delivered, is the denominator: email has no delivery receipt
//   over SMTP, so most email would otherwise have none. There is no unsubscribe receipt type: unsubscribes are not
//   counted (complaints opt the customer out of marketing email and are counted).
// - topTemplatesByClickRate: templates (a version in a locale) with at least one sent notification in the window,
//   by clickRate, then clicks, then sent; top 10.
// - latencyMs.accepted: pipeline latency, from when the notification was free to go to provider
//   acceptance (Notification.sentAt, or else the finishedAt of its first sent DeliveryAttempt). Free to go:
//     - a notification held on purpose (holdReason/heldUntil: quiet hours, a digest window): heldUntil;
//     - else a backup step of the channel plan (planStep > 0, created when its step began, after the
//       step before it failed or its receipt deadline passed): its own createdAt;
//     - else a campaign's message (campaignId): its createdAt, when its batch recorded it, due;
//     - else the order event's receivedAt (when the API stored it).
//   Deliberate waits are therefore not latency; they are reported on their own (deliberateWaits).
//   A notification that went before its heldUntil counts 0, not a negative time. Over notifications with
//   a start and an acceptance time.
// - latencyMs.delivered: from the same start to Notification.deliveredAt (the receipt), where one exists.
//   Percentiles are percentile_cont (linear interpolation), in milliseconds; null when count is 0.
// - deliberateWaits: the waits Herald makes on purpose, per kind and reason, with count, p50, p95 and max:
//     - held (quiet_hours, digest): heldUntil - createdAt, of notifications with a hold;
//     - backup (by escalationReason): a backup's createdAt - the createdAt of the earliest step-0
//       notification of its order event (else the event's receivedAt): the receipt deadline or the wait for
//       the step before to fail. Cumulative: a second backup's wait includes the first's.
// - campaign (groupBy): the campaign (key campaignId, null for other notifications); variant: the experiment and
//   its variant (keys experimentId and variant, null outside experiments).
// - provider (groupBy): the provider of the notification's first successful attempt, else of its last
//   attempt; null when it had no attempt, and then `noAttempt` says why: suppressed (never meant to go),
//   failed_before_attempt (such as a missing template), pending (not tried yet) or direct (written without
//   a provider: the inbox). Each group key with provider has providerLabel, the words to show.
// - failuresByReason: failed notifications by '<provider>: <errorCode>' of that last attempt, else by
//   failureReason (a failure before any attempt, such as a missing template); top 10. Each reason has a
//   label (domain/reasons.ts); suppressionReasons is suppressedByReason as a list with labels.
// - bucket=auto: the bucket fits the data: minute when the window's first notification is at most 3 hours
//   before `to`, hour up to 7 days, else day; the series then starts at the bucket of that first
//   notification, or 15 buckets before `to` when that is earlier, never before `from` (seriesFrom): recent
//   data is not squeezed against the right edge of an empty window, nor one lone bar.
import { BACKUP_LABELS, HOLD_LABELS, reasonLabel } from '../domain/reasons';
import type { Db } from '../lib/db';
import { Prisma } from '../lib/db';
import type { StatsBucket, StatsGroupBy, StatsQuery } from './schemas';

type Bucket = Exclude<StatsBucket, 'auto'>;
const BUCKET_MS: Record<Bucket, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 };
/** Enough for hourly buckets over the longest range (90 days) or minutes over a day and a half. */
export const STATS_MAX_BUCKETS = 2_200;
/** bucket=auto: the finest bucket whose span (first notification to `to`) stays within these. */
const AUTO_SPANS: Array<[Bucket, number]> = [
  ['minute', 3 * 3_600_000],
  ['hour', 7 * 86_400_000],
];

/** bucket=auto shows at least this many buckets (of the window), so a minute of data is not one lone bar. */
const AUTO_MIN_BUCKETS = 15;

/** The columns of `base` each grouping adds: fixed SQL, never built from the request. */
const GROUP_COLUMNS: Record<StatsGroupBy, Prisma.Sql[]> = {
  channel: [Prisma.sql`channel`],
  provider: [Prisma.sql`provider`, Prisma.sql`"noAttempt"`],
  template: [Prisma.sql`"templateId"`, Prisma.sql`"templateVersion"`, Prisma.sql`"templateKey"`, Prisma.sql`"templateLocale"`],
  type: [Prisma.sql`type`],
  priority: [Prisma.sql`priority`],
  campaign: [Prisma.sql`"campaignId"`],
  variant: [Prisma.sql`"experimentId"`, Prisma.sql`variant`],
};

const SENT = Prisma.sql`status IN ('sent', 'delivered', 'opened', 'clicked')`;
const DELIVERED = Prisma.sql`("deliveredAt" IS NOT NULL OR status IN ('delivered', 'opened', 'clicked'))`;

/** Why a group has no provider: the notifications of it never had a delivery attempt. */
export const NO_ATTEMPT_LABELS: Readonly<Record<string, string>> = {
  suppressed: 'Not sent (suppressed): no provider was asked',
  failed_before_attempt: 'Failed before any provider attempt',
  pending: 'Not attempted yet (pending)',
  direct: 'No provider (written directly: the inbox)',
};

const windowOf = (query: StatsQuery, column: Prisma.Sql) => Prisma.sql`
  ${column} >= ${query.from}::timestamptz AT TIME ZONE 'UTC' AND ${column} < ${query.to}::timestamptz AT TIME ZONE 'UTC'`;

/** Milliseconds from start to end, never negative; null when either is missing (GREATEST alone would make that 0). */
const elapsedMs = (start: Prisma.Sql, end: Prisma.Sql) =>
  Prisma.sql`(CASE WHEN ${end} IS NOT NULL AND ${start} IS NOT NULL THEN GREATEST(EXTRACT(EPOCH FROM ${end} - ${start}) * 1000, 0) END)::float8`;

/** The window's notifications, one row each, with everything a statistic may group or measure by. */
function base(query: StatsQuery, bucket: Bucket | null): Prisma.Sql {
  const bucketStart = bucket
    ? Prisma.sql`to_char(date_trunc(${bucket}, n."createdAt"), 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`
    : Prisma.sql`NULL::text`;
  // When the notification was free to go (see the definitions above): deliberate waits are not latency.
  const start = Prisma.sql`CASE WHEN n."heldUntil" IS NOT NULL THEN n."heldUntil" WHEN n."planStep" > 0 OR n."campaignId" IS NOT NULL THEN n."createdAt" ELSE e."receivedAt" END`;
  return Prisma.sql`
    base AS (
      SELECT n.status::text AS status, n.channel::text AS channel, n.type, n.priority::text AS priority,
        att.provider,
        CASE WHEN att.provider IS NULL THEN
          CASE WHEN n.status = 'suppressed' THEN 'suppressed' WHEN n.status = 'failed' THEN 'failed_before_attempt'
               WHEN n.status = 'queued' THEN 'pending' ELSE 'direct' END
        END AS "noAttempt",
        n."templateId", n."templateVersion", t.key AS "templateKey", t.locale AS "templateLocale",
        n."suppressionReason", n."deliveredAt", n."campaignId", n."experimentId", n.variant,
        (COALESCE(rc.opened, false) OR n."openedAt" IS NOT NULL) AS opened,
        (COALESCE(rc.clicked, false) OR n."clickedAt" IS NOT NULL) AS clicked,
        COALESCE(rc.bounced, false) AS bounced, COALESCE(rc.complained, false) AS complained,
        CASE WHEN n.status = 'failed' THEN COALESCE(att.provider || ': ' || att."errorCode", n."failureReason", 'unknown') END AS "failureReason",
        ${elapsedMs(start, Prisma.sql`COALESCE(n."sentAt", att."acceptedAt")`)} AS "acceptedMs",
        ${elapsedMs(start, Prisma.sql`n."deliveredAt"`)} AS "deliveredMs",
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
      LEFT JOIN LATERAL (
        SELECT bool_or(r.type IN ('opened', 'clicked')) AS opened, bool_or(r.type = 'clicked') AS clicked,
          bool_or(r.type = 'bounced' AND COALESCE(r.detail->>'bounceType', 'hard') <> 'soft') AS bounced,
          bool_or(r.type = 'complained') AS complained
        FROM "NotificationReceipt" r WHERE r."notificationId" = n.id
      ) rc ON true
      WHERE ${windowOf(query, Prisma.sql`n."createdAt"`)}
    )`;
}

interface CountsRow {
  total: number;
  sent: number;
  delivered: number;
  failed: number;
  suppressed: number;
  pending: number;
  opened: number;
  clicked: number;
  bounced: number;
  complained: number;
  reached: number;
  acceptedCount: number;
  accepted: number[] | null;
  deliveredCount: number;
  deliveredPct: number[] | null;
}

type GroupColumns = {
  channel?: string | null;
  provider?: string | null;
  noAttempt?: string | null;
  type?: string | null;
  priority?: string | null;
  templateId?: string | null;
  templateVersion?: number | null;
  templateKey?: string | null;
  templateLocale?: string | null;
  campaignId?: string | null;
  experimentId?: string | null;
  variant?: string | null;
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
  /** sent / (sent + failed): the share a provider accepted ("Accepted by provider"). */
  acceptedRate: number | null;
  /** delivered / sent: of what a provider accepted, the share a receipt confirmed ("Delivered (receipt)"). */
  receiptRate: number | null;
  /** Kept for compatibility: acceptedRate under its old, misleading name. */
  deliveryRate: number | null;
  failureRate: number | null;
  /** Of the sent ones: with an opened or clicked receipt. */
  opened: number;
  /** Of the sent ones: with a clicked receipt. */
  clicked: number;
  /** Hard-bounced. */
  bounced: number;
  /** With a spam complaint. */
  complained: number;
  /** opened / sent. */
  openRate: number | null;
  /** clicked / sent. */
  clickRate: number | null;
  /** bounced / (sent + bounced). */
  bounceRate: number | null;
  /** complained / (sent + bounced). */
  complaintRate: number | null;
  latencyMs: { accepted: Percentiles; delivered: Percentiles };
}

/** One template's engagement (topTemplatesByClickRate). */
export interface TemplateEngagement {
  template: { id: string; key: string | null; channel: string | null; locale: string | null; version: number | null };
  sent: number;
  opened: number;
  clicked: number;
  openRate: number | null;
  clickRate: number | null;
}

export interface LabelledCount {
  reason: string;
  label: string;
  count: number;
}

export interface GroupStats extends Counts {
  suppressedByReason: Record<string, number>;
  /** suppressedByReason as a list, largest first, each with its label. */
  suppressionReasons: LabelledCount[];
  failuresByReason: LabelledCount[];
  series?: Array<{ bucketStart: string } & Counts>;
}

/** A deliberate wait: time held (quiet hours, digest) or the wait before a backup step went. */
export interface DeliberateWait {
  kind: 'held' | 'backup';
  reason: string;
  label: string;
  count: number;
  p50: number | null;
  p95: number | null;
  max: number | null;
}

export interface StatsResult {
  from: string;
  to: string;
  groupBy: StatsGroupBy[];
  /** The bucket of the series: the one asked for, or the one bucket=auto chose. */
  bucket: Bucket | null;
  /** Whether bucket was chosen by bucket=auto. */
  bucketAuto: boolean;
  /** The first bucket of the series: the bucket of `from`, or with bucket=auto that of the first notification. */
  seriesFrom: string | null;
  totals: GroupStats;
  groups: Array<{ key: Record<string, unknown> } & GroupStats>;
  /** Failed provider attempts of the window's notifications (retries and dead devices included), top 10. */
  attemptErrors: LabelledCount[];
  /** Waits made on purpose, left out of the latency: by kind and reason, in milliseconds. */
  deliberateWaits: DeliberateWait[];
  /** The 10 templates with the highest click rate among those with a sent notification in the window. */
  topTemplatesByClickRate: TemplateEngagement[];
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

const rate = (part: number, whole: number) => (whole ? round(part / whole, 4) : null);

function percentiles(count: number, values: number[] | null): Percentiles {
  const [p50, p95, p99] = count > 0 && values ? values.map((v) => round(v, 1)) : [null, null, null];
  return { count, p50: p50 ?? null, p95: p95 ?? null, p99: p99 ?? null };
}

function countsOf(row: CountsRow | undefined): Counts {
  const r = row ?? {
    total: 0, sent: 0, delivered: 0, failed: 0, suppressed: 0, pending: 0, opened: 0, clicked: 0, bounced: 0, complained: 0, reached: 0,
    acceptedCount: 0, accepted: null, deliveredCount: 0, deliveredPct: null,
  };
  const attempted = r.sent + r.failed;
  const acceptedRate = attempted ? round(r.sent / attempted, 4) : null;
  return {
    total: r.total,
    sent: r.sent,
    delivered: r.delivered,
    failed: r.failed,
    suppressed: r.suppressed,
    pending: r.pending,
    acceptedRate,
    receiptRate: r.sent ? round(r.delivered / r.sent, 4) : null,
    deliveryRate: acceptedRate,
    failureRate: attempted ? round(r.failed / attempted, 4) : null,
    opened: r.opened,
    clicked: r.clicked,
    bounced: r.bounced,
    complained: r.complained,
    openRate: rate(r.opened, r.sent),
    clickRate: rate(r.clicked, r.sent),
    bounceRate: rate(r.bounced, r.reached),
    complaintRate: rate(r.complained, r.reached),
    latencyMs: { accepted: percentiles(r.acceptedCount, r.accepted), delivered: percentiles(r.deliveredCount, r.deliveredPct) },
  };
}

/** A failure reason in words: a known code, or '<provider>: <known code>'; free provider text as it is. */
export function failureLabel(reason: string): string {
  const known = reasonLabel(reason);
  if (known && known !== reason) return known;
  const m = /^([^:]+): (.+)$/.exec(reason);
  const inner = m ? reasonLabel(m[2]) : null;
  return m && inner && inner !== m[2] ? `${m[1]}: ${inner}` : reason;
}

function keyOf(groupBy: StatsGroupBy[], row: GroupColumns): Record<string, unknown> {
  const key: Record<string, unknown> = {};
  for (const g of groupBy) {
    if (g === 'template') {
      key.template = row.templateId
        ? { id: row.templateId, key: row.templateKey ?? null, locale: row.templateLocale ?? null, version: row.templateVersion ?? null }
        : null;
    } else if (g === 'provider') {
      key.provider = row.provider ?? null;
      key.noAttempt = row.provider ? null : (row.noAttempt ?? null);
      key.providerLabel = row.provider ?? NO_ATTEMPT_LABELS[row.noAttempt ?? ''] ?? 'No attempt';
    } else if (g === 'campaign') {
      key.campaignId = row.campaignId ?? null;
    } else if (g === 'variant') {
      key.experimentId = row.experimentId ?? null;
      key.variant = row.variant ?? null;
    } else {
      key[g] = row[g] ?? null;
    }
  }
  return key;
}

/** Every bucket start of the window, so a series has a point (zero) for buckets with no notification. */
export function bucketStarts(from: Date, to: Date, bucket: Bucket): string[] {
  const step = BUCKET_MS[bucket];
  // Buckets are UTC (the database session's time zone), so truncation is plain arithmetic.
  const first = Math.floor(from.getTime() / step) * step;
  const starts: string[] = [];
  for (let t = first; t < to.getTime(); t += step) starts.push(new Date(t).toISOString().replace('.000Z', 'Z'));
  return starts;
}

/** bucket=auto: the finest bucket that keeps the span from `first` (the first notification, else from) to `to` readable. */
export function autoBucket(first: Date, to: Date): Bucket {
  const span = to.getTime() - first.getTime();
  return AUTO_SPANS.find(([, max]) => span <= max)?.[0] ?? 'day';
}

const waitsSql = (query: StatsQuery) => Prisma.sql`
  WITH w AS (
    SELECT 'held' AS kind, n."holdReason" AS reason,
      (GREATEST(EXTRACT(EPOCH FROM n."heldUntil" - n."createdAt"), 0) * 1000)::float8 AS ms
    FROM "Notification" n
    WHERE n."heldUntil" IS NOT NULL AND ${windowOf(query, Prisma.sql`n."createdAt"`)}
    UNION ALL
    SELECT 'backup', COALESCE(n."escalationReason", 'unknown'),
      (GREATEST(EXTRACT(EPOCH FROM n."createdAt" - COALESCE(
        (SELECT min(f."createdAt") FROM "Notification" f WHERE f."eventId" = n."eventId" AND f."planStep" = 0),
        e."receivedAt", n."createdAt")), 0) * 1000)::float8
    FROM "Notification" n LEFT JOIN "OrderEvent" e ON e."eventId" = n."eventId"
    WHERE n."planStep" > 0 AND ${windowOf(query, Prisma.sql`n."createdAt"`)}
  )
  SELECT kind, COALESCE(reason, 'unknown') AS reason, count(*)::int AS count,
    percentile_cont(ARRAY[0.5, 0.95]::float8[]) WITHIN GROUP (ORDER BY ms) AS pct, max(ms) AS max
  FROM w GROUP BY 1, 2 ORDER BY 1 DESC, 3 DESC, 2`;

function waitLabel(kind: string, reason: string): string {
  if (kind === 'held') return HOLD_LABELS[reason as keyof typeof HOLD_LABELS] ?? `Held (${reason})`;
  return BACKUP_LABELS[reason as keyof typeof BACKUP_LABELS] ?? `Sent as a backup (${reason})`;
}

export async function computeStats(db: Db, query: StatsQuery): Promise<StatsResult> {
  // One snapshot for all, so the series always add up to the totals.
  // The interactive form, as bucket=auto looks at the data before it picks the bucket; a long range may take a while.
  return db.$transaction((tx) => statsIn(tx as unknown as Db, query), {
    isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead,
    maxWait: 10_000,
    timeout: 120_000,
  });
}

async function statsIn(db: Db, query: StatsQuery): Promise<StatsResult> {
  let bucket: Bucket | null = query.bucket === 'auto' ? null : query.bucket;
  let seriesFrom = query.from;
  if (query.bucket === 'auto') {
    const [first] = await db.$queryRaw<Array<{ first: Date | null }>>`
      SELECT min(n."createdAt") AS first FROM "Notification" n WHERE ${windowOf(query, Prisma.sql`n."createdAt"`)}`;
    // createdAt is a timestamp without time zone holding UTC; the driver reads it as UTC.
    const firstAt = first?.first ?? query.from;
    bucket = autoBucket(firstAt, query.to);
    const step = BUCKET_MS[bucket];
    const floor = (t: number) => Math.floor(t / step) * step;
    const context = floor(query.to.getTime() - 1) - (AUTO_MIN_BUCKETS - 1) * step;
    seriesFrom = new Date(Math.max(floor(query.from.getTime()), Math.min(floor(firstAt.getTime()), context)));
  }

  const cols = query.groupBy.flatMap((g) => GROUP_COLUMNS[g]);
  const groupCols = Prisma.join(cols);
  // GROUPING(first column) is 1 in the sets without the group columns: the totals.
  const isTotal = Prisma.sql`GROUPING(${cols[0]!}) = 1 AS "isTotal"`;
  const sets = bucket
    ? Prisma.sql`GROUPING SETS ((${groupCols}), (), (${groupCols}, "bucketStart"), ("bucketStart"))`
    : Prisma.sql`GROUPING SETS ((${groupCols}), ())`;
  const bucketColumn = bucket
    ? Prisma.sql`CASE WHEN GROUPING("bucketStart") = 0 THEN "bucketStart" END AS "bucketStart"`
    : Prisma.sql`NULL::text AS "bucketStart"`;
  const cte = base(query, bucket);

  const countsSql = Prisma.sql`
    WITH ${cte}
    SELECT ${groupCols}, ${isTotal}, ${bucketColumn},
      count(*)::int AS total,
      (count(*) FILTER (WHERE ${SENT}))::int AS sent,
      (count(*) FILTER (WHERE ${DELIVERED}))::int AS delivered,
      (count(*) FILTER (WHERE status = 'failed'))::int AS failed,
      (count(*) FILTER (WHERE status = 'suppressed'))::int AS suppressed,
      (count(*) FILTER (WHERE status = 'queued'))::int AS pending,
      (count(*) FILTER (WHERE ${SENT} AND opened))::int AS opened,
      (count(*) FILTER (WHERE ${SENT} AND clicked))::int AS clicked,
      (count(*) FILTER (WHERE bounced))::int AS bounced,
      (count(*) FILTER (WHERE complained AND (${SENT} OR bounced)))::int AS complained,
      (count(*) FILTER (WHERE ${SENT} OR bounced))::int AS reached,
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
    WHERE a.status = 'failed' AND ${windowOf(query, Prisma.sql`n."createdAt"`)}
    GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10`;

  // Over the plain window (no bucket): the same notifications whatever the grouping.
  const topTemplatesSql = Prisma.sql`
    WITH ${base(query, null)}, per AS (
      SELECT "templateId", "templateVersion", "templateKey", "templateLocale", min(channel) AS channel,
        (count(*) FILTER (WHERE ${SENT}))::int AS sent,
        (count(*) FILTER (WHERE ${SENT} AND opened))::int AS opened,
        (count(*) FILTER (WHERE ${SENT} AND clicked))::int AS clicked
      FROM base WHERE "templateId" IS NOT NULL
      GROUP BY 1, 2, 3, 4
    )
    SELECT * FROM per WHERE sent > 0
    ORDER BY clicked::float8 / sent DESC, clicked DESC, sent DESC, "templateKey", "templateLocale", "templateVersion" DESC, "templateId"
    LIMIT 10`;

  const counts = await db.$queryRaw<Array<GroupColumns & SetFlags & CountsRow>>(countsSql);
  const suppressed = await db.$queryRaw<Array<GroupColumns & SetFlags & { reason: string | null; count: number }>>(suppressedSql);
  const failures = await db.$queryRaw<Array<GroupColumns & SetFlags & { reason: string; count: number }>>(failuresSql);
  const attemptErrors = await db.$queryRaw<Array<{ reason: string; count: number }>>(attemptErrorsSql);
  const topTemplates = await db.$queryRaw<
    Array<{ templateId: string; templateVersion: number | null; templateKey: string | null; templateLocale: string | null; channel: string | null; sent: number; opened: number; clicked: number }>
  >(topTemplatesSql);
  const waits = await db.$queryRaw<Array<{ kind: 'held' | 'backup'; reason: string; count: number; pct: number[] | null; max: number | null }>>(waitsSql(query));

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
  const failuresBy = new Map<string, LabelledCount[]>();
  for (const row of failures) {
    const list = failuresBy.get(groupId(row)) ?? [];
    list.push({ reason: row.reason, label: failureLabel(row.reason), count: row.count });
    failuresBy.set(groupId(row), list);
  }

  const starts = bucket ? bucketStarts(seriesFrom, query.to, bucket) : [];
  const view = (id: string): GroupStats => {
    const e = stats.get(id);
    const by = suppressedBy.get(id) ?? {};
    return {
      ...countsOf(e?.row),
      suppressedByReason: by,
      suppressionReasons: Object.entries(by)
        .sort(([a, x], [b, y]) => y - x || a.localeCompare(b))
        .map(([reason, count]) => ({ reason, label: reasonLabel(reason) ?? reason, count })),
      failuresByReason: failuresBy.get(id) ?? [],
      ...(bucket ? { series: starts.map((bucketStart) => ({ bucketStart, ...countsOf(e?.series.get(bucketStart)) })) } : {}),
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
    bucket,
    bucketAuto: query.bucket === 'auto',
    seriesFrom: starts[0] ?? null,
    totals: view(''),
    groups,
    attemptErrors: attemptErrors.map((r) => ({ ...r, label: failureLabel(r.reason) })),
    deliberateWaits: waits.map((w) => ({
      kind: w.kind,
      reason: w.reason,
      label: waitLabel(w.kind, w.reason),
      count: w.count,
      p50: w.pct ? round(w.pct[0]!, 1) : null,
      p95: w.pct ? round(w.pct[1]!, 1) : null,
      max: w.max == null ? null : round(w.max, 1),
    })),
    topTemplatesByClickRate: topTemplates.map((t) => ({
      template: { id: t.templateId, key: t.templateKey, channel: t.channel, locale: t.templateLocale, version: t.templateVersion },
      sent: t.sent,
      opened: t.opened,
      clicked: t.clicked,
      openRate: rate(t.opened, t.sent),
      clickRate: rate(t.clicked, t.sent),
    })),
  };
}
