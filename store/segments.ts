// A segment's rule tree compiled into one SQL condition over "Customer" c, so a segment is evaluated set-wise by
// PostgreSQL (semi-joins and index lookups), never customer by customer in Node. Every value is a bound
// parameter (a list is one array parameter, however long); the relative times ("within N days") are measured
// from `now`, the caller's clock. Every condition is parenthesised and never NULL, so `not` and `any` mean
// exactly what they say (a customer with no country is "not in FR").
//
// Indexes the conditions use: Customer (primary key: paging by id), OrderEvent [status, customerId, occurredAt]
// and [customerId, receivedAt], Order (primary key), Cart [customerId, status], Watch [customerId, createdAt],
// Device [customerId, active], Preference (primary key), ConsentRecord [customerId, channel, category, receivedAt].
import { classOf, isPreferenceCategory, type NumberRange, type OrdersCondition, type SegmentRule } from '../domain';
import { Prisma, type Db } from '../lib/db';

/** The client or a transaction of it: all a segment query needs. */
export type SegmentDb = Pick<Db, '$queryRaw'>;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

const joined = (parts: Prisma.Sql[], glue: ' AND ' | ' OR ', empty: Prisma.Sql) => (parts.length === 0 ? empty : Prisma.sql`(${Prisma.join(parts, glue)})`);
const ago = (now: Date, ms: number) => new Date(now.getTime() - ms);

/** The range's bounds on an aggregate (inside a HAVING, so the aggregate is computed once). */
function range(value: Prisma.Sql, r: NumberRange): Prisma.Sql {
  const parts: Prisma.Sql[] = [];
  if (r.min !== undefined) parts.push(Prisma.sql`${value} >= ${r.min}::numeric`);
  if (r.max !== undefined) parts.push(Prisma.sql`${value} <= ${r.max}::numeric`);
  return joined(parts, ' AND ', Prisma.sql`TRUE`);
}

/** The qualifying events of a customer's orders (alias e, correlated on c.id). */
function orderEventFilter(o: OrdersCondition, now: Date): Prisma.Sql {
  const parts: Prisma.Sql[] = [Prisma.sql`e."customerId" = c.id`];
  if (o.status?.length) parts.push(Prisma.sql`e.status = ANY(${o.status}::text[])`);
  if (o.withinDays !== undefined) parts.push(Prisma.sql`e."occurredAt" >= ${ago(now, o.withinDays * DAY_MS)}`);
  if (o.currentStatus?.length) {
    parts.push(Prisma.sql`EXISTS (SELECT 1 FROM "Order" o WHERE o."orderId" = e."orderId" AND o.status = ANY(${o.currentStatus}::text[]))`);
  }
  return Prisma.join(parts, ' AND ');
}

/** An order total as events carry it: a JSON number or a decimal string ("49.90"); anything else is no total. */
const TOTAL = Prisma.raw(`(t.data->>'total')`);
const TOTAL_PATTERN = '^-?[0-9]+(\\.[0-9]+)?$';

function ordersCondition(o: OrdersCondition, now: Date): Prisma.Sql {
  const filter = orderEventFilter(o, now);
  const parts: Prisma.Sql[] = [];
  if (o.count) {
    // An aggregate without GROUP BY has one row even over no events: a customer without orders has 0.
    parts.push(Prisma.sql`EXISTS (SELECT 1 FROM "OrderEvent" e WHERE ${filter} HAVING ${range(Prisma.sql`count(DISTINCT e."orderId")`, o.count)})`);
  }
  if (o.totalSpent) {
    // The qualifying orders, each counted once with the last total its events gave (by when they happened), whichever
    // event carried it: a delivered event rarely repeats the total its confirmed event had.
    parts.push(Prisma.sql`EXISTS (SELECT 1 FROM (
        SELECT DISTINCT ON (t."orderId") ${TOTAL}::numeric AS total
        FROM "OrderEvent" t
        WHERE t."customerId" = c.id AND ${TOTAL} ~ ${TOTAL_PATTERN}
          AND t."orderId" IN (SELECT e."orderId" FROM "OrderEvent" e WHERE ${filter})
        ORDER BY t."orderId", t."occurredAt" DESC, t."receivedAt" DESC) s
      HAVING ${range(Prisma.sql`COALESCE(sum(s.total), 0)`, o.totalSpent)})`);
  }
  if (parts.length === 0) return Prisma.sql`EXISTS (SELECT 1 FROM "OrderEvent" e WHERE ${filter})`;
  return joined(parts, ' AND ', Prisma.sql`TRUE`);
}

