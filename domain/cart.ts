// Abandoned carts: the events a shop sends about a cart, the reminders Herald sends when it is left,
// and what ends them. Pure: shared by the API, the cart workflow and its activities.
import type { DeliveryChannel } from './delivery';
import type { NotificationKind } from './order-status';

export const CART_EVENT_TYPES = ['updated', 'checked_out', 'emptied'] as const;
export type CartEventType = (typeof CART_EVENT_TYPES)[number];

export interface CartItem {
  sku: string;
  name: string;
  quantity: number;
  /** Major units, as a decimal string (`12.50`). */
  unitPrice: string;
  imageUrl?: string;
  url?: string;
}

/** A cart event as the cart's workflow receives it. */
export interface CartEvent {
  eventId: string;
  cartId: string;
  customerId: string;
  type: CartEventType;
  /** ISO-8601 time the cart changed at the shop. */
  occurredAt: string;
}

/** An order event as the customer's open carts hear of it. */
export interface CartOrder {
  eventId: string;
  orderId: string;
  customerId: string;
  occurredAt: string;
  /** The cart the order was placed from, when the shop says (`data.cartId`). */
  cartId: string | null;
}

/** One reminder of the sequence: its channel, and how long after the cart's last update it goes. */
export interface CartReminderRule {
  after: string;
  channel: DeliveryChannel;
}

/** A push after an hour, an email with the items after a day (HERALD_CART_REMINDERS). */
export const DEFAULT_CART_REMINDERS: readonly CartReminderRule[] = [
  { after: '1 hour', channel: 'push' },
  { after: '24 hours', channel: 'email' },
];

/** Every cart reminder is marketing under the `cart-reminders` topic: consent, preferences, quiet hours and caps apply. */
export const CART_REMINDER_KIND: NotificationKind = { type: 'cart.reminder', priority: 'routine', category: 'marketing', topic: 'cart-reminders' };

/** After the last reminder, how long an order still counts as won back by it before the cart is called abandoned. */
export const CART_CONVERSION_WINDOW = '7 days';

/** How the cart ended. */
export type CartClosedReason = 'checked_out' | 'emptied' | 'ordered' | 'abandoned';

export const cartWorkflowId = (cartId: string): string => `cart:${cartId}`;

/** The notification of one reminder of the sequence a cart update started (1-based step). */
export const cartReminderId = (cartEventId: string, step: number): string => `${cartEventId}/cart-reminder-${step}`;

/**
 * Whether an order ends a cart: it names the cart, or the same customer ordered at or after the cart's
 * last update (an order placed before it was for something else).
 */
export function orderEndsCart(cart: { cartId: string; customerId: string; lastUpdatedAt: string | null }, order: CartOrder): boolean {
  if (order.cartId !== null) return order.cartId === cart.cartId;
  if (order.customerId !== cart.customerId) return false;
  return cart.lastUpdatedAt === null || Date.parse(order.occurredAt) >= Date.parse(cart.lastUpdatedAt);
}
