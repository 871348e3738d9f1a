// The `shopify` source adapter: Shopify's order and fulfilment webhooks, checked with X-Shopify-Hmac-Sha256 and turned
// into canonical order events. Pure: the pipeline (api/sources/pipeline.ts) maps the status, validates and stores.
import { E164_NUMBER, type OrderStatus } from '../../domain';
import { constantTimeEqual, hmacSha256, parseSigningKeys, type SigningKey } from '../../lib/signing-keys';
import { localeSchema } from '../schemas';
import type { CustomerFromEvent, Normalised, RawSourceEvent, SourceAdapter, SourceConfig, Verification } from './adapter';

/** The topics the adapter reads; any other topic is ignored. */
export const SHOPIFY_TOPICS = [
  'orders/create',
  'orders/paid',
  'orders/cancelled',
  'fulfillments/create',
  'fulfillments/update',
  'fulfillment_events/create',
  'refunds/create',
] as const;

/**
 * The source's words (`sourceStatus`) and the Herald status each means by default; a source's own status map goes over
 * these. The words:
 * - `orders/create`, `orders/paid`, `orders/cancelled`, `refunds/create`: the topic itself.
 * - `fulfillments/create`: a fulfilment created as handed over (status `success`, or none); `fulfillments/create:<status>`
 *   for one created `pending` or `open` (a fulfilment service has not shipped it yet), `cancelled`, `error` or `failure`.
 * - `fulfillment:<shipment_status>`: a fulfillments/update that carries the carrier's shipment status (label_printed,
 *   label_purchased, confirmed, in_transit, out_for_delivery, attempted_delivery, ready_for_pickup, delivered, failure);
 *   `fulfillments/update:<status>` for one that carries none (success, pending, open, cancelled, error, failure).
 * - `fulfillment_event:<status>`: a fulfillment_events/create, one carrier scan (the statuses above, and Shopify's
 *   carrier_picked_up, delayed, picked_up).
 *
 * The order workflow announces a status on the fulfilment path (confirmed, shipped, out_for_delivery, delivered...) once and
 * suppresses it when it comes again, so several words may safely mean the same one: orders/paid is a confirmation too (it
 * is the first one when orders/create is not subscribed or arrives later), and an in-transit scan is "shipped" (it is news
 * only when the fulfilment came in pending or fulfillments/create was missed). A missed delivery and a delay, though, are
 * announced each time, so they come from the carrier scans alone (which carry the carrier's message); the same scan also
 * changes the fulfilment's shipment_status, and announcing both would tell the customer twice.
 * A refund may be partial, and `refunded` ends the order's story (later statuses are not announced), so refunds/create is
 * not announced by default: a cancellation with a refund already says how much comes back.
 */
export const SHOPIFY_STATUS_MAP: Record<string, OrderStatus | null> = {
  'orders/create': 'confirmed',
  'orders/paid': 'confirmed',
  'orders/cancelled': 'cancelled',
  'refunds/create': null,
  'fulfillments/create': 'shipped',
  'fulfillments/create:pending': null,
  'fulfillments/create:open': null,
  'fulfillments/create:cancelled': null,
  'fulfillments/create:error': null,
  'fulfillments/create:failure': null,
  'fulfillments/update:success': 'shipped',
  'fulfillments/update:pending': null,
  'fulfillments/update:open': null,
  'fulfillments/update:cancelled': null,
  'fulfillments/update:error': null,
  'fulfillments/update:failure': null,
  'fulfillment:label_printed': null,
  'fulfillment:label_purchased': null,
  'fulfillment:confirmed': null,
  'fulfillment:in_transit': 'shipped',
  'fulfillment:out_for_delivery': 'out_for_delivery',
  'fulfillment:attempted_delivery': null,
  'fulfillment:ready_for_pickup': 'ready_for_pickup',
  'fulfillment:delivered': 'delivered',
  'fulfillment:failure': null,
  'fulfillment_event:label_printed': null,
  'fulfillment_event:label_purchased': null,
  'fulfillment_event:confirmed': null,
  'fulfillment_event:carrier_picked_up': 'shipped',
  'fulfillment_event:in_transit': 'shipped',
  'fulfillment_event:out_for_delivery': 'out_for_delivery',
  'fulfillment_event:attempted_delivery': 'delivery_attempted',
  'fulfillment_event:delayed': 'delayed',
  'fulfillment_event:failure': 'delayed',
  'fulfillment_event:ready_for_pickup': 'ready_for_pickup',
  'fulfillment_event:picked_up': 'picked_up',
  'fulfillment_event:delivered': 'delivered',
};