/** The SQL condition (on the alias c for "Customer") a rule tree stands for: TRUE or FALSE for every customer, never NULL. */
export function segmentCondition(rule: SegmentRule, now: Date): Prisma.Sql {
  if ('all' in rule) return joined(rule.all.map((r) => segmentCondition(r, now)), ' AND ', Prisma.sql`TRUE`);
  if ('any' in rule) return joined(rule.any.map((r) => segmentCondition(r, now)), ' OR ', Prisma.sql`FALSE`);
  if ('not' in rule) return Prisma.sql`(NOT ${segmentCondition(rule.not, now)})`;
  if ('attribute' in rule) {
    if (rule.in.length === 0) return Prisma.sql`FALSE`;
    if (rule.attribute === 'locale') {
      // "fr" matches fr and its regional forms (fr-CA); "fr-CA" matches only itself.
      const locales = rule.in.map((l) => l.toLowerCase());
      return Prisma.sql`(lower(c.locale) = ANY(${locales}::text[])
        OR EXISTS (SELECT 1 FROM unnest(${locales}::text[]) l(v) WHERE starts_with(lower(c.locale), l.v || '-')))`;
    }
    if (rule.attribute === 'country') return Prisma.sql`(c.country IS NOT NULL AND upper(c.country) = ANY(${rule.in.map((v) => v.toUpperCase())}::text[]))`;
    return Prisma.sql`(c."timeZone" = ANY(${rule.in}::text[]))`;
  }
  if ('customerIds' in rule) return rule.customerIds.length === 0 ? Prisma.sql`FALSE` : Prisma.sql`(c.id = ANY(${rule.customerIds}::text[]))`;
  if ('created' in rule) {
    const parts: Prisma.Sql[] = [];
    if (rule.created.withinDays !== undefined) parts.push(Prisma.sql`c."createdAt" >= ${ago(now, rule.created.withinDays * DAY_MS)}`);
    if (rule.created.olderThanDays !== undefined) parts.push(Prisma.sql`c."createdAt" < ${ago(now, rule.created.olderThanDays * DAY_MS)}`);
    return joined(parts, ' AND ', Prisma.sql`TRUE`);
  }
  if ('consent' in rule) {
    const { channel, category, granted } = rule.consent;
    // The latest record covering the category: its own or its class's; received together, the category's own record
    // beats its class's and a withdrawal beats a grant (domain/preferences.ts latestConsent decides the same way).
    const covering = isPreferenceCategory(category) ? [...new Set([category, classOf(category)])] : [category];
    return Prisma.sql`COALESCE((SELECT r.granted FROM "ConsentRecord" r
        WHERE r."customerId" = c.id AND r.channel = ${channel}::"Channel" AND r.category = ANY(${covering}::text[])
        ORDER BY r."receivedAt" DESC, (r.category = ${category}) DESC, r.granted ASC LIMIT 1) = ${granted}, FALSE)`;
  }
  if ('preference' in rule) {
    const { channel, category, optedIn } = rule.preference;
    return Prisma.sql`EXISTS (SELECT 1 FROM "Preference" p WHERE p."customerId" = c.id AND p.channel = ${channel}::"Channel"
        AND p.category = ${category} AND p."optedIn" = ${optedIn})`;
  }
  if ('reachable' in rule) {
    if (rule.reachable === 'email') return Prisma.sql`(c.email IS NOT NULL AND c.email <> '')`;
    if (rule.reachable === 'sms') return Prisma.sql`(c.phone IS NOT NULL AND c.phone <> '')`;
    return Prisma.sql`EXISTS (SELECT 1 FROM "Device" d WHERE d."customerId" = c.id AND d.active)`;
  }
  if ('orders' in rule) return ordersCondition(rule.orders, now);
  if ('openCart' in rule) {
    return Prisma.sql`EXISTS (SELECT 1 FROM "Cart" k WHERE k."customerId" = c.id AND k.status = 'open'::"CartStatus"
        AND k."lastUpdatedAt" <= ${ago(now, rule.openCart.olderThanHours * HOUR_MS)})`;
  }
  if ('watches' in rule) {
    const parts: Prisma.Sql[] = [Prisma.sql`w."customerId" = c.id`, Prisma.sql`(w.kind = 'price_drop'::"WatchKind" OR w."firedAt" IS NULL)`];
    if (rule.watches.sku !== undefined) parts.push(Prisma.sql`w.sku = ${rule.watches.sku}`);
    if (rule.watches.kind !== undefined) parts.push(Prisma.sql`w.kind = ${rule.watches.kind}::"WatchKind"`);
    return Prisma.sql`EXISTS (SELECT 1 FROM "Watch" w WHERE ${Prisma.join(parts, ' AND ')})`;
  }
  const never: never = rule;
  throw new Error(`unknown segment condition ${JSON.stringify(never)}`);
}

/** The one statement that counts a segment: what EXPLAIN is run on to see the plan (README "Segments"). */
export function segmentCountQuery(rule: SegmentRule, now = new Date()): Prisma.Sql {
  return Prisma.sql`SELECT count(*) AS n FROM "Customer" c WHERE ${segmentCondition(rule, now)}`;
}

/** How many customers the rule matches now. */
export async function countSegment(db: SegmentDb, rule: SegmentRule, now = new Date()): Promise<number> {
  const [row] = await db.$queryRaw<Array<{ n: bigint }>>(segmentCountQuery(rule, now));
  return Number(row!.n);
}

/** The next page of matching customer ids after `after` (by id): how a campaign walks its segment. */
export async function pageSegment(db: SegmentDb, rule: SegmentRule, after: string | null, limit: number, now = new Date()): Promise<string[]> {
  const rows = await db.$queryRaw<Array<{ id: string }>>`
    SELECT c.id FROM "Customer" c WHERE ${segmentCondition(rule, now)} AND (${after}::text IS NULL OR c.id > ${after}::text) ORDER BY c.id LIMIT ${limit}`;
  return rows.map((r) => r.id);
}

export interface SegmentSampleCustomer {
  customerId: string;
  name: string | null;
  locale: string;
  country: string | null;
  timeZone: string;
  createdAt: Date;
}

/** The first matching customers by id: what the preview shows. */
export async function sampleSegment(db: SegmentDb, rule: SegmentRule, limit: number, now = new Date()): Promise<SegmentSampleCustomer[]> {
  if (limit <= 0) return [];
  return db.$queryRaw<SegmentSampleCustomer[]>`
    SELECT c.id AS "customerId", c.name, c.locale, c.country, c."timeZone", c."createdAt"
    FROM "Customer" c WHERE ${segmentCondition(rule, now)} ORDER BY c.id LIMIT ${limit}`;
}
