// The variables each template key may use: the ones every message gets, plus the event data fields its
// status may carry. Templates are checked against this list when they are saved (strict variables), and
// the examples are what a preview shows when no sample event is given. Pure data, no Node built-ins.
import { isOrderStatus, ORDER_STATUSES, type OrderStatus } from './order-status';

/** Example values are JSON: what an OMS would send in an event's `data`. */
export type TemplateExample = string | number | boolean | null | TemplateExample[] | { [key: string]: TemplateExample };

export interface TemplateVariable {
  name: string;
  description: string;
  example: TemplateExample;
}

/** The digest of routine updates merged within a short window; its updates list each status. */
export const DIGEST_TEMPLATE_KEY = 'order.digest';

/** What every template gets about its customer. */
const CUSTOMER_VARIABLES: readonly TemplateVariable[] = [
  { name: 'customerName', description: "The customer's name; may be empty.", example: 'Ada Lovelace' },
  { name: 'customerLocale', description: "The customer's locale (BCP 47), such as `fr-CA`.", example: 'en' },
  { name: 'customerTimeZone', description: "The customer's IANA time zone, such as `Europe/Paris`.", example: 'Europe/London' },
];

/** What every order template gets, whatever the status. */
export const COMMON_TEMPLATE_VARIABLES: readonly TemplateVariable[] = [
  { name: 'orderId', description: "The OMS's order id.", example: 'ORD-2026-000123' },
  { name: 'status', description: 'The order status, such as `shipped`.', example: 'shipped' },
  ...CUSTOMER_VARIABLES,
  { name: 'occurredAt', description: 'When the event happened (ISO 8601); format it with `local_date` or `datetime`.', example: '2026-11-21T10:00:00Z' },
];

const currency: TemplateVariable = { name: 'currency', description: 'ISO 4217 code of the amounts, such as `EUR`; the default of the `money` filter.', example: 'EUR' };
const eta: TemplateVariable = { name: 'eta', description: 'Estimated delivery: an ISO date or date-time (use `local_date`), or free text shown as given.', example: '2026-11-24' };
const carrier: TemplateVariable = { name: 'carrier', description: 'The carrier, such as `UPS`.', example: 'UPS' };
const trackingNumber: TemplateVariable = { name: 'trackingNumber', description: "The carrier's tracking number.", example: '1Z999AA10123456784' };
const trackingUrl: TemplateVariable = { name: 'trackingUrl', description: "A link to the carrier's tracking page.", example: 'https://track.example/1Z999AA10123456784' };
const itemCount: TemplateVariable = { name: 'itemCount', description: 'How many items the order holds; use `pluralize`.', example: 3 };
const items: TemplateVariable = {
  name: 'items',
  description: 'The order lines: a list of `{ name, quantity }`, each with an optional `sku`.',
  example: [
    { name: 'Notebook', quantity: 2, sku: 'NB-A5-DOT' },
    { name: 'Fountain pen', quantity: 1, sku: 'FP-M-BLK' },
  ],
};
const itemsOf = (description: string, example: TemplateExample): TemplateVariable => ({ name: 'items', description, example });
const total: TemplateVariable = { name: 'total', description: 'The order total in major units (`49.90`); use `money`.', example: '54.78' };
const amount = (description: string): TemplateVariable => ({ name: 'amount', description, example: '49.90' });
const reason = (description: string, example: string): TemplateVariable => ({ name: 'reason', description, example });
const pickupLocation = (description: string): TemplateVariable => ({ name: 'pickupLocation', description, example: 'Post Office, 12 Market Street, London' });
const pickupBy = (description: string): TemplateVariable => ({ name: 'pickupBy', description, example: '2026-12-01' });

