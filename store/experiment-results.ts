// An experiment's results per variant, counted set-wise in one SQL statement over its assignments: who got a
// message, and who then engaged, unsubscribed or ordered within the attribution window (README, "Experiments").
// Every count is of customers, and every rate's denominator is every assigned customer (intent to treat).
import { Prisma, type Db } from '../lib/db';

export interface VariantCounts {
  variant: string;
  assigned: number;
  exposed: number;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  unsubscribed: number;
  conversions: number;
  /** Assigned customers whose window has not closed yet. */
  maturing: number;
  firstStart: Date | null;
}

export interface ResultsQuery {
  experimentId: string;
  windowSeconds: number;
  /** The preference categories of the experiment's messages: a withdrawal or opt-out of any of them is an unsubscribe. */
  categories: string[];
}

/**
 * Per variant. A customer's window starts at their exposure (the first send of the experiment's message to them, or
 * for the holdout when it would have gone) or, never sent, at their assignment, and runs `windowSeconds`:
 * - conversions: a `confirmed` order event of theirs with occurredAt in (start, start + window];
 * - unsubscribed: a consent record withdrawing (received), or a preference opting out (last updated), one of the
 *   categories in (start, start + window];
 * - sent, delivered, opened, clicked: any notification of the experiment to them that got there (its timestamps, its
 *   status, or a receipt of that type; an open or click implies delivery).
 */
export async function variantCounts(db: Db, q: ResultsQuery): Promise<VariantCounts[]> {
  const rows = await db.$queryRaw<VariantCounts[]>`
    WITH a AS (
      SELECT "customerId", variant, "exposedAt" IS NOT NULL AS exposed,
        COALESCE("exposedAt", "assignedAt") AS start,
        COALESCE("exposedAt", "assignedAt") + make_interval(secs => ${q.windowSeconds}::int) AS finish
      FROM "ExperimentAssignment" WHERE "experimentId" = ${q.experimentId}
    ),
    n AS (
      SELECT n."customerId",
        bool_or(n."sentAt" IS NOT NULL OR n.status IN ('sent', 'delivered', 'opened', 'clicked')) AS sent,
        bool_or(n."deliveredAt" IS NOT NULL OR n."openedAt" IS NOT NULL OR n."clickedAt" IS NOT NULL
          OR n.status IN ('delivered', 'opened', 'clicked') OR COALESCE(r.delivered, false)) AS delivered,
        bool_or(n."openedAt" IS NOT NULL OR n."clickedAt" IS NOT NULL OR n.status IN ('opened', 'clicked') OR COALESCE(r.opened, false)) AS opened,
        bool_or(n."clickedAt" IS NOT NULL OR n.status = 'clicked' OR COALESCE(r.clicked, false)) AS clicked
      FROM "Notification" n
      LEFT JOIN LATERAL (
        SELECT bool_or(type IN ('delivered', 'opened', 'clicked')) AS delivered, bool_or(type IN ('opened', 'clicked')) AS opened,
          bool_or(type = 'clicked') AS clicked
        FROM "NotificationReceipt" WHERE "notificationId" = n.id
      ) r ON true
      WHERE n."experimentId" = ${q.experimentId}
      GROUP BY n."customerId"
    ),
    per AS (
      SELECT a.variant, a.exposed, a.start, a.finish, COALESCE(n.sent, false) AS sent, COALESCE(n.delivered, false) AS delivered,
        COALESCE(n.opened, false) AS opened, COALESCE(n.clicked, false) AS clicked,
        EXISTS (
          SELECT 1 FROM "OrderEvent" e
          WHERE e.status = 'confirmed' AND e."customerId" = a."customerId" AND e."occurredAt" > a.start AND e."occurredAt" <= a.finish
        ) AS converted,
        (EXISTS (
          SELECT 1 FROM "ConsentRecord" c
          WHERE c."customerId" = a."customerId" AND NOT c.granted AND c.category = ANY(${q.categories}) AND c."receivedAt" > a.start AND c."receivedAt" <= a.finish
        ) OR EXISTS (
          SELECT 1 FROM "Preference" p
          WHERE p."customerId" = a."customerId" AND NOT p."optedIn" AND p.category = ANY(${q.categories}) AND p."updatedAt" > a.start AND p."updatedAt" <= a.finish
        )) AS unsubscribed
      FROM a LEFT JOIN n ON n."customerId" = a."customerId"
    )
    SELECT variant,
      count(*)::int AS assigned,
      (count(*) FILTER (WHERE exposed))::int AS exposed,
      (count(*) FILTER (WHERE sent))::int AS sent,
      (count(*) FILTER (WHERE delivered))::int AS delivered,
      (count(*) FILTER (WHERE opened))::int AS opened,
      (count(*) FILTER (WHERE clicked))::int AS clicked,
      (count(*) FILTER (WHERE unsubscribed))::int AS unsubscribed,
      (count(*) FILTER (WHERE converted))::int AS conversions,
      (count(*) FILTER (WHERE finish > (now() AT TIME ZONE 'UTC')))::int AS maturing,
      min(start) AS "firstStart"
    FROM per GROUP BY variant ORDER BY variant`;
  return rows;
}

/** Customers assigned, per experiment id. */
export async function assignedCounts(db: Db, experimentIds: string[]): Promise<Map<string, number>> {
  if (experimentIds.length === 0) return new Map();
  const rows = await db.$queryRaw<Array<{ experimentId: string; assigned: number }>>`
    SELECT "experimentId", count(*)::int AS assigned FROM "ExperimentAssignment"
    WHERE "experimentId" IN (${Prisma.join(experimentIds)}) GROUP BY "experimentId"`;
  return new Map(rows.map((r) => [r.experimentId, r.assigned]));
}
