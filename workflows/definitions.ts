// Signals, queries and search attributes of the order notification workflow, shared with the API.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { LifecyclePosition, NotificationStatus, OrderEvent, OrderStatus, SuppressionReason } from '../domain';

export const TASK_QUEUE = 'herald-orders';

export const orderEventSignal = defineSignal<[OrderEvent]>('orderEvent');

/** What became of a notification after the provider took it. */
export const RECEIPT_TYPES = ['delivered', 'opened', 'clicked', 'bounced', 'complained', 'failed'] as const;
export type ReceiptType = (typeof RECEIPT_TYPES)[number];

/** Receipts that prove the customer got the message: they cancel a pending escalation. */
export const CONFIRMING_RECEIPTS: ReadonlySet<ReceiptType> = new Set<ReceiptType>(['delivered', 'opened', 'clicked']);

/**
 * A receipt for one of the order's notifications, signalled by the API after it has recorded it
 * (app receipts, email tracking and bounce webhooks, Twilio status callbacks).
 */
export interface NotificationReceiptSignal {
  notificationId: string;
  type: ReceiptType;
  occurredAt: string;
  source: string;
}

export const notificationReceiptSignal = defineSignal<[NotificationReceiptSignal]>('notificationReceipt');

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
