// "What happened to order X, and why": an order's story from the database (each accepted event, and under it
// each notification and receipt, in time order), with its workflow run and, when the run answers, its live
// state; a customer's orders the same way; and which of order, customer or event a string the operator has is.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { HOLD_LABELS, orderWorkflowId } from '../domain';
import type { Db } from '../lib/db';
import { Prisma } from '../lib/db';
import { orderStateQuery } from '../workflows/definitions';
import { notificationView, withAttemptsAndReceipts, type NotificationDetailRow } from './notification-view';
import { encodeTimeCursor, decodeTimeCursor, invalidCursor } from './paging';
import { receiptView } from './receipts';
import type {
  CustomerTimelineView,
  LookupView,
  OrderTimelineView,
  OrderWorkflowView,
  TimelineEntryView,
  TimelineEventView,
} from './response-schemas';

/** The most events an order timeline lists (the latest ones); an order has a handful. */
export const TIMELINE_EVENT_LIMIT = 200;
/** How long the timeline waits for Temporal (describe, then the state query) before it answers from the database alone. */
const TEMPORAL_DEADLINE_MS = 3000;

type EventRow = Prisma.OrderEventGetPayload<object>;

/** A time in the years PostgreSQL and the API's ISO text agree on. */
export const storableTime = (d: Date): boolean => d.getUTCFullYear() >= 1900 && d.getUTCFullYear() <= 9999;

/** A notification, then its receipts, in time order (a notification before a receipt of the same instant). */
function entriesOf(notifications: NotificationDetailRow[]): TimelineEntryView[] {
  const entries: TimelineEntryView[] = [];
  for (const n of notifications) {
    entries.push({ kind: 'notification', at: n.createdAt, notification: notificationView(n) });
    for (const r of n.receipts) entries.push({ kind: 'receipt', at: r.occurredAt, receipt: receiptView(r) });
  }
  const rank = (e: TimelineEntryView) => (e.kind === 'notification' ? 0 : 1);
  return entries.sort((a, b) => a.at.getTime() - b.at.getTime() || rank(a) - rank(b));
}

/** Each event with what went for it; notifications of no listed event come back apart. */
function eventsWithEntries(events: EventRow[], notifications: NotificationDetailRow[]): { events: TimelineEventView[]; other: TimelineEntryView[] } {
  const byEvent = new Map<string, NotificationDetailRow[]>();
  const other: NotificationDetailRow[] = [];
  const listed = new Set(events.map((e) => e.eventId));
  for (const n of notifications) {
    if (n.eventId && listed.has(n.eventId)) byEvent.set(n.eventId, [...(byEvent.get(n.eventId) ?? []), n]);
    else other.push(n);
  }
  return {
    events: events.map((e) => ({
      eventId: e.eventId,
      status: e.status,
      occurredAt: e.occurredAt,
      receivedAt: e.receivedAt,
      source: e.source,
      disposition: e.disposition,
      processedAt: e.processedAt,
      entries: entriesOf(byEvent.get(e.eventId) ?? []),
    })),
    other: entriesOf(other),
  };
}

/** The run in the Temporal Web UI. Ids hold only letters, digits and `._:-`, which a path segment may carry as they are. */
export function temporalUiRunUrl(uiUrl: string, namespace: string, workflowId: string, runId: string): string {
  const segment = (s: string) => encodeURIComponent(s).replace(/%3A/gi, ':');
  return `${uiUrl.replace(/\/+$/, '')}/namespaces/${segment(namespace)}/workflows/${segment(workflowId)}/${segment(runId)}/history`;
}

const reasonOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** The order's current run and, when it answers within the deadline, its live state; a note says what could not be had. */
export async function orderWorkflow(temporal: Client, orderId: string, uiUrl: string | null | undefined): Promise<OrderWorkflowView> {
  const workflowId = orderWorkflowId(orderId);
  const view: OrderWorkflowView = { workflowId, runId: null, status: null, uiUrl: null, live: null, note: null };
  const handle = temporal.workflow.getHandle(workflowId);
  let description;
  try {
    description = await temporal.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => handle.describe());
  } catch (err) {
    view.note =
      err instanceof WorkflowNotFoundError
        ? `Temporal has no run of ${workflowId} (its history may have passed the namespace's retention).`
        : `Temporal could not be asked about ${workflowId}: ${reasonOf(err)}`;
    return view;
  }
  view.runId = description.runId;
  view.status = description.status.name;
  if (uiUrl) view.uiUrl = temporalUiRunUrl(uiUrl, temporal.options.namespace, workflowId, description.runId);
  try {
    const state = await temporal.withDeadline(Date.now() + TEMPORAL_DEADLINE_MS, () => handle.query(orderStateQuery));
    view.live = {
      notificationState: state.notificationState,
      lastStatus: state.lastStatus,
      held: state.held.map((h) => ({ ...h, label: HOLD_LABELS[h.reason] })),
      waitingFor: state.waitingFor,
      completesAt: state.completesAt,
      pending: state.pending,
    };
  } catch (err) {
    view.note = `The run did not answer its state query (no worker polling, or a failing workflow task), so what waits is not shown: ${reasonOf(err)}`;
  }
  return view;
}

/** The order's story, or null when Herald has nothing for it. */
export async function orderTimeline(db: Db, temporal: Client, orderId: string, uiUrl: string | null | undefined): Promise<OrderTimelineView | null> {
  const [latest, total, position] = await Promise.all([
    db.orderEvent.findMany({ where: { orderId }, orderBy: [{ receivedAt: 'desc' }, { eventId: 'desc' }], take: TIMELINE_EVENT_LIMIT }),
    db.orderEvent.count({ where: { orderId } }),
    db.order.findUnique({ where: { orderId } }),
  ]);
  // The notifications of the events shown, and those of no event (digests), as many as events are shown: never the
  // whole history of an order with thousands of events, and never an omitted event's under "other".
  const order = [{ createdAt: 'asc' as const }, { id: 'asc' as const }];
  const [ofEvents, ofNoEvent] = await Promise.all([
    latest.length ? db.notification.findMany({ where: { eventId: { in: latest.map((e) => e.eventId) } }, orderBy: order, include: withAttemptsAndReceipts }) : [],
    db.notification.findMany({ where: { orderId, eventId: null }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: TIMELINE_EVENT_LIMIT, include: withAttemptsAndReceipts }),
  ]);
  const notifications = [...ofEvents, ...ofNoEvent.reverse()];
  if (latest.length === 0 && notifications.length === 0 && !position) return null;
  const { events, other } = eventsWithEntries([...latest].reverse(), notifications);
  return {
    orderId,
    // The newest event's customer when no position says otherwise.
    customerId: position?.customerId ?? latest[0]?.customerId ?? notifications[0]?.customerId ?? null,
    position: position ? { stage: position.stage, status: position.status, occurredAt: position.occurredAt, updatedAt: position.updatedAt } : null,
    events,
    eventsOmitted: total - latest.length,
    otherEntries: other,
    workflow: await orderWorkflow(temporal, orderId, uiUrl),
  };
}

