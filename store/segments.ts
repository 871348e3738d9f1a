// A segment's rule tree compiled into one SQL condition over "Customer" c, so a segment is evaluated set-wise by
// PostgreSQL (semi-joins and index lookups), never customer by customer in Node. Every value is a bound
// parameter; the relative times ("within N days") are measured from `now`, the caller's clock.
//
// Indexes the conditions use: Customer (primary key: paging by id), OrderEvent [status, customerId, occurredAt]
// and [customerId, receivedAt], Order (primary key), Cart [customerId, status], Watch [customerId, createdAt],
// Device [customerId, active], Preference (primary key), ConsentRecord [customerId, channel, category, receivedAt].
import { classOf, isPreferenceCategory, type NumberRange, type OrdersCondition, type SegmentRule } from '../domain';
import { Prisma, type Db } from '../lib/db';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

const orJoin = (parts: Prisma.Sql[], glue: string, empty: Prisma.Sql) => (parts.length === 0 ? empty : Prisma.sql`(${Prisma.join(parts, glue)})`);

function range(value: Prisma.Sql, r: NumberRange): Prisma.Sql {
  const parts: Prisma.Sql[] = [];
  if (r.min !== undefined) parts.push(Prisma.sql`${value} >= ${r.min}`);
  if (r.max !== undefined) parts.push(Prisma.sql`${value} <= ${r.max}`);
  return orJoin(parts, ' AND ', Prisma.sql`TRUE`);
}

/** The qualifying events of a customer's orders (correlated on c.id). */
function orderEventFilter(o: OrdersCondition, now: Date): Prisma.Sql {
  const parts: Prisma.Sql[] = [Prisma.sql`e."customerId" = c.id`];
  if (o.status?.length) parts.push(Prisma.sql`e.status IN (${Prisma.join(o.status)})`);
  if (o.withinDays !== undefined) parts.push(Prisma.sql`e."occurredAt" >= ${new Date(now.getTime() - o.withinDays * DAY_MS)}`);
  if (o.currentStatus?.length) {
    parts.push(Prisma.sql`EXISTS (SELECT 1 FROM "Order" o WHERE o."orderId" = e."orderId" AND o.status IN (${Prisma.join(o.currentStatus)}))`);
  }
  return Prisma.join(parts, ' AND ');
}

function ordersCondition(o: OrdersCondition, now: Date): Prisma.Sql {
  const filter = orderEventFilter(o, now);
  const parts: Prisma.Sql[] = [];
  if (o.count) {
    const count = Prisma.sql`(SELECT count(DISTINCT e."orderId") FROM "OrderEvent" e WHERE ${filter})`;
    parts.push(range(count, o.count));
  }
  if (o.totalSpent) {
    // Each qualifying order counts once, with the total its last event that carried one gave.
    const spent = Prisma.sql`(SELECT COALESCE(sum(t.total), 0) FROM (
        SELECT DISTINCT ON (e."orderId") (e.data->>'total')::numeric AS total
        FROM "OrderEvent" e WHERE ${filter} AND jsonb_typeof(e.data->'total') = 'number'
        ORDER BY e."orderId", e."receivedAt" DESC) t)`;
    parts.push(range(spent, o.totalSpent));
  }
  if (parts.length === 0) return Prisma.sql`EXISTS (SELECT 1 FROM "OrderEvent" e WHERE ${filter})`;
  return Prisma.join(parts, ' AND ');
}

/** The SQL condition (on the alias c for "Customer") a rule tree stands for. */
export function segmentCondition(rule: SegmentRule, now: Date): Prisma.Sql {
  if ('all' in rule) return orJoin(rule.all.map((r) => segmentCondition(r, now)), ' AND ', Prisma.sql`TRUE`);
  if ('any' in rule) return orJoin(rule.any.map((r) => segmentCondition(r, now)), ' OR ', Prisma.sql`FALSE`);
  if ('not' in rule) return Prisma.sql`NOT ${segmentCondition(rule.not, now)}`;
  if ('attribute' in rule) {
    if (rule.in.length === 0) return Prisma.sql`FALSE`;
    if (rule.attribute === 'locale') {
      // "fr" matches fr and its regional forms (fr-CA); "fr-CA" matches only itself.
      return orJoin(rule.in.map((l) => Prisma.sql`(lower(c.locale) = lower(${l}) OR lower(c.locale) LIKE lower(${l}) || '-%')`), ' OR ', Prisma.sql`FALSE`);
    }
    if (rule.attribute === 'country') return Prisma.sql`upper(c.country) IN (${Prisma.join(rule.in.map((v) => v.toUpperCase()))})`;
    return Prisma.sql`c."timeZone" IN (${Prisma.join(rule.in)})`;
  }
  if ('customerIds' in rule) return rule.customerIds.length === 0 ? Prisma.sql`FALSE` : Prisma.sql`c.id IN (${Prisma.join(rule.customerIds)})`;
  if ('created' in rule) {
    const parts: Prisma.Sql[] = [];
    if (rule.created.withinDays !== undefined) parts.push(Prisma.sql`c."createdAt" >= ${new Date(now.getTime() - rule.created.withinDays * DAY_MS)}`);
    if (rule.created.olderThanDays !== undefined) parts.push(Prisma.sql`c."createdAt" < ${new Date(now.getTime() - rule.created.olderThanDays * DAY_MS)}`);
    return orJoin(parts, ' AND ', Prisma.sql`TRUE`);
  }
  if ('consent' in rule) {
    const { channel, category, granted } = rule.consent;
    // The latest record covering the category: its own or its class's (as domain/preferences.ts decides).
    const covering = isPreferenceCategory(category) ? [...new Set([category, classOf(category)])] : [category];
    return Prisma.sql`COALESCE((SELECT r.granted FROM "ConsentRecord" r
        WHERE r."customerId" = c.id AND r.channel = ${channel}::"Channel" AND r.category IN (${Prisma.join(covering)})
        ORDER BY r."receivedAt" DESC, r.granted ASC LIMIT 1) = ${granted}, FALSE)`;
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
        AND k."lastUpdatedAt" <= ${new Date(now.getTime() - rule.openCart.olderThanHours * HOUR_MS)})`;
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

/** How many customers the rule matches now. */
export async function countSegment(db: Db, rule: SegmentRule, now = new Date()): Promise<number> {
  const [row] = await db.$queryRaw<Array<{ n: bigint }>>`SELECT count(*) AS n FROM "Customer" c WHERE ${segmentCondition(rule, now)}`;
  return Number(row!.n);
}

/** The next page of matching customer ids after `after` (by id): how a campaign walks its segment. */
export async function pageSegment(db: Db, rule: SegmentRule, after: string | null, limit: number, now = new Date()): Promise<string[]> {
  const rows = await db.$queryRaw<Array<{ id: string }>>`
    SELECT c.id FROM "Customer" c WHERE ${segmentCondition(rule, now)} AND c.id > ${after ?? ''} ORDER BY c.id LIMIT ${limit}`;
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
export async function sampleSegment(db: Db, rule: SegmentRule, limit: number, now = new Date()): Promise<SegmentSampleCustomer[]> {
  return db.$queryRaw<SegmentSampleCustomer[]>`
    SELECT c.id AS "customerId", c.name, c.locale, c.country, c."timeZone", c."createdAt"
    FROM "Customer" c WHERE ${segmentCondition(rule, now)} ORDER BY c.id LIMIT ${limit}`;
}
