// Signals and the query of the cart reminder workflow, shared with the API.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CartClosedReason, CartEvent, CartOrder, DeliveryChannel } from '../domain';

export const cartEventSignal = defineSignal<[CartEvent]>('cartEvent');

/** An order of the cart's customer (or one naming the cart) was stored: it may end the cart. */
export const cartOrderSignal = defineSignal<[CartOrder]>('cartOrder');

/** One reminder of the cart, as the query shows it. */
export interface CartReminderRecord {
  step: number;
  channel: DeliveryChannel;
  notificationId: string;
  /** The update whose sequence it belongs to. */
  cartEventId: string;
  /** withdrawn: it waited (quiet hours) and the cart changed or ended first. */
  outcome: 'sent' | 'suppressed' | 'failed' | 'capped' | 'withdrawn';
  reason?: string;
  at: string;
}

export interface CartState {
  cartId: string;
  customerId: string;
  /** The last `updated` event: when the shop says it happened, and when this run heard of it (the reminders count from then). */
  lastUpdate: { eventId: string; occurredAt: string; heardAt: string } | null;
  /** The next reminder of the sequence and when it is due; null when none is left or the cart is closed. */
  next: { step: number; channel: DeliveryChannel; dueAt: string } | null;
  /** A reminder waiting for the customer's quiet hours to end. */
  waiting: { step: number; channel: DeliveryChannel; notificationId: string; until: string } | null;
  /** Newest last; bounded, the database keeps them all. */
  reminders: CartReminderRecord[];
  closed: { reason: CartClosedReason; at: string; orderId?: string; converted: boolean } | null;
}

export const cartStateQuery = defineQuery<CartState>('cartState');