/** The confirmed order's lines as a receipt shows them. */
const receiptItems: TemplateVariable = {
  name: 'items',
  description:
    'The order lines: a list of `{ name, quantity, unitPrice }` with an optional `sku`; `unitPrice` is in major units (use `money`, and `times: item.quantity` for the line total).',
  example: [
    { name: 'Notebook', quantity: 2, unitPrice: '12.50', sku: 'NB-A5-DOT' },
    { name: 'Fountain pen', quantity: 1, unitPrice: '24.90', sku: 'FP-M-BLK' },
  ],
};

/** The event data fields each status may carry (an event may carry more; templates may use only these). */
export const EVENT_DATA_VARIABLES: Readonly<Record<OrderStatus, readonly TemplateVariable[]>> = {
  confirmed: [
    receiptItems,
    itemCount,
    { name: 'subtotal', description: 'The sum of the lines before shipping, discount and tax, in major units.', example: '49.90' },
    { name: 'shipping', description: 'The shipping cost in major units (`0` for free shipping).', example: '4.90' },
    { name: 'discount', description: 'The discount taken off the order, as a positive amount in major units.', example: '5.00' },
    { name: 'tax', description: 'The tax charged on the order (VAT or sales tax), in major units.', example: '4.98' },
    total,
    currency,
    { name: 'paymentMethod', description: 'How the customer paid, as the shop shows it, such as `Visa ending in 4242`.', example: 'Visa ending in 4242' },
    { name: 'shippingMethod', description: 'The delivery option chosen, such as `Standard delivery`.', example: 'Standard delivery' },
    eta,
  ],
  payment_failed: [
    reason('Why the payment failed, such as `card declined`.', 'card declined'),
    amount('The amount that could not be taken, in major units.'),
    currency,
    { name: 'paymentUrl', description: 'Where the customer updates their payment details.', example: 'https://shop.example/orders/ORD-2026-000123/pay' },
  ],
  backordered: [
    itemsOf('The backordered lines (not the whole order): a list of `{ name, quantity }`, each with an optional `sku`.', [{ name: 'Fountain pen', quantity: 1, sku: 'FP-M-BLK' }]),
    { name: 'expectedDate', description: 'When the backordered items are expected to ship: an ISO date, or free text.', example: '2026-12-05' },
    reason('Why they are backordered, such as `restocking issues`.', 'restocking issues'),
  ],
  packed: [itemCount, items, eta],
  partially_shipped: [
    carrier,
    trackingNumber,
    trackingUrl,
    { name: 'eta', description: 'Estimated delivery of this parcel: an ISO date or date-time (use `local_date`), or free text.', example: '2026-11-24' },
    itemsOf('The lines in this parcel: a list of `{ name, quantity }`, each with an optional `sku`.', [{ name: 'Notebook', quantity: 2, sku: 'NB-A5-DOT' }]),
    { name: 'itemCount', description: 'How many items this parcel holds; use `pluralize`.', example: 2 },
    { name: 'remainingItemCount', description: 'How many items of the order are still to ship; use `pluralize`.', example: 1 },
    { name: 'remainingEta', description: 'When the rest is expected to ship: an ISO date, or free text.', example: '2026-11-28' },
  ],
  shipped: [carrier, trackingNumber, trackingUrl, eta],
  out_for_delivery: [
    // Today's delivery window: a date-time, so that `local_time` has a time of day to show.
    { name: 'eta', description: 'When the parcel should arrive today: an ISO date-time (use `local_time`), or free text such as `14:00-16:00`.', example: '2026-11-24T14:30:00Z' },
    carrier,
    trackingNumber,
    trackingUrl,
  ],
  delivery_attempted: [
    carrier,
    trackingNumber,
    trackingUrl,
    reason('Why the delivery failed, such as `nobody home`.', 'nobody home'),
    { name: 'nextAttemptAt', description: 'When the carrier tries again: an ISO date or date-time, or free text.', example: '2026-11-25' },
    pickupLocation('Where the parcel waits for the customer if it is not delivered, such as a post office.'),
    pickupBy('The last day to collect the parcel before it goes back to the shop: an ISO date, or free text.'),
    { name: 'rescheduleUrl', description: "Where the customer picks another delivery day or place (the carrier's page).", example: 'https://track.example/1Z999AA10123456784/reschedule' },
  ],
  delayed: [
    { name: 'delayReason', description: 'Why the order is late, such as `severe weather at the hub`.', example: 'severe weather at the hub' },
    { name: 'newEta', description: 'The new estimated delivery: an ISO date or date-time, or free text.', example: '2026-11-27' },
    { name: 'restockDate', description: 'When an out-of-stock item is expected back: an ISO date, or free text.', example: '2026-11-25' },
    carrier,
    trackingNumber,
  ],
  ready_for_pickup: [
    pickupLocation('Where the order waits: the store or pickup point, with its address.'),
    { name: 'pickupCode', description: 'The code to show when collecting.', example: 'K7Q4' },
    pickupBy('The last day to collect the order: an ISO date, or free text.'),
    { name: 'openingHours', description: 'When the pickup point is open, as free text.', example: 'Mon-Sat 9:00-19:00' },
  ],
  delivered: [
    { name: 'deliveredAt', description: 'When the parcel was delivered (ISO 8601).', example: '2026-11-24T13:42:00Z' },
    { name: 'deliveryLocation', description: 'Where it was left, such as `front door`.', example: 'front door' },
  ],
  picked_up: [
    { name: 'pickedUpAt', description: 'When the order was collected (ISO 8601).', example: '2026-11-26T17:05:00Z' },
    pickupLocation('Where it was collected.'),
  ],
  cancelled: [
    reason('Why the order was cancelled, such as `item out of stock`.', 'item out of stock'),
    amount('The amount refunded with the cancellation, in major units.'),
    currency,
  ],
  returned: [
    reason('Why the customer returns the items, such as `wrong size`.', 'wrong size'),
    { name: 'returnLabelUrl', description: 'Where the customer downloads the prepaid return label.', example: 'https://shop.example/returns/RMA-4821/label' },
    { name: 'returnBy', description: 'The last day to send the items back: an ISO date, or free text.', example: '2026-12-15' },
    itemsOf('The lines being returned: a list of `{ name, quantity }`, each with an optional `sku`.', [{ name: 'Notebook', quantity: 1, sku: 'NB-A5-DOT' }]),
  ],
  return_received: [
    { name: 'receivedAt', description: 'When the shop received the returned items (ISO 8601).', example: '2026-11-30T09:15:00Z' },
    amount('The refund the customer can expect, in major units.'),
    currency,
    itemsOf('The lines received back: a list of `{ name, quantity }`, each with an optional `sku`.', [{ name: 'Notebook', quantity: 1, sku: 'NB-A5-DOT' }]),
  ],
  refunded: [amount('The amount refunded, in major units.'), currency, reason('Why it was refunded.', 'returned item')],
};