const HMAC_HEADER = 'x-shopify-hmac-sha256';
const TOPIC_HEADER = 'x-shopify-topic';
const WEBHOOK_ID_HEADER = 'x-shopify-webhook-id';

/**
 * The source's `secret` is Shopify's app client secret, in the format of lib/signing-keys.ts: the secret alone, or
 * `<keyId>:<secret>` pairs separated by commas (`new:shpss_...,old:shpss_...`). A webhook verifies when its
 * X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256 of the raw body) matches under any one of them, so a rotated client secret
 * is added first and the old one dropped once Shopify signs with the new one.
 */
export function shopifySecrets(secret: string): SigningKey[] {
  return parseSigningKeys(secret);
}

function verify(source: SourceConfig, raw: RawSourceEvent): Verification {
  const given = raw.headers[HMAC_HEADER]?.trim();
  if (!given) return { ok: false, reason: 'the X-Shopify-Hmac-Sha256 header is missing' };
  if (!source.secret) return { ok: false, reason: `source '${source.sourceId}' has no secret to check X-Shopify-Hmac-Sha256 with` };
  let keys: SigningKey[];
  try {
    keys = shopifySecrets(source.secret);
  } catch (err) {
    return { ok: false, reason: `the secret of source '${source.sourceId}' is unusable: ${(err as Error).message}` };
  }
  // Every key is tried (no early exit), so the time taken says nothing about which one matched.
  const matches = keys.map((key) => constantTimeEqual(given, hmacSha256(key, raw.body).toString('base64')));
  return matches.includes(true) ? { ok: true } : { ok: false, reason: 'X-Shopify-Hmac-Sha256 does not match the body' };
}

/**
 * JSON.parse, except that integers too large for a JavaScript number come back as strings: Shopify's ids are 64-bit
 * (its documented samples use 18-digit ones), and a number would round them to another order's id.
 */
export function parseShopifyJson(body: Buffer | string): unknown {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  let out = '';
  let copied = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      let end = c === '-' ? i + 1 : i;
      while (end < text.length && text[end] >= '0' && text[end] <= '9') end++;
      const integer = !['.', 'e', 'E'].includes(text[end]);
      const literal = text.slice(i, end);
      if (integer && !Number.isSafeInteger(Number(literal))) {
        out += `${text.slice(copied, i)}"${literal}"`;
        copied = end;
      }
      while (end < text.length && /[0-9.eE+-]/.test(text[end])) end++;
      i = end;
    } else {
      i++;
    }
  }
  return JSON.parse(out + text.slice(copied));
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);
const idOf = (v: unknown): string | undefined => (typeof v === 'number' && Number.isFinite(v) ? String(v) : str(v));
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const objects = (v: unknown): Json[] => list(v).filter(isObject);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** The object without its undefined and null entries (a template's `{% if %}` then sees what is really there). */
function compact(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== null));
}

/**
 * Amounts in the currency the customer paid in: a `*_set`'s presentment money, or the plain shop-currency field when the
 * order's presentment currency is the shop's own.
 */
