// Signals, queries and search attributes of the order notification workflow, shared with the API.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { LifecyclePosition, NotificationStatus, OrderEvent, OrderStatus, SuppressionReason } from '../domain';

export const TASK_QUEUE = 'herald-orders';

export const orderEventSignal = defineSignal<[OrderEvent]>('orderEvent');

export interface ProcessedEvent {
  eventId: string;
  status: OrderStatus;
  occurredAt: string;
  disposition: 'announced' | 'out_of_order';
  notificationId: string;
  notificationStatus: NotificationStatus;
  suppressionReason?: SuppressionReason;
  sentTo: number;
  failedTo: number;
  /** Already handled by an earlier run of this order; nothing was sent again. */
  duplicate?: boolean;
}

export type NotificationState = 'idle' | 'sending' | 'waiting-for-events' | 'done';

export interface OrderState {
  orderId: string;
  customerId: string;
  lastStatus: OrderStatus | null;
  position: LifecyclePosition;
  notificationState: NotificationState;
  /** Events received and not yet processed, oldest first. */
  pending: Array<Pick<OrderEvent, 'eventId' | 'status' | 'occurredAt'>>;
  /** Newest last; bounded, the database keeps the full history. */
  processed: ProcessedEvent[];
  /** When the workflow will complete if no further event arrives (after a terminal status). */
  completesAt: string | null;
}

export const orderStateQuery = defineQuery<OrderState>('orderState');

export const searchAttributes = {
  orderId: defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD),
  customerId: defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD),
  orderStatus: defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD),
  notificationState: defineSearchAttributeKey('NotificationState', SearchAttributeType.KEYWORD),
};

/** Names and types the Temporal server must know; registered by `npm start` and documented for clusters. */
export const SEARCH_ATTRIBUTE_TYPES: Record<string, 'Keyword'> = {
  OrderId: 'Keyword',
  CustomerId: 'Keyword',
  OrderStatus: 'Keyword',
  NotificationState: 'Keyword',
};