/** The digest's own variable: the updates it merges, oldest first. */
export const DIGEST_VARIABLES: readonly TemplateVariable[] = [
  {
    name: 'updates',
    description:
      'The merged updates, oldest first: a list of `{ status, title, body, occurredAt }` (title and body are the push copy of each update).',
    example: [
      { status: 'confirmed', title: 'Order ORD-2026-000123 confirmed', body: 'We have received your order ORD-2026-000123.', occurredAt: '2026-11-21T10:00:00Z' },
      { status: 'packed', title: 'Order ORD-2026-000123 is packed', body: 'Your order ORD-2026-000123 is packed and waiting for the carrier.', occurredAt: '2026-11-21T10:01:00Z' },
    ],
  },
];

/** The reminder of a cart left without an order (domain/cart.ts): marketing, topic `cart-reminders`. */
export const CART_REMINDER_TEMPLATE_KEY = 'cart.reminder';

/** What a cart reminder gets: the cart as its last update left it, and who it is for (no order variables). */
export const CART_REMINDER_VARIABLES: readonly TemplateVariable[] = [
  { name: 'cartId', description: "The shop's cart id.", example: 'cart-8841' },
  ...CUSTOMER_VARIABLES,
  {
    name: 'items',
    description:
      'The cart lines: a list of `{ sku, name, quantity, unitPrice }` with an optional `imageUrl` and `url` (the product page); `unitPrice` is in major units (use `money`).',
    example: [
      { sku: 'NB-A5-DOT', name: 'Notebook', quantity: 2, unitPrice: '12.50', imageUrl: 'https://shop.example/img/nb-a5-dot.jpg', url: 'https://shop.example/p/nb-a5-dot' },
      { sku: 'FP-M-BLK', name: 'Fountain pen', quantity: 1, unitPrice: '24.90', imageUrl: 'https://shop.example/img/fp-m-blk.jpg', url: 'https://shop.example/p/fp-m-blk' },
    ],
  },
  { name: 'itemCount', description: 'How many items the cart holds (the sum of the quantities); use `pluralize`.', example: 3 },
  { name: 'total', description: 'The cart total in major units (`49.90`); use `money`.', example: '49.90' },
  currency,
  { name: 'recoveryUrl', description: 'Where the customer picks the cart up again; may be empty.', example: 'https://shop.example/cart/recover/cart-8841' },
];

