// Back-in-stock and price-drop alerts: which watches a product event fires, and one batch of them carried out.
// Each watch's alert is a Notification recorded (with the watch spent or re-based) before anything is sent,
// so a retried or restarted batch sends only what no earlier attempt settled.
import { ApplicationFailure, Context } from '@temporalio/activity';
import ms from 'ms';
import {
  capRulesFor,
  decideChannels,
  DEFAULT_FREQUENCY_CAPS,
  describeCapRule,
  priceDropFires,
  productAlertWorkflowId,
  quietHoursEnd,
  ITEM_RESTOCKED_KIND,
  itemRestockedNotificationId,
  WATCH_NOTIFICATION_KINDS,
  watchNotificationId,
  type NotificationKind,
  type FrequencyCapRule,
  type Platform,
  type PreferenceState,
  type PushMessage,
  type SuppressionReason,
  type WatchKind,
} from '../domain';
import { Prisma, type Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import { createFrequencyCapActivities } from './frequency-caps';
import { createBulkPusher } from './bulk-push';
import type { SendRate } from './send-rate';
import type { PushProviders } from './providers/push-provider';
import type { createRenderer } from './render';
import { preferenceStateColumns } from '../store/preferences';

type Render = ReturnType<typeof createRenderer>;
// ms 2's types lag its runtime: it answers undefined for text it cannot read (lib/config.ts checked the rules).
const parseMs = ms as unknown as (value: string) => number | undefined;

/** A product event as its alert workflow reads it. */
export interface ProductAlert {
  eventId: string;
  sku: string;
  /** The watch kinds this event may fire: restock (a restock), price_drop (it names a price); none, nothing. */
  fires: WatchKind[];
  price: string | null;
}

export interface WatcherPage {
  watchIds: string[];
  /** The cursor of the next page; null when this was the last. */
  next: string | null;
}

export interface WatchBatchResult {
  sent: number;
  suppressed: number;
  failed: number;
  /** Watches already handled by an earlier attempt, or that no longer fire (deleted, spent, re-based). */
  skipped: number;
}

interface WatchRow {
  watchId: string;
  kind: WatchKind;
  below: string | null;
  baselinePrice: string | null;
  firedAt: Date | null;
  customerId: string;
}

export interface BackorderPage {
  /** The cursor of the next page of orders; null when this was the last. */
  next: string | null;
  sent: number;
  suppressed: number;
  failed: number;
}

interface CustomerRow {
  customerId: string;
  name: string | null;
  locale: string | null;
  timeZone: string | null;
  quietHoursStart: string | null;
  quietHoursEnd: string | null;
  devices: Array<{ deviceId: string; platform: Platform; token: string; app: string | null; locale: string | null }>;
  preferences: PreferenceState['preferences'];
  consents: PreferenceState['consents'];
}

interface EventRow {
  eventId: string;
  sku: string;
  name: string;
  url: string | null;
  imageUrl: string | null;
  price: Prisma.Decimal | null;
  previousPrice: Prisma.Decimal | null;
  currency: string | null;
  restocked: boolean;
}

const decimalText = (d: Prisma.Decimal | string | null): string | null => (d === null ? null : new Prisma.Decimal(d).toString());

/** Whether the watch fires for this event, as it stands now. */
function fires(event: EventRow, w: Pick<WatchRow, 'kind' | 'below' | 'baselinePrice' | 'firedAt'>): boolean {
  if (w.kind === 'restock') return event.restocked && w.firedAt === null;
  if (event.price === null) return false;
  const num = (v: string | null) => (v === null ? null : Number(v));
  return priceDropFires(event.price.toNumber(), { below: num(w.below), baselinePrice: num(w.baselinePrice) });
}

export function createProductAlertActivities(db: Db, providers: PushProviders, render: Render, logger: Logger, frequencyCaps: FrequencyCapRule[] = DEFAULT_FREQUENCY_CAPS, sendRate?: SendRate) {
  const { claimFrequencySlot } = createFrequencyCapActivities(db);
  // Each provider call takes a slot of the worker's push share: the herald-push queue has no task-queue limit.
  const pusher = createBulkPusher(db, providers, sendRate);

  async function loadEvent(eventId: string): Promise<EventRow> {
    const event = await db.productEvent.findUnique({ where: { eventId } });
    if (!event) throw ApplicationFailure.nonRetryable(`no product event ${eventId}`, 'UnknownProductEvent');
    return event;
  }

  return {
    /** What a stored product event fires: a restock fires restock watches, a price fires price_drop watches. */
    async loadProductAlert(eventId: string): Promise<ProductAlert> {
      const event = await loadEvent(eventId);
      const fires: WatchKind[] = [...(event.restocked ? ['restock' as const] : []), ...(event.price !== null ? ['price_drop' as const] : [])];
      return { eventId, sku: event.sku, fires, price: decimalText(event.price) };
    },

    /**
     * The next watches (by id, after `after`) the event may fire. A page is a candidate list: the batch checks
     * each watch again, so one deleted or handled meanwhile is skipped there.
     */
    async pageWatchers(input: { eventId: string; kind: WatchKind; after: string | null; limit: number }): Promise<WatcherPage> {
      const event = await loadEvent(input.eventId);
      const after = input.after ?? '';
      const notificationPrefix = watchNotificationId(input.eventId, '');
      const rows = await db.$queryRaw<Array<{ id: string }>>`
        SELECT w.id FROM "Watch" w
        WHERE w.sku = ${event.sku} AND w.kind = ${input.kind}::"WatchKind" AND w.id > ${after}
          AND (
            -- recorded by an earlier attempt whose sends may still be owed
            EXISTS (SELECT 1 FROM "Notification" n WHERE n.id = ${notificationPrefix} || w.id AND n.status = 'queued'::"NotificationStatus")
            OR (${input.kind} = 'restock' AND w."firedAt" IS NULL)
            OR (${input.kind} = 'price_drop' AND ${event.price}::numeric IS NOT NULL
                AND (w.below IS NOT NULL OR w."baselinePrice" IS NOT NULL)
                AND (w.below IS NULL OR ${event.price}::numeric < w.below)
                AND (w."baselinePrice" IS NULL OR ${event.price}::numeric < w."baselinePrice"))
          )
        ORDER BY w.id LIMIT ${input.limit}`;
      const watchIds = rows.map((r) => r.id);
      return { watchIds, next: watchIds.length === input.limit ? watchIds.at(-1)! : null };
    },

    /**
     * One batch of watches for one product event: gates each (consent and preferences, quiet hours, caps),
     * records every alert as a Notification and spends or re-bases its watch in one transaction, then pushes
     * the queued ones, Android devices through FCM sendEach batches and iOS devices over concurrent APNs streams.
     */
    async sendWatchBatch(input: { eventId: string; watchIds: string[] }): Promise<WatchBatchResult> {
      const info = Context.current().info;
      const log = logger.child({ productEventId: input.eventId, attempt: info.attempt, workflowId: info.workflowExecution?.workflowId });
      const event = await loadEvent(input.eventId);
      const ids = input.watchIds.map((w) => watchNotificationId(event.eventId, w));
      const earlier = new Map(
        (await db.notification.findMany({ where: { id: { in: ids } }, select: { id: true, status: true } })).map((n) => [n.id, n.status]),
      );
      const watches = await db.$queryRaw<WatchRow[]>`
        SELECT w.id AS "watchId", w.kind::text AS kind, w.below::text AS below, w."baselinePrice"::text AS "baselinePrice", w."firedAt", w."customerId"
        FROM "Watch" w WHERE w.id IN (${Prisma.join(input.watchIds.length ? input.watchIds : [''])})`;
      const byWatch = new Map(watches.map((w) => [w.watchId, w]));
      const customers = await loadCustomers(watches.map((w) => w.customerId));

      // 1. Decide and record each watch this event has not handled yet.
      const now = Date.now();
      const price = decimalText(event.price);
      const records: Prisma.NotificationCreateManyInput[] = [];
      const spent: string[] = [];
      const rebased: string[] = [];
      let skipped = 0;
      for (const watchId of input.watchIds) {
        const id = watchNotificationId(event.eventId, watchId);
        const w = byWatch.get(watchId);
        const c = w && customers.get(w.customerId);
        if (earlier.has(id) || !w || !c || !fires(event, w)) {
          if (earlier.get(id) !== 'queued') skipped++;
          continue;
        }
        (w.kind === 'restock' ? spent : rebased).push(watchId);
        const kind = WATCH_NOTIFICATION_KINDS[w.kind];
        records.push(
          await decide(id, c, kind, now, { productEventId: event.eventId }, {
            customerName: c.name,
            sku: event.sku,
            name: event.name,
            url: event.url,
            imageUrl: event.imageUrl,
            price,
            currency: event.currency,
            previousPrice: w.kind === 'price_drop' ? (w.baselinePrice ?? decimalText(event.previousPrice)) : decimalText(event.previousPrice),
          }),
        );
      }
      if (records.length > 0) {
        await db.$transaction(async (tx) => {
          // A restock watch is spent when it fires, once: another restock's batch racing this one may have spent it first.
          const claimed = new Set(
            spent.length === 0
              ? []
              : (
                  await tx.$queryRaw<Array<{ id: string }>>`
                    UPDATE "Watch" SET "firedAt" = ${new Date(now)} WHERE id IN (${Prisma.join(spent)}) AND "firedAt" IS NULL RETURNING id`
                ).map((r) => watchNotificationId(event.eventId, r.id)),
          );
          const spentIds = new Set(spent.map((w) => watchNotificationId(event.eventId, w)));
          await tx.notification.createMany({ data: records.filter((r) => !spentIds.has(r.id) || claimed.has(r.id)), skipDuplicates: true });
          // A price_drop watch measures the next drop from this price.
          await tx.watch.updateMany({ where: { id: { in: rebased } }, data: { baselinePrice: event.price } });
        });
      }

      // 2. Push every queued alert of the batch to the devices no earlier attempt settled.
      const pushed = await pushQueued(event, ids, customers, info.attempt);
      log.info({ watches: input.watchIds.length, recorded: records.length, pushes: pushed.pushes, transient: pushed.transient }, 'watch batch done');
      if (pushed.transient > 0) {
        // Recorded above; the retry pushes only to the devices still pending.
        throw ApplicationFailure.create({ message: `push providers unavailable for ${pushed.transient} of ${pushed.pushes} devices`, type: 'TransientProviderError' });
      }
      return { ...(await outcomeOf(ids)), skipped };
    },

    /**
     * A restock tells the customers of open backordered orders that hold the item (an event of the order names
     * the SKU as `data.sku` or in `data.items[].sku`): one notification per order and restock, for the order.
     * A page of orders at a time, by order id; a retried page skips the orders it already told.
     */
    async notifyBackorderedOrders(input: { eventId: string; after: string | null; limit: number }): Promise<BackorderPage> {
      const info = Context.current().info;
      const event = await loadEvent(input.eventId);
      if (!event.restocked) return { next: null, sent: 0, suppressed: 0, failed: 0 };
      const orders = await db.$queryRaw<Array<{ orderId: string; customerId: string }>>`
        SELECT o."orderId", o."customerId" FROM "Order" o
        WHERE o.status = 'backordered' AND o."orderId" > ${input.after ?? ''}
          AND EXISTS (SELECT 1 FROM "OrderEvent" e WHERE e."orderId" = o."orderId"
            AND (e.data->>'sku' = ${event.sku} OR e.data->'items' @> jsonb_build_array(jsonb_build_object('sku', ${event.sku}::text))))
        ORDER BY o."orderId" LIMIT ${input.limit}`;
      const ids = orders.map((o) => itemRestockedNotificationId(event.eventId, o.orderId));
      const earlier = new Set((await db.notification.findMany({ where: { id: { in: ids } }, select: { id: true } })).map((n) => n.id));
      const customers = await loadCustomers(orders.map((o) => o.customerId));
      const now = Date.now();
      const records: Prisma.NotificationCreateManyInput[] = [];
      for (const order of orders) {
        const id = itemRestockedNotificationId(event.eventId, order.orderId);
        const c = customers.get(order.customerId);
        if (earlier.has(id) || !c) continue;
        records.push(
          await decide(id, c, ITEM_RESTOCKED_KIND, now, { productEventId: event.eventId, orderId: order.orderId }, {
            orderId: order.orderId,
            status: 'backordered',
            customerName: c.name,
            occurredAt: new Date(now).toISOString(),
            sku: event.sku,
            name: event.name,
            url: event.url,
          }),
        );
      }
      if (records.length > 0) await db.notification.createMany({ data: records, skipDuplicates: true });
      const pushed = await pushQueued(event, ids, customers, info.attempt);
      if (pushed.transient > 0) {
        throw ApplicationFailure.create({ message: `push providers unavailable for ${pushed.transient} of ${pushed.pushes} devices`, type: 'TransientProviderError' });
      }
      return { next: orders.length === input.limit ? orders.at(-1)!.orderId : null, ...(await outcomeOf(ids)) };
    },
  };

  /** The customers, with their active push devices and preference state, by id. */
  async function loadCustomers(customerIds: string[]): Promise<Map<string, CustomerRow>> {
    const distinct = [...new Set(customerIds)];
    if (distinct.length === 0) return new Map();
    const rows = await db.$queryRaw<CustomerRow[]>`
      SELECT c.id AS "customerId", c.name, c.locale, c."timeZone", c."quietHoursStart", c."quietHoursEnd",
        COALESCE((SELECT json_agg(json_build_object('deviceId', d.id, 'platform', d.platform, 'token', d.token, 'app', d.app, 'locale', d.locale)
                  ORDER BY d."lastSeenAt" DESC)
                  FROM "Device" d WHERE d."customerId" = c.id AND d.active AND d.platform IN ('ios', 'android')), '[]'::json) AS devices,
        ${preferenceStateColumns(Prisma.sql`c.id`)}
      FROM "Customer" c WHERE c.id IN (${Prisma.join(distinct)})`;
    return new Map(rows.map((r) => [r.customerId, r]));
  }

  /**
   * The notification of one alert, decided: suppressed with its reason (no device, preference or consent, quiet
   * hours, a cap), or queued with its rendered push.
   */
  async function decide(
    id: string,
    c: CustomerRow,
    kind: NotificationKind,
    now: number,
    about: { productEventId: string; orderId?: string },
    variables: Record<string, unknown>,
  ): Promise<Prisma.NotificationCreateManyInput> {
    const base = { id, customerId: c.customerId, ...about, type: kind.type, priority: kind.priority, category: kind.category, channel: 'push' as const };
    let reason: SuppressionReason | null = null;
    let rule: string | undefined;
    if (c.devices.length === 0) reason = 'no_device';
    else {
      const refused = decideChannels({ preferences: c.preferences, consents: c.consents }, kind, ['push']).refused[0];
      if (refused) reason = refused.reason;
    }
    const timeZone = c.timeZone ?? 'UTC';
    // Skipped, not held: an alert hours late may point at stock that is gone again; the reason is kept.
    if (!reason && c.quietHoursStart && c.quietHoursEnd && quietHoursEnd(now, { start: c.quietHoursStart, end: c.quietHoursEnd }, timeZone)) reason = 'quiet_hours';
    if (!reason) {
      const rules = capRulesFor(frequencyCaps, 'push', kind).map((r) => ({
        category: r.category,
        limit: r.limit,
        windowSeconds: Math.round((parseMs(r.window) ?? 0) / 1000),
        description: describeCapRule(r),
      }));
      if (rules.length > 0) {
        const slot = await claimFrequencySlot({ notificationId: id, customerId: c.customerId, channel: 'push', rules });
        if (!slot.allowed) {
          reason = 'frequency_cap';
          rule = slot.rule;
        }
      }
    }
    if (reason) {
      metrics.notifications.inc({ channel: 'push', priority: kind.priority, outcome: 'suppressed', reason });
      return { ...base, status: 'suppressed', suppressionReason: reason, failureReason: rule ?? null };
    }
    const rendered = await render({ key: kind.type, channel: 'push', locale: c.devices[0]!.locale ?? c.locale, timeZone, variables });
    return { ...base, status: 'queued', templateId: rendered.templateId, templateVersion: rendered.templateVersion, locale: rendered.locale, title: rendered.subject, body: rendered.body };
  }

  /** What the alerts came to, over every attempt (an earlier one may have settled most). */
  async function outcomeOf(ids: string[]): Promise<{ sent: number; suppressed: number; failed: number }> {
    const outcome = await db.notification.groupBy({ by: ['status'], where: { id: { in: ids } }, _count: true });
    const countOf = (...statuses: string[]) => outcome.filter((o) => statuses.includes(o.status)).reduce((n, o) => n + o._count, 0);
    return { sent: countOf('sent', 'delivered', 'opened', 'clicked'), suppressed: countOf('suppressed'), failed: countOf('failed') };
  }

  /** Pushes the queued alerts among `ids` (shared with campaigns: activities/bulk-push.ts); Android devices sharing a text go as one message naming the alert workflow. */
  async function pushQueued(event: EventRow, ids: string[], customers: Map<string, CustomerRow>, attempt: number) {
    return pusher.pushQueued({
      ids,
      attempt,
      devicesOf: (customerId) => customers.get(customerId)?.devices ?? [],
      messageOf: (n): PushMessage => ({
        notificationId: n.id,
        orderId: n.orderId ?? '',
        title: n.title ?? '',
        body: n.body ?? '',
        priority: n.priority,
        collapseKey: n.orderId ? `order-${n.orderId}` : `product-${event.sku}`,
        data: { productEventId: event.eventId, sku: event.sku, ...(n.orderId ? { orderId: n.orderId } : {}), ...(event.url ? { url: event.url } : {}) },
        // Rich push: the product's picture, and a tap opens its page.
        ...(event.url || event.imageUrl ? { rich: { ...(event.imageUrl ? { imageUrl: event.imageUrl } : {}), ...(event.url ? { deepLink: event.url } : {}) } } : {}),
      }),
      groupMessageId: () => productAlertWorkflowId(event.sku, event.eventId),
    });
  }
}