function moneyReader(order: Json) {
  const shopCurrency = str(order.currency);
  const currency = str(order.presentment_currency) ?? shopCurrency;
  const sameCurrency = currency === shopCurrency;
  const read = (set: unknown, plain: unknown): string | undefined => {
    const presented = isObject(set) && isObject(set.presentment_money) ? set.presentment_money.amount : undefined;
    if (typeof presented === 'string' || typeof presented === 'number') return String(presented);
    if (sameCurrency && (typeof plain === 'string' || typeof plain === 'number')) return String(plain);
    return undefined;
  };
  return { currency, read };
}

interface Line {
  name: string;
  quantity: number;
  sku?: string;
  unitPrice?: string;
}

function linesOf(items: unknown, price?: (line: Json) => string | undefined): Line[] {
  return objects(items)
    .map((li) => {
      const quantity = num(li.current_quantity) ?? num(li.quantity) ?? 0;
      return compact({ name: str(li.name) ?? str(li.title) ?? 'Item', quantity, sku: str(li.sku), unitPrice: price?.(li) }) as unknown as Line;
    })
    .filter((line) => line.quantity > 0);
}

const itemCountOf = (lines: Line[]) => lines.reduce((n, line) => n + line.quantity, 0);

/** Lines listed in an event's data: a large order's full list would pass the 16 KiB the canonical `data` may hold. */
export const MAX_LISTED_LINES = 25;

/** `items` (the first lines), `itemCount` (all of them) and `moreLines` (how many lines were left off). */
function itemsData(lines: Line[]): Record<string, unknown> {
  return {
    items: lines.slice(0, MAX_LISTED_LINES),
    itemCount: itemCountOf(lines),
    moreLines: lines.length > MAX_LISTED_LINES ? lines.length - MAX_LISTED_LINES : undefined,
  };
}

/** What the cancellation template may show the customer; fraud, staff and other reasons are not theirs to read. */
const CANCEL_REASON_TEXT: Record<string, string> = {
  customer: 'at your request',
  inventory: 'items out of stock',
  declined: 'the payment was declined',
};

/** The sum of successful refund transactions, with their currency (when the transactions name one). */
function refundedAmount(transactions: Json[]): { amount?: string; currency?: string } {
  const refunds = transactions.filter((t) => t.kind === 'refund' && t.status === 'success');
  const cents = refunds.reduce((sum, t) => sum + Math.round(Number(t.amount ?? 0) * 100), 0);
  if (refunds.length === 0 || !Number.isFinite(cents)) return {};
  return { amount: (cents / 100).toFixed(2), currency: refunds.map((t) => str(t.currency)).find(Boolean) };
}

function phoneOf(...candidates: unknown[]): string | undefined {
  for (const candidate of candidates) {
    const phone = str(candidate)?.replace(/[\s().-]/g, '');
    if (phone && E164_NUMBER.test(phone)) return phone;
  }
  return undefined;
}

/** The customer profile an order payload carries: only what it says, so nothing already known is cleared. */
function customerOf(order: Json): CustomerFromEvent | undefined {
  const customer = isObject(order.customer) ? order.customer : undefined;
  const customerId = idOf(customer?.id);
  if (!customer || !customerId) return undefined;
  const address = [order.shipping_address, order.billing_address, customer.default_address].find(
    (a): a is Json => isObject(a) && str(a.country_code) !== undefined,
  );
  const name = [str(customer.first_name), str(customer.last_name)].filter(Boolean).join(' ');
  const locale = str(order.customer_locale);
  return compact({
    customerId,
    name: name || undefined,
    email: str(customer.email) ?? str(order.email) ?? str(order.contact_email),
    phone: phoneOf(customer.phone, order.phone),
    locale: locale && localeSchema.safeParse(locale).success ? locale : undefined,
    country: str(address?.country_code),
  }) as unknown as CustomerFromEvent;
}

interface Parts {
  sourceStatus: string;
  orderId: string | undefined;
  customerId?: string;
  occurredAt: string | undefined;
  data: Record<string, unknown>;
  customer?: CustomerFromEvent;
}