/** Back-in-stock and price-drop alerts to a product's watchers (domain/product-alerts.ts names the keys). */
export const PRODUCT_TEMPLATE_VARIABLES: Readonly<Record<string, readonly TemplateVariable[]>> = {
  'product.restock': productVariables(false),
  'product.price_drop': productVariables(true),
};

function productVariables(priceDrop: boolean): TemplateVariable[] {
  return [
    ...CUSTOMER_VARIABLES,
    { name: 'sku', description: "The product's SKU.", example: 'FP-M-BLK' },
    { name: 'name', description: "The product's name.", example: 'Fountain pen' },
    { name: 'url', description: "A link to the product's page; may be empty.", example: 'https://shop.example/p/FP-M-BLK' },
    { name: 'imageUrl', description: "A picture of the product; may be empty.", example: 'https://shop.example/img/FP-M-BLK.jpg' },
    { name: 'price', description: 'The current price in major units; use `money`. May be empty.', example: priceDrop ? '39.90' : '49.90' },
    currency,
    { name: 'previousPrice', description: priceDrop ? 'The price the customer last knew (when they started watching, or the last drop they were told).' : 'The price before this event; may be empty.', example: '49.90' },
  ];
}

/** A backordered order's item back in stock: told to the order's customer when a product event restocks it. */
export const ITEM_RESTOCKED_TEMPLATE_KEY = 'order.item_restocked';

export const ITEM_RESTOCKED_VARIABLES: readonly TemplateVariable[] = [
  { name: 'sku', description: 'The SKU of the item back in stock.', example: 'FP-M-BLK' },
  { name: 'name', description: 'The name of the item back in stock.', example: 'Fountain pen' },
  { name: 'url', description: "A link to the product's page; may be empty.", example: 'https://shop.example/p/FP-M-BLK' },
];

/** Every template key Herald renders: `order.<status>` for each status, the digest, the order's item back in stock, the product alerts and the cart reminder. */
export const TEMPLATE_KEYS: readonly string[] = [
  ...ORDER_STATUSES.map((s) => `order.${s}`),
  DIGEST_TEMPLATE_KEY,
  ITEM_RESTOCKED_TEMPLATE_KEY,
  ...Object.keys(PRODUCT_TEMPLATE_VARIABLES),
  CART_REMINDER_TEMPLATE_KEY,
];

/**
 * A campaign's own templates: `campaign.<name>` (lower-case letters, digits, `-`, `_`, `.`), one key per message a
 * campaign (or a content variant of one) sends; any number of them, unlike the fixed keys above.
 */
