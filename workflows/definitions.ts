// Signals, queries and search attributes of the order notification workflow, shared with the API.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type {
  BackupReason,
  Channel,
  DeliveryChannel,
  EscalationReason,
  HoldReason,
  FallbackChannel,
  LifecyclePosition,
  NotificationStatus,
  OrderEvent,
  OrderStatus,
  SuppressionReason,
} from '../domain';
import { NOTIFICATION_RECEIPT_SIGNAL, type NotificationReceiptSignal } from '../domain/receipts';

export const TASK_QUEUE = 'herald-orders';

/**
 * Where each channel's sends went before they moved to the workflow's own task queue (for eager dispatch; the rate
 * limits are now the workers' own, activities/send-rate.ts). The worker still serves them for sends scheduled there
 * before, and product alerts still send on the push queue.
 */
export const CHANNEL_TASK_QUEUES: Record<DeliveryChannel, string> = {
  push: 'herald-push',
  email: 'herald-email',
  sms: 'herald-sms',
};

export const orderEventSignal = defineSignal<[OrderEvent]>('orderEvent');

// The receipt vocabulary lives in domain/receipts.ts, where the receipt recorder (store/) can read it too.
export { CONFIRMING_RECEIPTS, RECEIPT_TYPES, type NotificationReceiptSignal, type ReceiptType } from '../domain/receipts';

export const notificationReceiptSignal = defineSignal<[NotificationReceiptSignal]>(NOTIFICATION_RECEIPT_SIGNAL);

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
  /** What the fallback policy did about this event's push. */
  escalation?: EscalationRecord;
  /** Held back on purpose (quiet hours, a digest window) until this time; present while and after it was held. */
  held?: { reason: HoldReason; until: string };
  /** A newer status went instead (superseded) or the update went in a digest: the notification that went. */
  replacedBy?: string;
  /** Every channel of the event's plan: what became of it and why (runs before channel plans have none). */
  deliveries?: DeliveryRecord[];
}

export type { HoldReason };

/** One channel's message for an order event, as the query shows it. */
export interface DeliveryRecord {
  channel: Channel;
  notificationId: string;
  /** 0: the plan's first channels; then each backup step. */
  step: number;
  status: NotificationStatus;
  /** Why it was suppressed (preference, quiet hours superseded, digest, cap...) or why it failed. */
  reason?: string;
  /** Held back on purpose until then. */
  held?: { reason: HoldReason; until: string };
  replacedBy?: string;
  /** Push: devices that took it and devices that did not. */
  sentTo?: number;
  failedTo?: number;
}

/** A hold as the query shows it: what waits, why, and until when. */
export interface HeldView {
  /** The channel held (push unless said; runs before channel plans held push only). */
  channel?: DeliveryChannel;
  reason: HoldReason;
  until: string;
  notificationIds: string[];
  eventIds: string[];
  devices: number;
}

/** One event's fallback escalation, as the query and history show it. */
export interface EscalationRecord {
  /**
   * awaiting-receipt: the push went out and the workflow waits for its receipt until `until`;
   * confirmed: a receipt came in time; superseded: a newer status came first; escalated: the fallback
   * channels were used; not-needed: nothing to fall back to.
   */
  status: 'awaiting-receipt' | 'confirmed' | 'superseded' | 'escalated';
  channels: Array<FallbackChannel | DeliveryChannel>;
  until?: string;
  reason?: EscalationReason | BackupReason;
  /** Per fallback channel: sent, suppressed (with reason), failed or already sent. */
  results?: Array<{ channel: FallbackChannel | DeliveryChannel; notificationId: string; outcome: 'sent' | 'suppressed' | 'failed' | 'already_sent' | 'held'; detail?: string }>;
}

/**
 * Where the order's notifications stand, as the query answers and the NotificationState search
 * attribute indexes (except the millisecond-long 'sending').
 */
export type NotificationState =
  | 'idle'
  | 'sending'
  | 'waiting-for-events'
  | 'waiting-quiet-hours'
  | 'waiting-digest'
  | 'awaiting-receipt'
  | 'escalating'
  | 'done';

/** What the workflow is waiting for now, and until when. */
export interface WaitingFor {
  kind: 'receipt';
  notificationId: string;
  eventId: string;
  /** When the fallback channels go if no receipt arrives. */
  until: string;
  then: Array<FallbackChannel | DeliveryChannel>;
}

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
  /** A pending escalation: the receipt it waits for and when the fallback goes; null when none. */
  waitingFor: WaitingFor | null;
  /** Notifications held back (quiet hours, digest window) and when they go. */
  held: HeldView[];
}

export const orderStateQuery = defineQuery<OrderState>('orderState');

export const searchAttributes = {
  orderId: defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD),
  customerId: defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD),
  orderStatus: defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD),
  notificationState: defineSearchAttributeKey('NotificationState', SearchAttributeType.KEYWORD),
};

export { SEARCH_ATTRIBUTE_TYPES } from '../domain/search-attributes';

// The cart reminder workflow's signals and query (workflows/cart-definitions.ts), for the API.
export { cartEventSignal, cartOrderSignal, cartStateQuery, type CartReminderRecord, type CartState } from './cart-definitions';

// The campaign workflow's signals and query (workflows/campaign-definitions.ts), for the API.
export { campaignProgressQuery, cancelCampaignSignal, pauseCampaignSignal, resumeCampaignSignal, type CampaignProgress } from './campaign-definitions';