function orderParts(topic: string, order: Json): Parts {
  const { currency, read } = moneyReader(order);
  const items = linesOf(order.line_items, (li) => read(li.price_set, li.price));
  const shippingLine = objects(order.shipping_lines)[0];
  const common = compact({
    orderName: str(order.name),
    orderNumber: num(order.order_number) ?? idOf(order.order_number),
    orderStatusUrl: str(order.order_status_url),
    financialStatus: str(order.financial_status),
    currency,
  });
  let data: Record<string, unknown>;
  let occurredAt: unknown;
  if (topic === 'orders/cancelled') {
    const cancelReason = str(order.cancel_reason);
    const refunded = refundedAmount(objects(order.refunds).flatMap((r) => objects(r.transactions)));
    data = compact({
      ...common,
      cancelReason,
      reason: cancelReason ? CANCEL_REASON_TEXT[cancelReason] : undefined,
      amount: refunded.amount,
      currency: refunded.currency ?? currency,
      ...itemsData(items),
    });
    occurredAt = order.cancelled_at ?? order.updated_at;
  } else {
    data = compact({
      ...common,
      ...itemsData(items),
      subtotal: read(order.subtotal_price_set, order.subtotal_price),
      shipping: read(order.total_shipping_price_set, undefined),
      discount: read(order.total_discounts_set, order.total_discounts),
      tax: read(order.total_tax_set, order.total_tax),
      total: read(order.total_price_set, order.total_price),
      shippingMethod: str(shippingLine?.title),
    });
    occurredAt = topic === 'orders/paid' ? (order.updated_at ?? order.processed_at) : (order.created_at ?? order.processed_at);
  }
  const customer = customerOf(order);
  return { sourceStatus: topic, orderId: idOf(order.id), customerId: customer?.customerId, occurredAt: str(occurredAt), data, customer };
}

function fulfilmentParts(topic: 'fulfillments/create' | 'fulfillments/update', f: Json): Parts {
  const status = str(f.status);
  const shipmentStatus = str(f.shipment_status);
  let sourceStatus: string;
  if (topic === 'fulfillments/create') sourceStatus = !status || status === 'success' ? topic : `${topic}:${status}`;
  else sourceStatus = shipmentStatus ? `fulfillment:${shipmentStatus}` : `${topic}:${status ?? 'success'}`;
  const items = linesOf(f.line_items);
  const trackingNumbers = list(f.tracking_numbers).map(str).filter(Boolean);
  const trackingUrls = list(f.tracking_urls).map(str).filter(Boolean);
  const occurredAt = str(topic === 'fulfillments/create' ? (f.created_at ?? f.updated_at) : (f.updated_at ?? f.created_at));
  const data = compact({
    fulfillmentId: idOf(f.id),
    fulfillmentName: str(f.name),
    fulfillmentStatus: status,
    shipmentStatus,
    carrier: str(f.tracking_company),
    trackingNumber: str(f.tracking_number) ?? trackingNumbers[0],
    trackingUrl: str(f.tracking_url) ?? trackingUrls[0],
    trackingNumbers: trackingNumbers.length > 1 ? trackingNumbers : undefined,
    trackingUrls: trackingUrls.length > 1 ? trackingUrls : undefined,
    ...itemsData(items),
    deliveredAt: shipmentStatus === 'delivered' ? occurredAt : undefined,
    reason: shipmentStatus === 'attempted_delivery' ? 'the carrier could not deliver the parcel' : undefined,
    delayReason: shipmentStatus === 'failure' ? 'the carrier reported a delivery failure' : undefined,
  });
  return { sourceStatus, orderId: idOf(f.order_id), occurredAt, data };
}