export const CAMPAIGN_TEMPLATE_KEY_PATTERN = 'campaign\\.[a-z0-9][a-z0-9._-]{0,79}';
const CAMPAIGN_TEMPLATE_KEY = new RegExp(`^${CAMPAIGN_TEMPLATE_KEY_PATTERN}$`);

export function isCampaignTemplateKey(key: string): boolean {
  return CAMPAIGN_TEMPLATE_KEY.test(key);
}

/** What a campaign's message gets: who it is for and which campaign it belongs to (no order variables). */
export const CAMPAIGN_VARIABLES: readonly TemplateVariable[] = [
  ...CUSTOMER_VARIABLES,
  { name: 'campaignId', description: "The campaign's id.", example: 'black-friday-2026' },
  { name: 'campaignName', description: "The campaign's name.", example: 'Black Friday 2026' },
  { name: 'variant', description: 'The experiment variant the customer is in (control, b...); empty without an experiment.', example: 'control' },
];

export function isTemplateKey(key: string): boolean {
  return TEMPLATE_KEYS.includes(key) || isCampaignTemplateKey(key) || isVariantTemplateKey(key);
}

/** The name of an experiment variant's template of an order update: `order.<status>.<variant>`. */
export const VARIANT_TEMPLATE_NAME = '[a-z0-9][a-z0-9_-]{0,39}';
const VARIANT_TEMPLATE_KEY = new RegExp(`^order\\.([a-z_]+)\\.(${VARIANT_TEMPLATE_NAME})$`);

/**
 * The order key an experiment variant's template stands in for (`order.shipped.short` → `order.shipped`), with the
 * same variables; any other key is its own base.
 */
export function baseTemplateKey(key: string): string {
  const match = VARIANT_TEMPLATE_KEY.exec(key);
  return match && isOrderStatus(match[1]) ? `order.${match[1]}` : key;
}

/** Whether a key is an experiment variant's template of an order update (`order.<status>.<variant>`). */
export const isVariantTemplateKey = (key: string): boolean => baseTemplateKey(key) !== key;

/** The status a key announces (`order.shipped` and its variants `order.shipped.<variant>` → shipped); null for the digest. */
export function statusOfTemplateKey(key: string): OrderStatus | null {
  const base = baseTemplateKey(key);
  const status = base.startsWith('order.') ? base.slice('order.'.length) : '';
  return (ORDER_STATUSES as readonly string[]).includes(status) ? (status as OrderStatus) : null;
}

/** The variables a key provides, common ones first; undefined for a key Herald does not know. */
export function templateVariables(key: string): readonly TemplateVariable[] | undefined {
  key = baseTemplateKey(key);
  if (key === DIGEST_TEMPLATE_KEY) return [...COMMON_TEMPLATE_VARIABLES, ...DIGEST_VARIABLES];
  if (key === ITEM_RESTOCKED_TEMPLATE_KEY) return [...COMMON_TEMPLATE_VARIABLES, ...ITEM_RESTOCKED_VARIABLES];
  if (PRODUCT_TEMPLATE_VARIABLES[key]) return PRODUCT_TEMPLATE_VARIABLES[key];
  if (key === CART_REMINDER_TEMPLATE_KEY) return CART_REMINDER_VARIABLES;
  if (isCampaignTemplateKey(key)) return CAMPAIGN_VARIABLES;
  const status = statusOfTemplateKey(key);
  return status ? [...COMMON_TEMPLATE_VARIABLES, ...EVENT_DATA_VARIABLES[status]] : undefined;
}

/** Example values of every variable of a key, as a preview uses them by default. */
export function exampleVariables(key: string): Record<string, TemplateExample> {
  const variables = templateVariables(key) ?? COMMON_TEMPLATE_VARIABLES;
  const examples: Record<string, TemplateExample> = Object.fromEntries(variables.map((v) => [v.name, v.example]));
  if (key !== CART_REMINDER_TEMPLATE_KEY && !isCampaignTemplateKey(key)) examples.status = statusOfTemplateKey(key) ?? 'packed';
  return examples;
}
