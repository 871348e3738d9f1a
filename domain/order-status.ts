// Order statuses, the notifications they produce and how they order; shared by API, workflows and activities.
import type { Topic } from './preferences';

export const ORDER_STATUSES = [
  'confirmed',
  'payment_failed',
  'packed',
  'shipped',
  'out_for_delivery',
  'delayed',
  'delivered',
  'cancelled',
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

const CRITICAL: ReadonlySet<OrderStatus> = new Set<OrderStatus>([
  'shipped',
  'out_for_delivery',
  'delayed',
  'cancelled',
  'payment_failed',
]);

/** Statuses after which the order's story is over (a refund may still follow). */
export const TERMINAL_STATUSES: ReadonlySet<OrderStatus> = new Set<OrderStatus>(['delivered', 'cancelled', 'refunded']);

/** Position on the fulfilment path; statuses off that path (delayed, payment_failed) have none. */
const FULFILMENT_RANK: Partial<Record<OrderStatus, number>> = {
  confirmed: 1,
  packed: 2,
  shipped: 3,
  out_for_delivery: 4,
  delivered: 5,
  cancelled: 6,
  refunded: 7,
};

export function isOrderStatus(value: unknown): value is OrderStatus {
  return typeof value === 'string' && (ORDER_STATUSES as readonly string[]).includes(value);
}

export function notificationKindFor(status: OrderStatus): NotificationKind {
  return {
    type: `order.${status}`,
    priority: CRITICAL.has(status) ? 'critical' : 'routine',
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
 * A late "packed" after "shipped", anything but a refund after the order ended, a refund twice,
 * or a delay older than the newest applied event are recorded and not announced.
 */
export function dispositionOf(position: LifecyclePosition, status: OrderStatus, occurredAt: string): EventDisposition {
  const stage = position.stage;
  const stageRank = stage === null ? 0 : (FULFILMENT_RANK[stage] ?? 0);
  const newer = position.occurredAt === null || Date.parse(occurredAt) >= Date.parse(position.occurredAt);
  if (stage === 'refunded') return 'out_of_order';
  if (stage !== null && TERMINAL_STATUSES.has(stage)) return status === 'refunded' ? 'announce' : 'out_of_order';
  switch (status) {
    case 'delayed':
      return newer ? 'announce' : 'out_of_order';
    case 'payment_failed':
      return newer && stageRank < FULFILMENT_RANK.shipped! ? 'announce' : 'out_of_order';
    case 'cancelled':
    case 'refunded':
      return 'announce';
    default:
      return (FULFILMENT_RANK[status] ?? 0) > stageRank ? 'announce' : 'out_of_order';
  }
}

/** The position after an event has been applied (announced). */
export function advance(position: LifecyclePosition, status: OrderStatus, occurredAt: string): LifecyclePosition {
  const onPath = FULFILMENT_RANK[status] !== undefined;
  const newest =
    position.occurredAt === null || Date.parse(occurredAt) > Date.parse(position.occurredAt) ? occurredAt : position.occurredAt;
  return { stage: onPath ? status : position.stage, status, occurredAt: newest };
}
