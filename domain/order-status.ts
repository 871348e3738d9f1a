// Order statuses, the notifications they produce and how they order; shared by API, workflows and activities.
import type { Topic } from './preferences';

export const ORDER_STATUSES = [
  'confirmed',
  'payment_failed',
  'backordered',
  'packed',
  'partially_shipped',
  'shipped',
  'out_for_delivery',
  'delivery_attempted',
  'delayed',
  'ready_for_pickup',
  'delivered',
  'picked_up',
  'cancelled',
  'returned',
  'return_received',
  'refunded',
] as const;

export type OrderStatus = (typeof ORDER_STATUSES)[number];

export type Priority = 'critical' | 'routine';

export type NotificationCategory = 'transactional' | 'marketing';

export interface NotificationKind {
  /** Template key and notification type, e.g. `order.shipped`. */
  type: string;
  priority: Priority;
  category: NotificationCategory;
  /** The finer category under `category` (domain/preferences.ts); optional because kinds in older histories have none. */
  topic?: Topic;
}

/**
 * What the customer must hear at once: the parcel is moving or needs them, or something went wrong.
 * These bypass quiet hours, digests and frequency caps (never consent).
 */
export const CRITICAL_STATUSES: ReadonlySet<OrderStatus> = new Set<OrderStatus>([
  'payment_failed',
  'backordered',
  'partially_shipped',
  'shipped',
  'out_for_delivery',
  'delivery_attempted',
  'delayed',
  'cancelled',
]);

/** Statuses after which the order's story is over (a return or a refund may still follow). */
export const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set<OrderStatus>(['delivered', 'picked_up', 'cancelled', 'refunded']);

/**
 * Position on the fulfilment path; statuses off it (payment_failed, backordered, delivery_attempted,
 * delayed) have none. Equal ranks are alternatives (delivered or picked up).
 */
const FULFILMENT_RANK: Partial<Record<OrderStatus, number>> = {
  confirmed: 10,
  packed: 20,
  partially_shipped: 25,
  shipped: 30,
  out_for_delivery: 40,
  ready_for_pickup: 45,
  delivered: 50,
  picked_up: 50,
  cancelled: 60,
  returned: 70,
  return_received: 75,
  refunded: 80,
};

/** After the order reached the customer, only the return and the refund still move it on. */
const AFTER_HANDOVER: ReadonlySet<OrderStatus> = new Set<OrderStatus>(['returned', 'return_received', 'refunded']);

export function isOrderStatus(value: unknown): value is OrderStatus {
  return typeof value === 'string' && (ORDER_STATUSES as readonly string[]).includes(value);
}

export function notificationKindFor(status: OrderStatus): NotificationKind {
  return {
    type: `order.${status}`,
    priority: CRITICAL_STATUSES.has(status) ? 'critical' : 'routine',
    category: 'transactional',
    topic: 'order-updates',
  };
}

export type EventDisposition = 'announce' | 'out_of_order';

export interface LifecyclePosition {
  /** The furthest status on the fulfilment path applied so far. */
  stage: OrderStatus | null;
  /** The last status applied, on the path or off it. */
  status: OrderStatus | null;
  /** ISO time of the newest event applied so far. */
  occurredAt: string | null;
}

export const START_POSITION: LifecyclePosition = { stage: null, status: null, occurredAt: null };

/**
 * Decides whether an order event moves the order on (and is announced) or arrived late.
 * A late "packed" after "shipped", anything but a return or refund after the order reached the
 * customer, anything but a refund after a cancellation, a refund twice, or a delay older than the
 * newest applied event are recorded and not announced. Statuses that may happen more than once
 * (another partial shipment, another failed delivery attempt and the next round out for delivery,
 * another delay) are announced each time they are newer than what came before.
 */
export function dispositionOf(position: LifecyclePosition, status: OrderStatus, occurredAt: string): EventDisposition {
  const stage = position.stage;
  const stageRank = stage === null ? 0 : (FULFILMENT_RANK[stage] ?? 0);
  const rank = (s: OrderStatus) => FULFILMENT_RANK[s]!;
  const newer = position.occurredAt === null || Date.parse(occurredAt) >= Date.parse(position.occurredAt);
  if (stage === 'refunded') return 'out_of_order';
  if (stage === 'cancelled') return status === 'refunded' ? 'announce' : 'out_of_order';
  if (stage !== null && (TERMINAL_STATUSES.has(stage) || AFTER_HANDOVER.has(stage))) {
    return AFTER_HANDOVER.has(status) && rank(status) > stageRank ? 'announce' : 'out_of_order';
  }
  switch (status) {
    case 'delayed':
      return newer ? 'announce' : 'out_of_order';
    case 'payment_failed':
    case 'backordered':
      return newer && stageRank < rank('shipped') ? 'announce' : 'out_of_order';
    case 'delivery_attempted':
      // A parcel of a partial shipment can miss its customer too.
      return newer && stageRank >= rank('partially_shipped') ? 'announce' : 'out_of_order';
    case 'partially_shipped':
      return newer && stageRank <= rank('partially_shipped') ? 'announce' : 'out_of_order';
    case 'out_for_delivery':
      // After a missed delivery the parcel goes out again, and that round is news too.
      if (stage === 'out_for_delivery' && position.status === 'delivery_attempted') return newer ? 'announce' : 'out_of_order';
      return rank(status) > stageRank ? 'announce' : 'out_of_order';
    case 'cancelled':
    case 'refunded':
      return 'announce';
    case 'returned':
    case 'return_received':
      return 'out_of_order';
    default:
      return rank(status) > stageRank ? 'announce' : 'out_of_order';
  }
}

/** The position after an event has been applied (announced). */
export function advance(position: LifecyclePosition, status: OrderStatus, occurredAt: string): LifecyclePosition {
  const onPath = FULFILMENT_RANK[status] !== undefined;
  const newest =
    position.occurredAt === null || Date.parse(occurredAt) > Date.parse(position.occurredAt) ? occurredAt : position.occurredAt;
  return { stage: onPath ? status : position.stage, status, occurredAt: newest };
}