function carrierEventParts(e: Json): Parts {
  const status = str(e.status) ?? 'unknown';
  const message = str(e.message);
  const occurredAt = str(e.happened_at) ?? str(e.created_at);
  const place = [e.address1, e.city, e.province, e.zip, e.country].map(str).filter(Boolean).join(', ');
  const data = compact({
    fulfillmentId: idOf(e.fulfillment_id),
    fulfillmentEventId: idOf(e.id),
    carrierStatus: status,
    carrierMessage: message,
    location: place || undefined,
    eta: str(e.estimated_delivery_at),
    deliveredAt: status === 'delivered' ? occurredAt : undefined,
    reason: status === 'attempted_delivery' ? (message ?? 'the carrier could not deliver the parcel') : undefined,
    delayReason: status === 'failure' || status === 'delayed' ? (message ?? 'the carrier reported a delay') : undefined,
    newEta: status === 'failure' || status === 'delayed' ? str(e.estimated_delivery_at) : undefined,
    pickupLocation: status === 'ready_for_pickup' && str(e.address1) ? place : undefined,
  });
  return { sourceStatus: `fulfillment_event:${status}`, orderId: idOf(e.order_id), occurredAt, data };
}

function refundParts(r: Json): Parts {
  const lines = objects(r.refund_line_items);
  const refunded = refundedAmount(objects(r.transactions));
  const lineCurrency = lines
    .map((l) => (isObject(l.subtotal_set) && isObject(l.subtotal_set.presentment_money) ? str(l.subtotal_set.presentment_money.currency_code) : undefined))
    .find(Boolean);
  const items = lines
    .map((l) => {
      const item = isObject(l.line_item) ? l.line_item : {};
      return compact({ name: str(item.name) ?? str(item.title) ?? 'Item', quantity: num(l.quantity) ?? 0, sku: str(item.sku) });
    })
    .filter((l) => (l.quantity as number) > 0);
  const data = compact({
    refundId: idOf(r.id),
    amount: refunded.amount,
    currency: refunded.currency ?? lineCurrency,
    reason: str(r.note),
    items: items.length > 0 ? items.slice(0, MAX_LISTED_LINES) : undefined,
    restock: typeof r.restock === 'boolean' ? r.restock : undefined,
  });
  return { sourceStatus: 'refunds/create', orderId: idOf(r.order_id), occurredAt: str(r.processed_at) ?? str(r.created_at), data };
}

function normalise(source: SourceConfig, raw: RawSourceEvent): Normalised {
  const topic = raw.headers[TOPIC_HEADER]?.trim();
  const webhookId = raw.headers[WEBHOOK_ID_HEADER]?.trim();
  // Shopify sends a retry with the webhook id of the first try, so the same delivery is one event, notified once.
  const eventId = webhookId ? `shopify:${webhookId}` : undefined;
  if (!topic) return { kind: 'ignored', reason: 'the X-Shopify-Topic header is missing', eventId };
  if (!(SHOPIFY_TOPICS as readonly string[]).includes(topic)) {
    return { kind: 'ignored', reason: `Shopify topic ${topic} is not an order update`, sourceStatus: topic, eventId };
  }
  let payload: unknown;
  try {
    payload = parseShopifyJson(raw.body);
  } catch {
    payload = raw.payload;
  }
  // A body that is not an object leaves the fields empty, so validation names what is missing.
  const body: Json = isObject(payload) ? payload : {};
  const parts =
    topic === 'fulfillments/create' || topic === 'fulfillments/update'
      ? fulfilmentParts(topic, body)
      : topic === 'fulfillment_events/create'
        ? carrierEventParts(body)
        : topic === 'refunds/create'
          ? refundParts(body)
          : orderParts(topic, body);
  const event = compact({
    eventId,
    orderId: parts.orderId,
    customerId: parts.customerId,
    occurredAt: parts.occurredAt,
    source: source.sourceId,
    data: parts.data,
  });
  return parts.customer ? { kind: 'event', sourceStatus: parts.sourceStatus, event, customer: parts.customer } : { kind: 'event', sourceStatus: parts.sourceStatus, event };
}

/** Synchronous, unlike the contract allows: its tests read the result directly. */
export const shopifyAdapter = {
  name: 'shopify',
  defaultStatusMap: SHOPIFY_STATUS_MAP,
  verify,
  normalise,
} satisfies SourceAdapter;
