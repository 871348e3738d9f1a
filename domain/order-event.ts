import type { OrderStatus } from './order-status';

/** The canonical order event every source is normalised into. */
export interface OrderEvent {
  eventId: string;
  orderId: string;
  customerId: string;
  status: OrderStatus;
  /** ISO-8601 time the status changed at the source. */
  occurredAt: string;
  source: string;
  /** Tracking number, carrier, delay reason, items... */
  data: Record<string, unknown>;
  /** ISO-8601 time Herald accepted the event (for latency figures). */
  receivedAt: string;
}

export const orderWorkflowId = (orderId: string): string => `order:${orderId}`;
