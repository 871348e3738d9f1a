// Back-in-stock and price-drop alerts: what a product event means for a watch. Pure, shared by the API,
// the alert activities and the alert workflow.
import type { NotificationKind } from './order-status';

export const WATCH_KINDS = ['restock', 'price_drop'] as const;
export type WatchKind = (typeof WATCH_KINDS)[number];

/** One workflow per product event: the same event posted twice can never alert twice. */
export const productAlertWorkflowId = (sku: string, eventId: string): string => `product-alert:${sku}:${eventId}`;

/** The notification of one watch for one product event: its id is the record that it was handled. */
export const watchNotificationId = (eventId: string, watchId: string): string => `product-alert:${eventId}:${watchId}`;

/** Watchers handed to one activity: FCM takes 500 messages per sendEach call. */
export const WATCH_BATCH_SIZE = 500;

export const PRODUCT_TEMPLATE_KEYS = { restock: 'product.restock', price_drop: 'product.price_drop' } as const satisfies Record<WatchKind, string>;

/** Marketing (consent, preferences, caps), routine (quiet hours apply). */
export const WATCH_NOTIFICATION_KINDS: Readonly<Record<WatchKind, NotificationKind>> = {
  restock: { type: PRODUCT_TEMPLATE_KEYS.restock, priority: 'routine', category: 'marketing', topic: 'restock' },
  price_drop: { type: PRODUCT_TEMPLATE_KEYS.price_drop, priority: 'routine', category: 'marketing', topic: 'price-drops' },
};

/** The notice to a backordered order's customer that an item of the order is back in stock. */
export const ITEM_RESTOCKED_KIND: NotificationKind = { type: 'order.item_restocked', priority: 'routine', category: 'transactional', topic: 'order-updates' };

/** The notice of one backordered order for one restock: its id is the record that it was handled. */
export const itemRestockedNotificationId = (eventId: string, orderId: string): string => `item-restocked:${eventId}:${orderId}`;

/** What the API worked out when it stored a product event, against the product's last known state. */
export interface ProductChange {
  eventId: string;
  sku: string;
  /** The product was known unavailable and is now available. */
  restocked: boolean;
  /** The event's price (major units, decimal text), when it gave one. */
  price: string | null;
  previousPrice: string | null;
  currency: string | null;
}

/** Whether an event is a restock: the product was known unavailable (false) and the event says available. */
export function isRestock(wasAvailable: boolean | null, available: boolean | undefined): boolean {
  return wasAvailable === false && available === true;
}

/**
 * Whether a price_drop watch fires at `price`: below its threshold when it has one, and below its baseline
 * (the price when watched, then the last price it was told) when it has one. A watch with neither has
 * nothing to measure a drop from.
 */
export function priceDropFires(price: number, watch: { below: number | null; baselinePrice: number | null }): boolean {
  if (watch.below === null && watch.baselinePrice === null) return false;
  return (watch.below === null || price < watch.below) && (watch.baselinePrice === null || price < watch.baselinePrice);
}