/** A customer's profile (no device tokens), devices and orders, most recent activity first; null when Herald has nothing for them. */
export async function customerTimeline(db: Db, customerId: string, page: { limit: number; cursor?: string }): Promise<CustomerTimelineView | null> {
  const after = page.cursor ? decodeTimeCursor(page.cursor) : null;
  // A cursor this API issued holds a time PostgreSQL can read; a forged one with a year it cannot is refused here, not by SQL.
  if (after && !storableTime(after.createdAt)) throw invalidCursor();
  const [customer, orders] = await Promise.all([
    db.customer.findUnique({ where: { id: customerId }, include: { devices: { orderBy: [{ lastSeenAt: 'desc' }, { deviceId: 'asc' }] } } }),
    // receivedAt is a UTC timestamp without zone: compared and read as ISO text, as the statistics do.
    db.$queryRaw<Array<{ orderId: string; at: string }>>`
      SELECT "orderId", to_char(max("receivedAt"), 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at FROM "OrderEvent" WHERE "customerId" = ${customerId}
      GROUP BY "orderId"
      HAVING ${after ? Prisma.sql`(max("receivedAt"), "orderId") < (${after.createdAt.toISOString()}::timestamptz AT TIME ZONE 'UTC', ${after.id})` : Prisma.sql`true`}
      ORDER BY max("receivedAt") DESC, "orderId" DESC LIMIT ${page.limit + 1}`,
  ]);
  if (!customer && orders.length === 0 && !after) {
    const notified = await db.notification.findFirst({ where: { customerId }, select: { id: true } });
    if (!notified) return null;
  }
  const shown = orders.slice(0, page.limit).map((o) => ({ orderId: o.orderId, at: new Date(o.at) }));
  const ids = shown.map((o) => o.orderId);
  const [events, notifications] = ids.length
    ? await Promise.all([
        db.orderEvent.findMany({ where: { orderId: { in: ids }, customerId }, orderBy: [{ receivedAt: 'asc' }, { eventId: 'asc' }] }),
        db.notification.findMany({ where: { orderId: { in: ids }, customerId }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], include: withAttemptsAndReceipts }),
      ])
    : [[], []];
  const last = shown[shown.length - 1];
  return {
    customerId,
    profile: customer
      ? {
          name: customer.name,
          email: customer.email,
          phone: customer.phone,
          locale: customer.locale,
          timeZone: customer.timeZone,
          quietHours: customer.quietHoursStart && customer.quietHoursEnd ? { start: customer.quietHoursStart, end: customer.quietHoursEnd } : null,
        }
      : null,
    devices: (customer?.devices ?? []).map((d) => ({
      deviceId: d.deviceId,
      platform: d.platform,
      app: d.app,
      active: d.active,
      lastSeenAt: d.lastSeenAt,
      invalidatedReason: d.invalidatedReason,
    })),
    orders: shown.map((o) => ({
      orderId: o.orderId,
      lastActivityAt: o.at,
      events: eventsWithEntries(
        events.filter((e) => e.orderId === o.orderId),
        notifications.filter((n) => n.orderId === o.orderId),
      ).events,
    })),
    nextCursor: orders.length > page.limit && last ? encodeTimeCursor({ createdAt: last.at, id: last.orderId }) : null,
  };
}

/** Which of an order id, a customer id and an event id `q` is (it may be more than one). */
export async function lookup(db: Db, q: string): Promise<LookupView> {
  const [orderEvent, order, orderNotification, customer, customerEvent, customerNotification, event] = await Promise.all([
    db.orderEvent.findFirst({ where: { orderId: q }, select: { customerId: true } }),
    db.order.findUnique({ where: { orderId: q }, select: { customerId: true } }),
    db.notification.findFirst({ where: { orderId: q }, select: { customerId: true } }),
    db.customer.findUnique({ where: { id: q }, select: { id: true } }),
    db.orderEvent.findFirst({ where: { customerId: q }, select: { customerId: true } }),
    db.notification.findFirst({ where: { customerId: q }, select: { customerId: true } }),
    db.orderEvent.findUnique({ where: { eventId: q }, select: { orderId: true, customerId: true } }),
  ]);
  const matches: LookupView['matches'] = [];
  const orderOwner = orderEvent ?? order ?? orderNotification;
  if (orderOwner) matches.push({ kind: 'order', id: q, orderId: q, customerId: orderOwner.customerId, href: `/v1/orders/${q}/timeline` });
  if (customer || customerEvent || customerNotification) matches.push({ kind: 'customer', id: q, orderId: null, customerId: q, href: `/v1/customers/${q}/timeline` });
  if (event) matches.push({ kind: 'event', id: q, orderId: event.orderId, customerId: event.customerId, href: `/v1/orders/${event.orderId}/timeline` });
  return { q, matches };
}
