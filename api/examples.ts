// The examples of the OpenAPI document (api/openapi.ts), by operationId: for each operation, the request it
// documents (path and query parameters, body) and an example of every answer it documents, successes and
// errors. They tell one customer's story, the README's: Ada (customer c-42) orders 1001, it ships with UPS,
// the push about it reaches her iPhone. (The night before, it was packed before she had the app: the email
// about it waited for her quiet hours to end, the order timeline's second example.) So the requests fit
// together: sent in order (customer, device, event, then what refers to them), each example request gets its
// documented success (test/openapi-examples.test.ts does exactly that against the real stack).
//
// Every example is typed against the zod schema it illustrates (`z.input`: the wire format), so an example
// that drifts from its schema fails `tsc`; the test also parses each one with the route's own schemas.
import type { z } from 'zod';
import { templateVariables } from '../domain/template-variables';
import { BACKUP_LABELS, explainNotification, HOLD_LABELS, reasonLabel, SUPPRESSION_LABELS } from '../domain/reasons';
import type { Scope } from './auth';
import { tooManyStreams } from './inbox-streams';
import { rateLimitedMessage, type Budget } from './rate-limits';
import * as req from './schemas';
import * as res from './response-schemas';
import { receiptToken } from '../lib/receipt-tokens';
import { hmacSha256 } from '../lib/signing-keys';
import { clickUrl, openUrl } from '../lib/tracking';
import { CUSTOMER_TOKEN_SECRET, mintCustomerToken } from './customer-tokens';
import type { CustomerAccess } from './route';
import * as campaigns from './campaign-schemas';
import * as carts from './cart-schemas';
import * as segments from './segment-schemas';
import * as rq from './quarantine-schemas';
import { REJECTION_REASONS } from './sources/rejections';
import { EXPERIMENT_EXAMPLES } from './experiment-examples';
import { SOURCE_EXAMPLES } from './sources/examples';

/** One named example of an answer, as the document's Example Object. */
export interface Example {
  summary: string;
  description?: string;
  value: unknown;
}

/** What the document shows for one operation. */
export interface OperationExamples {
  /** Path parameters, by name: the path the example requests. */
  params?: Record<string, string>;
  /** Query parameters the example sends. */
  query?: Record<string, string>;
  /** The request body (JSON, or the fields of a form-encoded one). */
  body?: unknown;
  /** Header parameters the example sends (other than Authorization). */
  headers?: Record<string, string>;
  /** Examples of the answers, by status, each by name: the successes, and the errors the operation documents. */
  responses: Record<number, Record<string, Example>>;
}

// ------------------------------------------------------------------------------------------ typed helpers

const params = <S extends z.ZodType>(_schema: S, value: z.input<S> & Record<string, string>): z.input<S> & Record<string, string> => value;
const query = <S extends z.ZodType>(_schema: S, value: z.input<S> & Record<string, string>): Record<string, string> => value;
const body = <S extends z.ZodType>(_schema: S, value: z.input<S>): z.input<S> => value;
const answer = <S extends z.ZodType>(_schema: S, summary: string, value: z.input<S>, description?: string): Example => ({
  summary,
  ...(description ? { description } : {}),
  value,
});
type ErrorInput = z.input<typeof res.errorResponse>['error'];
const error = (summary: string, code: string, message: string, fields?: ErrorInput['fields']): Example =>
  answer(res.errorResponse, summary, { error: { code, message, ...(fields ? { fields } : {}) } });
/** A 400 naming one bad field, as the API words it: `invalid <part>: <field>: <reason>`. */
const invalid = (part: 'path' | 'query' | 'body', field: string, reason: string, summary = `An invalid ${part === 'body' ? 'body' : `${part} parameter`}`): Example =>
  error(summary, 'validation_failed', `invalid ${part}: ${field}: ${reason}`, [{ field, reason }]);
/** A 400 of the strict-variable check of a template's text. */
const invalidTemplate = (field: string, reason: string, summary: string): Example =>
  error(summary, 'validation_failed', `invalid template: ${field}: ${reason}`, [{ field, reason }]);
const notFound = (message: string, summary = 'Not found'): Example => error(summary, 'not_found', message);
/** An intake's 503 while PostgreSQL is down: nothing was stored, the client sends it again after Retry-After. */
const DATABASE_UNAVAILABLE = {
  databaseUnavailable: error(
    'PostgreSQL is down: nothing was stored; send it again after Retry-After',
    'database_unavailable',
    'the database is unavailable: nothing was stored; retry in 5 s (error id 4b1e8f0a-2c57-4d1e-9a43-7e0c2b9d5f61)',
  ),
};

// ------------------------------------------------------------------------------------------------ the story

export const CUSTOMER_ID = 'c-42';
export const ORDER_ID = '1001';
export const EVENT_ID = 'evt-1001-shipped';
export const OCCURRED_AT = '2026-12-01T09:30:00Z';
const SOURCE = 'shop';
export const DEVICE_ID = 'iphone-ada';
const APNS_TOKEN = '5f2b9c1e8d4a7b3c6e0f9a2d4b8c1e7f3a6d9b2c5e8f1a4d7b0c3e6f9a2b5c8d';
export const PUSH_ID = `${EVENT_ID}/push`;
export const EMAIL_ID = `${EVENT_ID}/email`;
/** The tracking links of the shipment's email, signed with an example key (test/openapi-examples.test.ts signs them with the stack's). */
const EXAMPLE_TRACKING = { keys: [{ id: 'k1', secret: 'example-tracking-secret' }], publicUrl: 'https://herald.shop.example' };
export const EXAMPLE_CLICK_TARGET = 'https://shop.example/orders/1001';
const EXAMPLE_OPEN_TOKEN = decodeURIComponent(openUrl(EXAMPLE_TRACKING, EMAIL_ID).split('/').pop()!);
const EXAMPLE_CLICK_TOKEN = decodeURIComponent(clickUrl(EXAMPLE_TRACKING, EMAIL_ID, EXAMPLE_CLICK_TARGET).split('/').pop()!.split('?')[0]!);
/** The push's receipt token, signed with an example key (test/openapi-examples.test.ts takes the real one from the delivered push). */
const EXAMPLE_RECEIPT_TOKEN = receiptToken([{ id: 'k1', secret: 'example-receipt-secret' }], PUSH_ID);
export const SMS_ID = `${EVENT_ID}/sms`;
export const EMAIL = 'ada@example.com';
export const PHONE = '+447700900123';
/** The Message-ID Herald sent the shipment's email with, and the SID of the SMS: what provider reports name. */
export const EMAIL_MESSAGE_ID = '<3f9a1c7e5b2d4f8a9c0e1b3d5f7a9c2e@shop.example>';
export const TWILIO_MESSAGE_SID = 'SM3f9a1c7e5b2d4f8a9c0e1b3d5f7a9c2e';
export const INBOX_MESSAGE_ID = '6e2a9f4c-1b7d-4c3e-8a5f-2d9b0e7c4a13';
/** A key retired from the OMS, and a push that APNs refused after its retries. */
export const RETIRED_API_KEY_ID = 'a4c8e2f1-6b3d-4e9a-8f2c-1d5b7e9a3c60';
export const DEAD_LETTER_ID = '0b7e4d2a-9c1f-4a6e-b3d8-5f2a7c9e1b40';
/** The order workflow's current run, and the Temporal Web UI the order timeline links it in. */
const RUN_ID = '0193a1f2-7c4e-7b8d-9a0f-3e5c7b9d1f42';
const TEMPORAL_UI_URL = 'http://127.0.0.1:8233';
/** The first try at the documented invalid event: the id its payload is kept under. */
const REJECTED_EVENT_ID = 'c1e3a5c7-9b1d-4f3b-8d5f-7b9d1f3a5c80';
const TEMPLATE_ID = '9d3f6b2a-4c8e-4f1a-b7d5-2e9c0a6f3b18';
const DRAFT_TEMPLATE_ID = '1c7e5a3f-8b2d-4e6a-9f0c-3d5b7a9e1c24';

/** Ada's app's customer token, signed with an example key an hour before it expires. */
const EXAMPLE_CUSTOMER_TOKEN = mintCustomerToken([{ id: 'k1', secret: 'example-customer-token-secret' }], CUSTOMER_ID, 3600, Date.parse('2026-12-01T09:00:00Z'));

const SHIPPING_DATA = {
  carrier: 'UPS',
  trackingNumber: '1Z999AA10123456784',
  trackingUrl: 'https://www.ups.com/track?tracknum=1Z999AA10123456784',
};

/** The event the OMS posts when order 1001 ships. */
export const SHIPPED_EVENT = body(req.orderEventSchema, {
  eventId: EVENT_ID,
  orderId: ORDER_ID,
  customerId: CUSTOMER_ID,
  status: 'shipped',
  occurredAt: OCCURRED_AT,
  source: SOURCE,
  data: SHIPPING_DATA,
});

/** The same order's other updates: the data keys their templates read (see `GET /v1/templates/order.<status>`). */
export const ORDER_EVENT_EXAMPLES: Record<string, Example> = {
  shipped: answer(req.orderEventSchema, 'Shipped: carrier, trackingNumber, trackingUrl (and eta)', SHIPPED_EVENT),
  confirmed: answer(req.orderEventSchema, 'Confirmed: the receipt (items, subtotal, shipping, tax, total, currency)', {
    eventId: 'evt-1001-confirmed',
    orderId: ORDER_ID,
    customerId: CUSTOMER_ID,
    status: 'confirmed',
    occurredAt: '2026-11-30T18:02:00Z',
    source: SOURCE,
    data: {
      items: [
        { name: 'Notebook', quantity: 2, unitPrice: '12.50', sku: 'NB-A5-DOT' },
        { name: 'Fountain pen', quantity: 1, unitPrice: '24.90', sku: 'FP-M-BLK' },
      ],
      itemCount: 3,
      subtotal: '49.90',
      shipping: '4.90',
      tax: '9.98',
      total: '64.78',
      currency: 'GBP',
      paymentMethod: 'Visa ending in 4242',
      eta: '2026-12-03',
    },
  }),
  delayed: answer(req.orderEventSchema, 'Delayed: delayReason, newEta', {
    eventId: 'evt-1001-delayed',
    orderId: ORDER_ID,
    customerId: CUSTOMER_ID,
    status: 'delayed',
    occurredAt: '2026-12-02T07:15:00Z',
    source: SOURCE,
    data: { delayReason: 'severe weather at the hub', newEta: '2026-12-04', carrier: 'UPS', trackingNumber: '1Z999AA10123456784' },
  }),
  cancelled: answer(req.orderEventSchema, 'Cancelled: reason, amount (refunded), currency', {
    eventId: 'evt-1002-cancelled',
    orderId: '1002',
    customerId: CUSTOMER_ID,
    status: 'cancelled',
    occurredAt: '2026-12-01T11:00:00Z',
    source: SOURCE,
    data: { reason: 'item out of stock', amount: '24.90', currency: 'GBP' },
  }),
};

/** An event with a status the API does not know and a time without a zone: what the documented 400 answers. */
export const INVALID_ORDER_EVENT = { ...SHIPPED_EVENT, eventId: 'evt-1001-posted', status: 'posted', occurredAt: '2026-12-01 09:30' };
const STATUS_REASON = `must be one of ${req.orderEventSchema.shape.status.options.join(', ')}`;
const OCCURRED_AT_REASON = 'must be an ISO-8601 date-time with a time zone, e.g. 2026-11-21T10:00:00Z (years 1900 to 9999)';

const CUSTOMER_INPUT = body(req.customerSchema, {
  name: 'Ada Lovelace',
  email: EMAIL,
  phone: PHONE,
  locale: 'en-GB',
  timeZone: 'Europe/London',
  country: 'GB',
  quietHours: { start: '22:00', end: '07:00' },
});
const CUSTOMER = {
  customerId: CUSTOMER_ID,
  name: 'Ada Lovelace',
  email: EMAIL,
  phone: PHONE,
  locale: 'en-GB',
  timeZone: 'Europe/London',
  country: 'GB',
  quietHours: { start: '22:00', end: '07:00' },
  preferences: [],
  createdAt: '2026-11-30T18:00:00.000Z',
  updatedAt: '2026-11-30T18:00:00.000Z',
} satisfies z.input<typeof res.customerResponse>;
const CUSTOMER_WITH_PREFERENCES = {
  ...CUSTOMER,
  preferences: [
    { channel: 'email', category: 'promotions', optedIn: true },
    { channel: 'sms', category: 'marketing', optedIn: false },
  ],
  updatedAt: '2026-12-01T08:00:00.000Z',
} satisfies z.input<typeof res.customerResponse>;

const DEVICE = {
  deviceId: DEVICE_ID,
  customerId: CUSTOMER_ID,
  platform: 'ios',
  app: 'com.example.shop',
  locale: 'en-GB',
  timeZone: 'Europe/London',
  active: true,
  lastSeenAt: '2026-12-01T08:10:00.000Z',
  invalidatedAt: null,
  invalidatedReason: null,
} satisfies z.input<typeof res.deviceResponse>;

const CONSENT = {
  consentId: '7b1d3f5a-9c2e-4a6b-8d0f-1e3a5c7b9d20',
  customerId: CUSTOMER_ID,
  channel: 'email',
  category: 'promotions',
  granted: true,
  source: 'checkout-form',
  recordedAt: '2026-11-30T17:58:00.000Z',
  receivedAt: '2026-11-30T18:00:01.000Z',
} satisfies z.input<typeof res.consentResponse>;

const PUSH_ATTEMPT = {
  attemptId: 'e4b6d8f0-2a4c-4e6a-8c0e-2f4a6c8e0b13',
  deviceId: DEVICE_ID,
  platform: 'ios',
  channel: 'push',
  address: null,
  provider: 'apns',
  status: 'sent',
  attemptNumber: 1,
  providerMessageId: '5a7c9e1b-3d5f-4b7d-9f1a-3c5e7a9b1d35',
  errorCode: null,
  errorMessage: null,
  startedAt: '2026-12-01T09:30:01.204Z',
  finishedAt: '2026-12-01T09:30:01.391Z',
} satisfies z.input<typeof res.attemptResponse>;

const PUSH_NOTIFICATION = {
  notificationId: PUSH_ID,
  orderId: ORDER_ID,
  customerId: CUSTOMER_ID,
  eventId: EVENT_ID,
  type: 'order.shipped',
  priority: 'critical',
  category: 'transactional',
  channel: 'push',
  address: null,
  status: 'delivered',
  suppressionReason: null,
  suppressionLabel: null,
  failureReason: null,
  failureLabel: null,
  template: { id: TEMPLATE_ID, version: 1, locale: 'en' },
  holdReason: null,
  holdLabel: null,
  heldUntil: null,
  escalation: null,
  explanation: 'Now delivered (a receipt confirmed it).',
  held: null,
  replacedBy: null,
  title: 'Order 1001 has shipped',
  body: 'Your order 1001 is on its way with UPS. Tracking number: 1Z999AA10123456784.',
  createdAt: '2026-12-01T09:30:01.102Z',
  sentAt: '2026-12-01T09:30:01.391Z',
  deliveredAt: '2026-12-01T09:31:12.000Z',
  attempts: [PUSH_ATTEMPT],
} satisfies z.input<typeof res.notificationResponse>;

const EMAIL_NOTIFICATION = {
  ...PUSH_NOTIFICATION,
  notificationId: EMAIL_ID,
  channel: 'email',
  address: EMAIL,
  status: 'failed',
  failureReason: 'bounced: 550 5.1.1 mailbox unavailable',
  failureLabel: 'bounced: 550 5.1.1 mailbox unavailable',
  explanation: 'Failed: bounced: 550 5.1.1 mailbox unavailable.',
  deliveredAt: null,
  attempts: [
    {
      ...PUSH_ATTEMPT,
      attemptId: 'f5c7e9a1-3b5d-4f7b-9d1f-3a5c7e9b1d46',
      deviceId: null,
      platform: null,
      channel: 'email',
      address: EMAIL,
      provider: 'smtp',
      providerMessageId: EMAIL_MESSAGE_ID,
    },
  ],
} satisfies z.input<typeof res.notificationResponse>;

const OPENED_RECEIPT = {
  receiptId: '2d4f6a8c-0e2a-4c6e-8a0c-4e6a8c0e2b57',
  notificationId: PUSH_ID,
  type: 'opened',
  source: 'app',
  occurredAt: '2026-12-01T09:31:12.000Z',
  receivedAt: '2026-12-01T09:31:12.480Z',
  detail: {},
  dedupeKey: 'open-7d3f9a2c',
} satisfies z.input<typeof res.receiptResponse>;

const BOUNCE_RECEIPT = {
  receiptId: '3e5a7c9e-1f3b-4d7f-9b1d-5f7b9d1f3c68',
  notificationId: EMAIL_ID,
  type: 'bounced',
  source: 'email-webhook',
  occurredAt: '2026-12-01T09:31:40.000Z',
  receivedAt: '2026-12-01T09:31:41.020Z',
  detail: { messageId: EMAIL_MESSAGE_ID, bounceType: 'hard', reason: '550 5.1.1 mailbox unavailable' },
  dedupeKey: 'ses-0101019353a7c1f2',
} satisfies z.input<typeof res.receiptResponse>;

const INBOX_ITEM = {
  messageId: INBOX_MESSAGE_ID,
  notificationId: null,
  orderId: ORDER_ID,
  category: 'transactional',
  title: 'Order 1001 has shipped',
  body: 'Your order 1001 is on its way with UPS.',
  data: { trackingUrl: SHIPPING_DATA.trackingUrl },
  createdAt: '2026-12-01T09:30:01.500Z',
  readAt: null,
  receiptToken: null,
} satisfies z.input<typeof res.inboxItemResponse>;

const API_KEY = {
  id: '8f0b2d4e-6a8c-4e0a-b2d4-6f8a0c2e4b79',
  name: 'oms-production',
  prefix: 'hk_Q3vR8',
  scopes: ['ingest'],
  createdAt: '2026-12-01T08:00:00.000Z',
  revokedAt: null,
} satisfies z.input<typeof res.apiKeyResponse>;

const DEAD_LETTER = {
  deadLetterId: DEAD_LETTER_ID,
  notificationId: PUSH_ID,
  orderId: ORDER_ID,
  customerId: CUSTOMER_ID,
  channel: 'push',
  provider: 'apns',
  target: { deviceId: DEVICE_ID, platform: 'ios', app: 'com.example.shop', tokenPrefix: '5f2b9c1e', address: null },
  message: { title: 'Order 1001 has shipped', body: 'Your order 1001 is on its way with UPS.', priority: 'critical', category: 'transactional', data: { orderId: ORDER_ID } },
  errors: [
    { attemptId: 'b2d4f6a8-0c2e-4a6c-8e0a-2c4e6a8c0f91', attemptNumber: 1, code: 'InternalServerError', message: 'apns 500 InternalServerError', at: '2026-12-01T09:30:01.391Z' },
    { attemptId: 'c3e5a7c9-1d3f-4b7d-9f1b-3d5f7b9d1a02', attemptNumber: 5, code: 'InternalServerError', message: 'apns 500 InternalServerError', at: '2026-12-01T09:34:04.870Z' },
  ],
  lastError: 'apns 500 InternalServerError',
  createdAt: '2026-12-01T09:34:05.000Z',
  replayCount: 0,
  replayedAt: null,
  replayStatus: null,
} satisfies z.input<typeof res.deadLetterResponse>;

const PUSH_TEMPLATE_V1 = {
  templateId: TEMPLATE_ID,
  key: 'order.shipped',
  channel: 'push',
  locale: 'en',
  version: 1,
  state: 'published',
  subject: 'Order {{ orderId }} has shipped',
  body: 'Your order {{ orderId }} is on its way{% if carrier %} with {{ carrier }}{% endif %}.{% if trackingNumber %} Tracking number: {{ trackingNumber }}.{% endif %}',
  bodyHtml: null,
  tracking: null,
  imageUrl: null,
  deepLink: '{{ trackingUrl }}',
  actions: [],
  actionCategory: null,
  createdAt: '2026-11-01T00:00:00.000Z',
} satisfies z.input<typeof res.templateVersionResponse>;

const NEW_TEMPLATE_VERSION = body(req.templateVersionInputSchema, {
  channel: 'push',
  locale: 'en',
  subject: 'Order {{ orderId }} is on its way',
  body: 'Your parcel is with {{ carrier }}{% if eta %}, arriving {{ eta | local_date }}{% endif %}. Tracking: {{ trackingNumber }}',
  imageUrl: 'https://cdn.example/parcel.png',
  deepLink: 'myshop://orders/{{ orderId }}',
  actions: [{ id: 'track', title: 'Track parcel', deepLink: '{{ trackingUrl }}' }],
  actionCategory: 'ORDER_SHIPPED',
});
const PUSH_TEMPLATE_V2 = {
  ...PUSH_TEMPLATE_V1,
  templateId: DRAFT_TEMPLATE_ID,
  version: 2,
  state: 'draft',
  subject: NEW_TEMPLATE_VERSION.subject,
  body: NEW_TEMPLATE_VERSION.body,
  imageUrl: 'https://cdn.example/parcel.png',
  deepLink: 'myshop://orders/{{ orderId }}',
  actions: [{ id: 'track', title: 'Track parcel', deepLink: '{{ trackingUrl }}' }],
  actionCategory: 'ORDER_SHIPPED',
  createdAt: '2026-12-01T10:00:00.000Z',
} satisfies z.input<typeof res.templateVersionResponse>;
const TEMPLATE_CONTENT = body(req.templateContentSchema, {
  subject: 'On its way: order {{ orderId }}',
  body: 'With {{ carrier }}{% if eta %}, arriving {{ eta | local_date: "long" }}{% endif %}. Tracking: {{ trackingNumber }}',
  deepLink: '{{ trackingUrl }}',
});
const TEMPLATE_SEQUENCE = params(req.templateSequencePath, { key: 'order.shipped', channel: 'push', locale: 'en' });
const TEMPLATE_VERSION = params(req.templateVersionPath.out, { ...TEMPLATE_SEQUENCE, version: '2' });

const NO_TEMPLATE_VERSION = notFound('no version 2 of template order.shipped (push, en)', 'No such version');

/** The statistics of one group (and of the totals). */
const STATS_COUNTS = {
  total: 120,
  sent: 112,
  delivered: 97,
  failed: 3,
  suppressed: 5,
  pending: 0,
  acceptedRate: 0.974,
  receiptRate: 0.866,
  deliveryRate: 0.974,
  failureRate: 0.026,
  opened: 41,
  clicked: 9,
  bounced: 0,
  complained: 0,
  openRate: 0.3661,
  clickRate: 0.0804,
  bounceRate: 0,
  complaintRate: 0,
  latencyMs: { accepted: { count: 115, p50: 180, p95: 420, p99: 910 }, delivered: { count: 97, p50: 2300, p95: 9100, p99: 31000 } },
};

const STATS_GROUP = {
  ...STATS_COUNTS,
  suppressedByReason: { preference: 3, no_device: 2 },
  suppressionReasons: [
    { reason: 'preference', label: reasonLabel('preference')!, count: 3 },
    { reason: 'no_device', label: reasonLabel('no_device')!, count: 2 },
  ],
  failuresByReason: [
    { reason: 'apns: BadDeviceToken', label: 'apns: BadDeviceToken', count: 2 },
    { reason: 'bounced: 550 5.1.1 mailbox unavailable', label: 'bounced: 550 5.1.1 mailbox unavailable', count: 1 },
  ],
};

// --------------------------------------------------------------- the lookup: what happened to order 1001

/**
 * The night before it shipped: order 1001 was packed at 23:10 London time, inside Ada's quiet hours and before
 * she had registered her iPhone. The push could not go (no device), so the email went as the plan's backup
 * (packed: push, then email if nothing reached her), held until her quiet hours ended at 07:00.
 */
const PACKED_EVENT_ID = 'evt-1001-packed';
const PACKED_AT = '2026-11-30T23:10:00.000Z';
const QUIET_HOURS_END = '2026-12-01T07:00:00.000Z';

const PACKED_PUSH = {
  ...PUSH_NOTIFICATION,
  notificationId: `${PACKED_EVENT_ID}/push`,
  eventId: PACKED_EVENT_ID,
  type: 'order.packed',
  priority: 'routine',
  status: 'suppressed',
  suppressionReason: 'no_device',
  suppressionLabel: SUPPRESSION_LABELS.no_device,
  template: null,
  explanation: explainNotification({
    status: 'suppressed', channel: 'push', suppressionReason: 'no_device', failureReason: null, holdReason: null, heldUntil: null, replacedBy: null, escalationReason: null,
  }),
  title: null,
  body: null,
  createdAt: '2026-11-30T23:10:01.214Z',
  sentAt: null,
  deliveredAt: null,
  attempts: [],
} satisfies z.input<typeof res.notificationResponse>;

/** The backup email, as it waited for quiet hours to end. */
const PACKED_EMAIL_HELD = {
  ...PACKED_PUSH,
  notificationId: `${PACKED_EVENT_ID}/email`,
  channel: 'email',
  address: EMAIL,
  status: 'queued',
  suppressionReason: null,
  suppressionLabel: null,
  template: { id: '2b4d6f8a-0c2e-4a6c-9e0a-4c6e8a0c2d15', version: 1, locale: 'en' },
  holdReason: 'quiet_hours',
  holdLabel: HOLD_LABELS.quiet_hours,
  heldUntil: QUIET_HOURS_END,
  escalation: { step: 1, reason: 'nothing_sent', label: BACKUP_LABELS.nothing_sent },
  explanation: explainNotification({
    status: 'queued', channel: 'email', suppressionReason: null, failureReason: null, holdReason: 'quiet_hours', heldUntil: QUIET_HOURS_END, replacedBy: null, escalationReason: 'nothing_sent',
  }),
  held: { reason: 'quiet_hours', until: QUIET_HOURS_END },
  title: 'Your order 1001 is packed',
  body: 'Hello Ada, your order 1001 is packed and will ship tomorrow.',
  createdAt: '2026-11-30T23:10:01.388Z',
} satisfies z.input<typeof res.notificationResponse>;

/** The same email once quiet hours ended: sent at 07:00, its hold and its reason kept. */
const PACKED_EMAIL_SENT = {
  ...PACKED_EMAIL_HELD,
  status: 'sent',
  explanation: explainNotification({
    status: 'sent', channel: 'email', suppressionReason: null, failureReason: null, holdReason: 'quiet_hours', heldUntil: QUIET_HOURS_END, replacedBy: null, escalationReason: 'nothing_sent',
  }),
  sentAt: '2026-12-01T07:00:02.310Z',
  attempts: [
    {
      ...EMAIL_NOTIFICATION.attempts[0]!,
      attemptId: 'a1c3e5a7-9b1d-4f3b-8d5f-7b9d1f3a5e26',
      providerMessageId: '<8b2d4f6a1c3e4a5b9d7f0e2c4a6b8d1f@shop.example>',
      startedAt: '2026-12-01T07:00:02.104Z',
      finishedAt: '2026-12-01T07:00:02.310Z',
    },
  ],
} satisfies z.input<typeof res.notificationResponse>;

type TimelineEvent = z.input<typeof res.timelineEventResponse>;
type TimelineEntry = z.input<typeof res.timelineEntryResponse>;
const notified = (n: z.input<typeof res.notificationResponse>): TimelineEntry => ({ kind: 'notification', at: n.createdAt as string, notification: n });
const receipted = (r: z.input<typeof res.receiptResponse>): TimelineEntry => ({ kind: 'receipt', at: r.occurredAt as string, receipt: r });

const packedEvent = (email: z.input<typeof res.notificationResponse>): TimelineEvent => ({
  eventId: PACKED_EVENT_ID,
  status: 'packed',
  occurredAt: PACKED_AT,
  receivedAt: '2026-11-30T23:10:00.912Z',
  source: SOURCE,
  disposition: 'announced',
  processedAt: '2026-11-30T23:10:01.402Z',
  entries: [notified(PACKED_PUSH), notified(email)],
});

/** The shipment, after its receipts: the push delivered and opened, the email bounced (same instant: by id). */
const SHIPPED_TIMELINE_EVENT = {
  eventId: EVENT_ID,
  status: 'shipped',
  occurredAt: '2026-12-01T09:30:00.000Z',
  receivedAt: '2026-12-01T09:30:00.874Z',
  source: SOURCE,
  disposition: 'announced',
  processedAt: '2026-12-01T09:30:01.460Z',
  entries: [
    notified(EMAIL_NOTIFICATION),
    notified({ ...PUSH_NOTIFICATION, status: 'opened', explanation: 'Now opened by the customer.' }),
    receipted(OPENED_RECEIPT),
    receipted(BOUNCE_RECEIPT),
  ],
} satisfies TimelineEvent;

const orderWorkflowView = (live: z.input<typeof res.orderWorkflowResponse>['live']): z.input<typeof res.orderWorkflowResponse> => ({
  workflowId: `order:${ORDER_ID}`,
  runId: RUN_ID,
  status: 'RUNNING',
  uiUrl: `${TEMPORAL_UI_URL}/namespaces/default/workflows/order:${ORDER_ID}/${RUN_ID}/history`,
  live,
  note: null,
});

const ORDER_TIMELINE = {
  orderId: ORDER_ID,
  customerId: CUSTOMER_ID,
  position: { stage: 'shipped', status: 'shipped', occurredAt: '2026-12-01T09:30:00.000Z', updatedAt: '2026-12-01T09:30:01.460Z' },
  events: [packedEvent(PACKED_EMAIL_SENT), SHIPPED_TIMELINE_EVENT],
  eventsOmitted: 0,
  otherEntries: [],
  workflow: orderWorkflowView({ notificationState: 'idle', lastStatus: 'shipped', held: [], waitingFor: null, completesAt: null, pending: [] }),
} satisfies z.input<typeof res.orderTimelineResponse>;

/** The same order at 23:11 the night before: the email waits, and the run says until when. */
const ORDER_TIMELINE_HELD = {
  ...ORDER_TIMELINE,
  position: { stage: 'packed', status: 'packed', occurredAt: PACKED_AT, updatedAt: '2026-11-30T23:10:01.402Z' },
  events: [packedEvent(PACKED_EMAIL_HELD)],
  workflow: orderWorkflowView({
    notificationState: 'waiting-quiet-hours',
    lastStatus: 'packed',
    held: [
      { channel: 'email', reason: 'quiet_hours', label: HOLD_LABELS.quiet_hours, until: QUIET_HOURS_END, notificationIds: [PACKED_EMAIL_HELD.notificationId], eventIds: [PACKED_EVENT_ID], devices: 0 },
    ],
    waitingFor: null,
    completesAt: null,
    pending: [],
  }),
} satisfies z.input<typeof res.orderTimelineResponse>;

/** A mistyped order id and customer id: Herald has nothing under them. */
const UNKNOWN_ORDER_ID = '10001';
const UNKNOWN_CUSTOMER_ID = 'c-24';

/** What POST /v1/order-events refused, as the list shows it. */
const rejectedEvent = (value: z.input<typeof res.rejectedEventResponse>) => value;
/** The OMS's first try at the shipment, with the time in its own format: critical, so listed before newer ones. */
export const SHIPPED_WITHOUT_ZONE = { ...SHIPPED_EVENT, occurredAt: '01/12/2026 09:30' };
/** The id that first try is kept under: the quarantine examples fix it and replay it. */
export const QUARANTINED_EVENT_ID = 'd2f4a6c8-0e2a-4c6e-9a0c-6e8a0c2e4f37';
export const QUARANTINED_ERRORS = [{ field: 'occurredAt', reason: OCCURRED_AT_REASON }];
const QUARANTINED = rejectedEvent({
  rejectedEventId: QUARANTINED_EVENT_ID,
  source: SOURCE,
  sourceId: null,
  eventId: EVENT_ID,
  orderId: ORDER_ID,
  status: 'shipped',
  critical: true,
  reason: 'invalid_field',
  state: 'open',
  errors: QUARANTINED_ERRORS,
  payload: SHIPPED_WITHOUT_ZONE,
  originalPayload: null,
  headers: null,
  receivedAt: '2026-12-01T09:30:00.311Z',
  updatedAt: '2026-12-01T09:30:00.311Z',
  replayCount: 0,
  lastReplayAt: null,
  replayedAt: null,
  replayedEventId: null,
});
/** The operator's fix: the shipment with its time as ISO-8601. */
const QUARANTINE_FIXED = rejectedEvent({ ...QUARANTINED, payload: SHIPPED_EVENT, originalPayload: SHIPPED_WITHOUT_ZONE, updatedAt: '2026-12-01T10:02:11.204Z' });
const QUARANTINE_REPLAYED = rejectedEvent({
  ...QUARANTINE_FIXED,
  state: 'replayed',
  updatedAt: '2026-12-01T10:02:40.918Z',
  replayCount: 1,
  lastReplayAt: '2026-12-01T10:02:40.918Z',
  replayedAt: '2026-12-01T10:02:40.918Z',
  replayedEventId: EVENT_ID,
});
const ALREADY_REPLAYED = error(
  'Replayed already',
  'already_replayed',
  `rejected event ${QUARANTINED_EVENT_ID} was replayed already (as event ${EVENT_ID}); nothing is sent twice`,
);
const INVALID_REJECTED_PATH = invalid('path', 'id', "may contain only letters, digits, '.', '_', ':' and '-'");
const NO_REJECTED_EVENT = notFound('no rejected event 7a1c3e5f-2b4d-4f6a-8c0e-9d1b3f5a7c92', 'No such rejected event');

/** A customer watching a fountain pen for a price drop. */
const WATCHED_SKU = 'FP-M-BLK';
const RESTOCK_WATCH_ID = '5b1f0c1e-8d1a-4f7e-9a55-3c2d6e7f8a90';
const PRICE_WATCH = {
  watchId: '0d8f4a2b-6c3e-4b1a-8f9d-2e7c5a1b3d4f',
  customerId: CUSTOMER_ID,
  sku: WATCHED_SKU,
  kind: 'price_drop',
  below: '40',
  baselinePrice: '49.9',
  createdAt: '2026-11-28T18:04:11.530Z',
  firedAt: null,
} satisfies z.input<typeof res.watchResponse>;

// --------------------------------------------------------------------------- errors every operation may have

/** The errors the document adds to every operation that has them (a key, a body, a rate limit). */
export function commonErrorExamples(scope: Scope | null, budget: Budget | null = null, customer?: CustomerAccess<unknown>): Record<number, Record<string, Example>> {
  const spent = (b: Budget) => error(b === 'address' ? 'Too many requests without a known key from one address' : `This key's ${b === 'intake' ? 'intake ' : ''}budget spent`, 'rate_limited', rateLimitedMessage(b, 1));
  const rateLimited: Record<number, Record<string, Example>> = budget ? { 429: budget === 'address' ? { addressSpent: spent('address') } : { keySpent: spent(budget), addressSpent: spent('address') } } : {};
  return {
    ...rateLimited,
    401: { missingKey: error('No API key', 'unauthenticated', 'missing Authorization: Bearer <key> header') },
    403: {
      missingScope: error(`A key without the ${scope ?? 'needed'} scope`, 'forbidden', `this API key lacks the '${scope ?? 'admin'}' scope`),
      // What a customer token (api/route.ts) meets: an operation that takes none, or another customer's path.
      ...(scope && !customer
        ? { customerToken: error('A customer token', 'forbidden', `a customer token may not call this operation: it needs a server key with the '${scope}' scope`) }
        : {}),
      ...(customer && 'param' in customer
        ? { otherCustomer: error("Another customer's token", 'forbidden', `this customer token is for another customer than the ${customer.param} in the path`) }
        : {}),
    },
    413: {
      tooLarge: error('A body over 256 KiB', 'payload_too_large', 'request entity too large', [{ field: '(body)', reason: 'request entity too large' }]),
    },
    415: {
      unsupported: error('A body in another charset', 'bad_request', 'unsupported charset "ISO-8859-1"', [
        { field: '(body)', reason: 'unsupported charset "ISO-8859-1"' },
      ]),
    },
  };
}

const INVALID_CUSTOMER_PATH = invalid('path', 'customerId', "may contain only letters, digits, '.', '_', ':' and '-'");
const INVALID_ORDER_PATH = invalid('path', 'orderId', "may contain only letters, digits, '.', '_', ':' and '-'");
const INVALID_LIMIT = invalid('query', 'limit', 'must be at most 100');
const INVALID_TEMPLATE_KEY = invalid('path', 'key', req.TEMPLATE_KEY_PATH_REASON);
const NO_CUSTOMER = notFound(`no customer ${CUSTOMER_ID}`, 'No such customer');
const INVALID_NOTIFICATION_PATH = invalid(
  'path',
  'notificationId',
  "must be an id (letters, digits, '.', '_', ':' and '-'), optionally followed by '/' and another, such as ev-1/push",
);

/** When the provider signed the example webhook bodies (their signatures are placeholders; the tests sign with the stack's keys). */
const WEBHOOK_SIGNED_AT = 1796117501;
/** The shipment's email bounced, as an adapter posts it to the generic webhook. */
const EMAIL_WEBHOOK_EVENT = body(req.emailWebhookSchema, {
  type: 'bounced',
  bounceType: 'hard',
  messageId: EMAIL_MESSAGE_ID,
  occurredAt: '2026-12-01T09:31:40Z',
  reason: '550 5.1.1 mailbox unavailable',
  id: 'ses-0101019353a7c1f2',
});
/** The shipment's email delivered and opened, as SendGrid posts a batch (the shape of its Event Webhook reference). */
const SENDGRID_EVENTS = body(req.sendGridEventsSchema, [
  {
    email: EMAIL,
    timestamp: 1796117490,
    'smtp-id': EMAIL_MESSAGE_ID,
    event: 'delivered',
    category: 'order.shipped',
    sg_event_id: 'rWVYmVk90MjZJ9iohOBa3w==',
    sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
    response: '250 OK',
  },
  {
    email: EMAIL,
    timestamp: 1796117499,
    'smtp-id': EMAIL_MESSAGE_ID,
    event: 'open',
    category: 'order.shipped',
    sg_event_id: 'FOTFFO0ecsBE-zxFXfs6WA==',
    sg_message_id: '14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0',
    useragent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X)',
    ip: '203.0.113.7',
  },
]);

// ------------------------------------------------------------------------------------------------ operations

// ------------------------------------------------------------------------------------------------ carts
const CART_ID = 'cart-8841';
const CART_EVENT_ID = 'cart-8841-updated-3';
const CART_ITEMS = [
  { sku: 'NB-A5-DOT', name: 'Dotted notebook', quantity: 2, unitPrice: '12.50', imageUrl: 'https://shop.example/img/nb-a5-dot.jpg', url: 'https://shop.example/p/nb-a5-dot' },
  { sku: 'FP-M-BLK', name: 'Fountain pen', quantity: 1, unitPrice: '24.90' },
];
const CART_EVENT = body(carts.cartEventSchema, {
  eventId: CART_EVENT_ID,
  cartId: CART_ID,
  customerId: CUSTOMER_ID,
  type: 'updated',
  occurredAt: '2026-12-01T09:30:00Z',
  items: CART_ITEMS,
  currency: 'EUR',
  total: '49.90',
  recoveryUrl: `https://shop.example/cart/recover/${CART_ID}`,
});

const CART_EXAMPLES: Record<string, OperationExamples> = {
  postCartEvent: {
    body: CART_EVENT,
    responses: {
      202: {
        accepted: answer(carts.acceptedCartEventResponse, 'Accepted', { eventId: CART_EVENT_ID, workflowId: `cart:${CART_ID}`, duplicate: false }),
        duplicate: answer(carts.acceptedCartEventResponse, 'The same event again: nothing changes', { eventId: CART_EVENT_ID, workflowId: `cart:${CART_ID}`, duplicate: true }),
      },
      400: { invalidType: invalid('body', 'type', 'must be one of updated, checked_out, emptied') },
      409: {
        conflict: error('The same eventId for another type', 'event_id_conflict', `eventId ${CART_EVENT_ID} was already used for a different cart event (cart ${CART_ID}, type updated)`, [
          { field: 'eventId', reason: 'already used for a different event' },
        ]),
      },
      503: DATABASE_UNAVAILABLE,
    },
  },
  getCart: {
    params: params(carts.cartPath, { cartId: CART_ID }),
    responses: {
      200: {
        remindersGoing: answer(carts.cartResponse, 'Left an hour ago: the push went, the email is due', {
          cartId: CART_ID,
          customerId: CUSTOMER_ID,
          status: 'open',
          items: CART_ITEMS,
          currency: 'EUR',
          total: '49.9',
          recoveryUrl: `https://shop.example/cart/recover/${CART_ID}`,
          lastUpdatedAt: '2026-12-01T09:30:00.000Z',
          closedAt: null,
          converted: false,
          convertedAt: null,
          convertedOrderId: null,
          events: [{ eventId: CART_EVENT_ID, type: 'updated', occurredAt: '2026-12-01T09:30:00.000Z', receivedAt: '2026-12-01T09:30:00.412Z', total: '49.9', itemCount: 3 }],
          reminders: [
            { notificationId: `${CART_EVENT_ID}/cart-reminder-1`, step: 1, channel: 'push', cartEventId: CART_EVENT_ID, state: 'sent', reason: null, dueAt: null, heldUntil: null, createdAt: '2026-12-01T10:30:00.530Z', sentAt: '2026-12-01T10:30:00.702Z' },
            { notificationId: `${CART_EVENT_ID}/cart-reminder-2`, step: 2, channel: 'email', cartEventId: CART_EVENT_ID, state: 'pending', reason: null, dueAt: '2026-12-02T09:30:00.412Z', heldUntil: null, createdAt: null, sentAt: null },
          ],
          workflowId: `cart:${CART_ID}`,
        }),
      },
      400: { invalidCartId: invalid('path', 'cartId', "may contain only letters, digits, '.', '_', ':' and '-'") },
      404: { unknown: notFound('no cart cart-0000', 'A cart Herald never heard of') },
    },
  },
};

// ------------------------------------------------------------------------------------------------ campaigns

export const CAMPAIGN_ID = 'black-friday-2027';
export const CAMPAIGN_SEGMENT_ID = 'eu-customers';
export const CAMPAIGN_TEMPLATE = 'campaign.black-friday';
const CAMPAIGN_BODY = body(campaigns.campaignSchema, {
  name: 'Black Friday 2027',
  segmentId: CAMPAIGN_SEGMENT_ID,
  category: 'promotions',
  channels: ['push', 'email'],
  templates: { push: CAMPAIGN_TEMPLATE, email: CAMPAIGN_TEMPLATE },
  schedule: { type: 'local', localTime: '10:00', date: '2027-11-26' },
  maxPerMinute: 50000,
});
const CAMPAIGN_DRAFT = {
  campaignId: CAMPAIGN_ID,
  name: 'Black Friday 2027',
  segmentId: CAMPAIGN_SEGMENT_ID,
  category: 'promotions',
  channels: ['push', 'email'] as Array<'push' | 'email'>,
  templates: { push: CAMPAIGN_TEMPLATE, email: CAMPAIGN_TEMPLATE },
  schedule: { type: 'local', localTime: '10:00', date: '2027-11-26' },
  maxPerMinute: 50000,
  experimentId: null,
  status: 'draft' as const,
  targeted: null,
  workflowId: `campaign:${CAMPAIGN_ID}`,
  startedAt: null,
  finishedAt: null,
  createdAt: '2026-12-01T09:00:00.000Z',
  updatedAt: '2026-12-01T09:00:00.000Z',
};
const CAMPAIGN_RUNNING = {
  ...CAMPAIGN_DRAFT,
  status: 'running' as const,
  targeted: 120000,
  startedAt: '2027-11-25T12:00:00.000Z',
  updatedAt: '2027-11-26T09:00:00.214Z',
};
const CAMPAIGN_PROGRESS = {
  targeted: 120000,
  pending: 48210,
  sent: 61877,
  suppressed: { no_consent: 6120, preference: 2311, no_device: 1402, frequency_cap: 80 },
  failed: 0,
  holdout: 0,
  cancelled: 0,
  remaining: 48210,
  nextDueAt: '2027-11-26T15:00:00.000Z',
};
const CAMPAIGN_NOT_DRAFT = error('Started already', 'campaign_started', `campaign ${CAMPAIGN_ID} is running: only a draft campaign is edited`);
const NO_CAMPAIGN = notFound('no campaign spring-sale', 'No such campaign');
const INVALID_CAMPAIGN_PATH = invalid('path', 'campaignId', "may contain only letters, digits, '.', '_', ':' and '-'");
const campaignAction = (requested: 'start' | 'pause' | 'resume' | 'cancel', status: 'scheduled' | 'running' | 'paused', summary: string) =>
  answer(campaigns.campaignActionResponse, summary, { campaignId: CAMPAIGN_ID, workflowId: `campaign:${CAMPAIGN_ID}`, status, requested });
const CAMPAIGN_PATH = params(campaigns.campaignPath, { campaignId: CAMPAIGN_ID });

const CAMPAIGN_EXAMPLES: Record<string, OperationExamples> = {
  putCampaign: {
    params: CAMPAIGN_PATH,
    body: CAMPAIGN_BODY,
    responses: {
      200: { updated: answer(campaigns.campaignResponse, 'The draft, edited', { ...CAMPAIGN_DRAFT, updatedAt: '2026-12-01T09:05:00.000Z', progress: null, progressSource: null }) },
      201: { created: answer(campaigns.campaignResponse, 'A draft: 10:00 on Black Friday in each customer\u2019s zone', { ...CAMPAIGN_DRAFT, progress: null, progressSource: null }) },
      400: {
        transactional: invalid('body', 'category', 'must be a marketing category: a campaign is marketing, and transactional messages go with order events', 'A transactional category'),
        noSegment: invalid('body', 'segmentId', 'no segment lapsed-buyers', 'A segment that does not exist'),
      },
      409: { started: CAMPAIGN_NOT_DRAFT },
    },
  },
  getCampaign: {
    params: CAMPAIGN_PATH,
    responses: {
      200: {
        running: answer(campaigns.campaignResponse, 'Half way: Europe has had it, the Americas are due', { ...CAMPAIGN_RUNNING, progress: CAMPAIGN_PROGRESS, progressSource: 'workflow' }),
        draft: answer(campaigns.campaignResponse, 'A draft', { ...CAMPAIGN_DRAFT, progress: null, progressSource: null }),
      },
      400: { invalidPath: INVALID_CAMPAIGN_PATH },
      404: { unknown: NO_CAMPAIGN },
    },
  },
  listCampaigns: {
    query: query(campaigns.campaignListQuerySchema, { limit: '20' }),
    responses: {
      200: { campaigns: answer(campaigns.campaignListResponse, 'The newest campaigns', { items: [CAMPAIGN_DRAFT], nextCursor: null }) },
      400: { invalidLimit: INVALID_LIMIT },
    },
  },
  startCampaign: {
    params: CAMPAIGN_PATH,
    responses: { 202: { started: campaignAction('start', 'scheduled', 'Started: it waits for 10:00 in the first zone') }, 400: { invalidPath: INVALID_CAMPAIGN_PATH }, 404: { unknown: NO_CAMPAIGN } },
  },
  pauseCampaign: {
    params: CAMPAIGN_PATH,
    responses: {
      202: { pausing: campaignAction('pause', 'scheduled', 'Taken: no new batches; the campaign is paused once those in flight finish') },
      400: { invalidPath: INVALID_CAMPAIGN_PATH },
      404: { unknown: NO_CAMPAIGN },
      409: { finished: error('A finished campaign', 'campaign_status_conflict', `campaign ${CAMPAIGN_ID} is completed: it cannot be paused`) },
    },
  },
  resumeCampaign: {
    params: CAMPAIGN_PATH,
    responses: {
      202: { resuming: campaignAction('resume', 'paused', 'Taken: it carries on where it stopped') },
      400: { invalidPath: INVALID_CAMPAIGN_PATH },
      404: { unknown: NO_CAMPAIGN },
      409: { draft: error('A draft', 'campaign_status_conflict', `campaign ${CAMPAIGN_ID} is draft: it cannot be resumed`) },
    },
  },
  cancelCampaign: {
    params: CAMPAIGN_PATH,
    responses: {
      202: { cancelling: campaignAction('cancel', 'scheduled', 'Taken: whoever is still pending is cancelled') },
      400: { invalidPath: INVALID_CAMPAIGN_PATH },
      404: { unknown: NO_CAMPAIGN },
      409: { finished: error('A finished campaign', 'campaign_status_conflict', `campaign ${CAMPAIGN_ID} is completed: it cannot be cancelled`) },
    },
  },
};

// ------------------------------------------------------------------------------------------------ segments
/** The example segment: British customers with a delivered order in the last 90 days who did not say no to promotions by email. */
export const SEGMENT_ID = 'uk-recent-buyers';
/** A segment no campaign uses, which the DELETE example removes (test/openapi-examples.test.ts makes it first). */
export const RETIRED_SEGMENT_ID = 'summer-sale-2026';
const SEGMENT_INPUT = body(segments.segmentInputSchema, {
  name: 'UK recent buyers',
  description: 'Delivered in the last 90 days, and not opted out of promotions by email.',
  rule: {
    all: [
      { attribute: 'country', in: ['GB'] },
      { orders: { status: ['delivered'], withinDays: 90 } },
      { not: { preference: { channel: 'email', category: 'promotions', optedIn: false } } },
    ],
  },
});
const SEGMENT = {
  segmentId: SEGMENT_ID,
  name: SEGMENT_INPUT.name,
  description: SEGMENT_INPUT.description ?? null,
  rule: SEGMENT_INPUT.rule as z.input<typeof segments.segmentResponse>['rule'],
  createdAt: '2026-12-01T10:00:00.000Z',
  updatedAt: '2026-12-01T10:00:00.000Z',
} satisfies z.input<typeof segments.segmentResponse>;
const SIZED_SEGMENT = { ...SEGMENT, size: 1284, evaluatedAt: '2026-12-01T10:00:00.020Z' } satisfies z.input<typeof segments.sizedSegmentResponse>;
const INVALID_SEGMENT_PATH = invalid('path', 'segmentId', "may contain only letters, digits, '.', '_', ':' and '-'");
const NO_SEGMENT = notFound('no segment lapsed-fr', 'No such segment');
const ORDER_STATUS_REASON = `must be one of ${req.orderEventSchema.shape.status.options.join(', ')}`;

const SEGMENT_EXAMPLES: Record<string, OperationExamples> = {
  putSegment: {
    params: params(segments.segmentPath, { segmentId: SEGMENT_ID }),
    body: SEGMENT_INPUT,
    responses: {
      200: { replaced: answer(segments.sizedSegmentResponse, 'Replaced: the new rule, and its size now', { ...SIZED_SEGMENT, updatedAt: '2026-12-01T11:00:00.000Z', evaluatedAt: '2026-12-01T11:00:00.018Z' }) },
      201: { created: answer(segments.sizedSegmentResponse, 'Created, with its size now', SIZED_SEGMENT) },
      400: {
        invalidStatus: invalid('body', 'rule.all.1.orders.status.0', ORDER_STATUS_REASON, 'An order status Herald does not know, named by its path in the tree'),
        tooDeep: invalid('body', 'rule.not.not.not.not.not.not.not.not', 'nests deeper than 8 levels', 'A tree nested deeper than 8 levels'),
        minAboveMax: invalid('body', 'rule.orders.count.max', 'must be at least min (3)', 'A range whose max is below its min'),
      },
      409: {
        running: error('A running campaign enrols it', 'segment_in_use', `segment ${SEGMENT_ID} is the segment of running campaign black-friday-uk; save the new rule under another id`, [
          { field: 'campaignId', reason: 'black-friday-uk is running on this segment' },
        ]),
      },
    },
  },
  getSegment: {
    params: params(segments.segmentPath, { segmentId: SEGMENT_ID }),
    responses: { 200: { segment: answer(segments.sizedSegmentResponse, 'The segment and its size now', SIZED_SEGMENT) }, 400: { invalidPath: INVALID_SEGMENT_PATH }, 404: { noSegment: NO_SEGMENT } },
  },
  listSegments: {
    query: query(segments.segmentListQuerySchema, { limit: '20' }),
    responses: {
      200: {
        page: answer(segments.segmentPageResponse, 'Two segments', {
          items: [
            SEGMENT,
            {
              segmentId: 'cart-left-fr',
              name: 'French carts left a day',
              description: null,
              rule: { all: [{ attribute: 'locale', in: ['fr'] }, { openCart: { olderThanHours: 24 } }, { consent: { channel: 'email', category: 'cart-reminders', granted: true } }] },
              createdAt: '2026-11-28T09:00:00.000Z',
              updatedAt: '2026-11-28T09:00:00.000Z',
            },
          ],
          nextCursor: null,
        }),
      },
      400: { invalidLimit: INVALID_LIMIT },
    },
  },
  previewSegment: {
    params: params(segments.segmentPath, { segmentId: SEGMENT_ID }),
    query: query(segments.segmentPreviewQuerySchema, { sample: '2' }),
    responses: {
      200: {
        preview: answer(segments.segmentPreviewResponse, 'The count, and the first two by id', {
          segmentId: SEGMENT_ID,
          count: 1284,
          sample: [
            { customerId: 'c-1007', name: 'Grace Hopper', locale: 'en-GB', country: 'GB', timeZone: 'Europe/London', createdAt: '2026-03-14T08:21:00.000Z' },
            { customerId: CUSTOMER_ID, name: 'Ada Lovelace', locale: 'en-GB', country: 'GB', timeZone: 'Europe/London', createdAt: '2026-11-30T18:00:00.000Z' },
          ],
          evaluatedAt: '2026-12-01T10:05:00.031Z',
        }),
      },
      400: { invalidSample: invalid('query', 'sample', 'must be at most 100') },
      404: { noSegment: NO_SEGMENT },
    },
  },
  deleteSegment: {
    params: params(segments.segmentPath, { segmentId: RETIRED_SEGMENT_ID }),
    responses: {
      400: { invalidPath: INVALID_SEGMENT_PATH },
      404: { noSegment: NO_SEGMENT },
      409: {
        inUse: error('A campaign targets it', 'segment_in_use', `segment ${SEGMENT_ID} is the segment of campaign black-friday-uk; delete or change the campaign first`, [
          { field: 'campaignId', reason: 'black-friday-uk targets this segment' },
        ]),
      },
    },
  },
};

export const OPERATION_EXAMPLES: Record<string, OperationExamples> = {
  ...SOURCE_EXAMPLES,
  ...CAMPAIGN_EXAMPLES,
  ...CART_EXAMPLES,
  ...SEGMENT_EXAMPLES,
  postOrderEvent: {
    body: SHIPPED_EVENT,
    responses: {
      202: {
        accepted: answer(res.acceptedEventResponse, 'Accepted', { eventId: EVENT_ID, workflowId: `order:${ORDER_ID}`, duplicate: false }),
        duplicate: answer(res.acceptedEventResponse, 'The same event again: nothing is sent twice', { eventId: EVENT_ID, workflowId: `order:${ORDER_ID}`, duplicate: true }),
      },
      400: {
        invalidEvent: answer(
          res.orderEventErrorResponse,
          'An invalid event: every bad field, and the id its payload is kept under',
          {
            error: {
              code: 'validation_failed',
              message: `invalid body: status: ${STATUS_REASON}; occurredAt: ${OCCURRED_AT_REASON}`,
              fields: [
                { field: 'status', reason: STATUS_REASON },
                { field: 'occurredAt', reason: OCCURRED_AT_REASON },
              ],
            },
            rejectedEventId: REJECTED_EVENT_ID,
          },
          `The answer to ${JSON.stringify(INVALID_ORDER_EVENT)}.`,
        ),
        invalidJson: answer(res.orderEventErrorResponse, 'A body that is not JSON', {
          error: {
            code: 'invalid_json',
            message: 'body is not valid JSON: Unexpected token } in JSON at position 52',
            fields: [{ field: '(body)', reason: 'body is not valid JSON: Unexpected token } in JSON at position 52' }],
          },
        }),
      },
      409: {
        conflict: error(
          'The same eventId for another status',
          'event_id_conflict',
          `eventId ${EVENT_ID} was already used for a different event (order ${ORDER_ID}, status shipped)`,
          [{ field: 'eventId', reason: 'already used for a different event' }],
        ),
        customerMismatch: error(
          "An event naming another customer for the order",
          'order_customer_mismatch',
          `order ${ORDER_ID} belongs to another customer; an event cannot change an order's customer`,
          [{ field: 'customerId', reason: "differs from the order's customer" }],
        ),
      },
      503: DATABASE_UNAVAILABLE,
    },
  },

  putCustomer: {
    params: params(req.customerPath, { customerId: CUSTOMER_ID }),
    body: CUSTOMER_INPUT,
    responses: {
      200: { updated: answer(res.customerResponse, 'Updated', { ...CUSTOMER, updatedAt: '2026-12-01T08:00:00.000Z' }) },
      201: { created: answer(res.customerResponse, 'Created', CUSTOMER) },
      400: { invalidPhone: invalid('body', 'phone', 'must be an E.164 number such as +14155550123', 'A phone number not in E.164') },
    },
  },
  getCustomer: {
    params: params(req.customerPath, { customerId: CUSTOMER_ID }),
    responses: { 200: { customer: answer(res.customerResponse, 'The profile', CUSTOMER_WITH_PREFERENCES) }, 400: { invalidPath: INVALID_CUSTOMER_PATH }, 404: { noCustomer: NO_CUSTOMER } },
  },
  postDevice: {
    params: params(req.customerPath, { customerId: CUSTOMER_ID }),
    body: body(req.deviceSchema, { deviceId: DEVICE_ID, platform: 'ios', token: APNS_TOKEN, app: 'com.example.shop', locale: 'en-GB', timeZone: 'Europe/London' }),
    responses: {
      200: { refreshed: answer(res.deviceResponse, 'Refreshed', { ...DEVICE, lastSeenAt: '2026-12-01T09:00:00.000Z' }) },
      201: { registered: answer(res.deviceResponse, 'Registered', DEVICE) },
      400: { invalidToken: invalid('body', 'token', 'must be an APNs device token: at least 64 hexadecimal characters', 'A token that is not an APNs token') },
      409: {
        ownedByOther: error(
          "With a customer token: another customer's device",
          'device_owned_by_other_customer',
          "another customer holds this device's deviceId: only the shop's server can move it, unless that customer's app removes it first",
          [{ field: 'deviceId', reason: 'is registered to another customer' }],
        ),
      },
    },
  },
  listDevices: {
    params: params(req.customerPath, { customerId: CUSTOMER_ID }),
    responses: {
      200: {
        devices: answer(res.deviceListResponse, 'An active iPhone and a retired Android phone', {
          items: [
            DEVICE,
            {
              ...DEVICE,
              deviceId: 'pixel-ada',
              platform: 'android',
              app: 'com.example.shop',
              active: false,
              lastSeenAt: '2026-10-02T19:20:00.000Z',
              invalidatedAt: '2026-10-12T08:00:00.000Z',
              invalidatedReason: 'fcm: UNREGISTERED',
            },
          ],
        }),
      },
      400: { invalidPath: INVALID_CUSTOMER_PATH },
    },
  },
  deleteDevice: {
    params: params(req.devicePath, { customerId: CUSTOMER_ID, deviceId: DEVICE_ID }),
    responses: {
      400: { invalidPath: invalid('path', 'deviceId', "may contain only letters, digits, '.', '_', ':' and '-'") },
      404: { noDevice: notFound(`customer ${CUSTOMER_ID} has no device ${DEVICE_ID}`, 'No such device') },
    },
  },

  postWatch: {
    params: params(req.customerPath, { customerId: CUSTOMER_ID }),
    body: body(req.watchSchema, { sku: WATCHED_SKU, kind: 'price_drop', below: '40.00' }),
    responses: {
      200: { updated: answer(res.watchResponse, 'The same product and kind again: the threshold is updated', PRICE_WATCH) },
      201: { created: answer(res.watchResponse, 'Watching for a price under 40.00', PRICE_WATCH) },
      400: { belowOnRestock: invalid('body', 'below', 'is only for a price_drop watch', 'A threshold on a restock watch') },
    },
  },
  listWatches: {
    params: params(req.customerPath, { customerId: CUSTOMER_ID }),
    responses: {
      200: {
        watches: answer(res.watchListResponse, 'A price watch, and a restock watch that has fired', {
          items: [PRICE_WATCH, { ...PRICE_WATCH, watchId: RESTOCK_WATCH_ID, kind: 'restock', below: null, baselinePrice: null, firedAt: '2026-12-01T09:00:02.118Z' }],
        }),
      },
      400: { invalidPath: INVALID_CUSTOMER_PATH },
    },
  },
  deleteWatch: {
    params: params(req.watchPath, { customerId: CUSTOMER_ID, watchId: PRICE_WATCH.watchId }),
    responses: {
      400: { invalidPath: invalid('path', 'watchId', "may contain only letters, digits, '.', '_', ':' and '-'") },
      404: { noWatch: notFound(`customer ${CUSTOMER_ID} has no watch ${PRICE_WATCH.watchId}`, 'No such watch') },
    },
  },
  postProductEvent: {
    body: body(req.productEventSchema, {
      eventId: 'prod-FP-M-BLK-0042',
      sku: WATCHED_SKU,
      name: 'Fountain pen, medium nib, black',
      url: 'https://shop.example/p/FP-M-BLK',
      imageUrl: 'https://shop.example/img/FP-M-BLK.jpg',
      available: true,
      price: '39.90',
      currency: 'EUR',
    }),
    responses: {
      202: {
        restocked: answer(res.acceptedProductEventResponse, 'Back in stock: its watchers are being alerted', {
          eventId: 'prod-FP-M-BLK-0042',
          workflowId: `product-alert:${WATCHED_SKU}:prod-FP-M-BLK-0042`,
          duplicate: false,
          restocked: true,
        }),
        duplicate: answer(res.acceptedProductEventResponse, 'The same event again: nobody is alerted twice', {
          eventId: 'prod-FP-M-BLK-0042',
          workflowId: `product-alert:${WATCHED_SKU}:prod-FP-M-BLK-0042`,
          duplicate: true,
          restocked: true,
        }),
      },
      400: { invalidPrice: invalid('body', 'price', 'must be a price: at least 0, at most 4 decimals, such as 49.90', 'A price that is not one') },
      409: {
        conflict: error('The same eventId for another product', 'event_id_conflict', `eventId prod-FP-M-BLK-0042 was already used for product NB-A5-DOT`, [
          { field: 'eventId', reason: 'already used for a different product' },
        ]),
      },
      503: DATABASE_UNAVAILABLE,
    },
  },

  putPreferences: {
    params: params(req.customerPath, { customerId: CUSTOMER_ID }),
    body: body(req.preferencesSchema, {
      preferences: [
        { channel: 'email', category: 'promotions', optedIn: true },
        { channel: 'sms', category: 'marketing', optedIn: false },
      ],
      consent: { source: 'checkout-form', recordedAt: '2026-11-30T17:58:00Z' },
    }),
    responses: {
      200: { saved: answer(res.customerResponse, 'The profile with its rows', CUSTOMER_WITH_PREFERENCES) },
      400: { invalidCategory: invalid('body', 'preferences.0.category', `must be one of ${req.preferencesSchema.shape.preferences.element.shape.category.options.join(', ')}`, 'An unknown category') },
      404: { noCustomer: notFound(`no customer ${CUSTOMER_ID}; create it with PUT /v1/customers/${CUSTOMER_ID}`, 'No such customer') },
      409: {
        consentRequired: error('An SMS marketing opt-in without consent', 'consent_required', 'marketing opt-in without consent: preferences.0.optedIn', [
          {
            field: 'preferences.0.optedIn',
            reason: `an sms opt-in to marketing needs the customer's recorded consent: send consent { source, recordedAt? } with it, or record it with POST /v1/customers/${CUSTOMER_ID}/consents`,
          },
        ]),
      },
    },
  },
  getPreferences: {
    params: params(req.customerPath, { customerId: CUSTOMER_ID }),
    responses: {
      200: {
        preferences: answer(res.effectivePreferencesResponse, 'Two of the rows: a transactional default, a marketing opt-in with consent', {
          customerId: CUSTOMER_ID,
          items: [
            { channel: 'push', category: 'order-updates', class: 'transactional', optedIn: true, source: 'default', default: 'opted-in', consent: null, permitted: true, reason: null },
            {
              channel: 'email',
              category: 'promotions',
              class: 'marketing',
              optedIn: true,
              source: 'category',
              default: 'with-consent',
              consent: {
                rule: 'record-or-opt-in',
                status: 'granted',
                satisfied: true,
                record: { category: 'promotions', granted: true, source: 'checkout-form', recordedAt: '2026-11-30T17:58:00.000Z', receivedAt: '2026-11-30T18:00:01.000Z' },
              },
              permitted: true,
              reason: null,
            },
          ],
        }),
      },
      400: { invalidPath: INVALID_CUSTOMER_PATH },
      404: { noCustomer: notFound(`no customer ${CUSTOMER_ID}; create it with PUT /v1/customers/${CUSTOMER_ID}`, 'No such customer') },
    },
  },
  postConsent: {
    params: params(req.customerPath, { customerId: CUSTOMER_ID }),
    body: body(req.consentSchema, { channel: 'email', category: 'promotions', granted: true, source: 'checkout-form', recordedAt: '2026-11-30T17:58:00Z' }),
    responses: {
      201: { recorded: answer(res.consentResponse, 'Recorded', CONSENT) },
      400: {
        transactional: invalid('body', 'category', 'must be one of marketing, promotions, cart-reminders, restock, price-drops (transactional messages need no consent)', 'Consent for a transactional category'),
      },
      404: { noCustomer: notFound(`no customer ${CUSTOMER_ID}; create it with PUT /v1/customers/${CUSTOMER_ID}`, 'No such customer') },
    },
  },
  listConsents: {
    params: params(req.customerPath, { customerId: CUSTOMER_ID }),
    responses: {
      200: {
        history: answer(res.consentListResponse, 'A withdrawal by SMS keyword, then the consent given at checkout', {
          items: [
            { ...CONSENT, consentId: '8c2e4a6c-0d3f-4b7c-9e1a-2f4b6d8f0a31', channel: 'sms', category: 'marketing', granted: false, source: 'sms-keyword:STOP', recordedAt: '2026-12-01T07:45:00.000Z', receivedAt: '2026-12-01T07:45:02.000Z' },
            CONSENT,
          ],
        }),
      },
      400: { invalidPath: INVALID_CUSTOMER_PATH },
      404: { noCustomer: notFound(`no customer ${CUSTOMER_ID}; create it with PUT /v1/customers/${CUSTOMER_ID}`, 'No such customer') },
    },
  },

  listOrderNotifications: {
    params: params(req.orderPath, { orderId: ORDER_ID }),
    query: query(req.historyQuerySchema, { status: 'sent,delivered', from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z' }),
    responses: {
      200: { page: answer(res.notificationPageResponse, 'The shipment push, delivered', { items: [PUSH_NOTIFICATION], nextCursor: null }) },
      400: {
        invalidStatus: invalid('query', 'status', `must be a comma-separated list of ${req.NOTIFICATION_STATUSES.join(', ')}`, 'An unknown status'),
        invalidPath: INVALID_ORDER_PATH,
      },
    },
  },
  listCustomerNotifications: {
    params: params(req.customerPath, { customerId: CUSTOMER_ID }),
    query: query(req.historyQuerySchema, { channel: 'email', limit: '20' }),
    responses: {
      200: { page: answer(res.notificationPageResponse, "The shipment's email, which bounced", { items: [EMAIL_NOTIFICATION], nextCursor: null }) },
      400: { invalidLimit: INVALID_LIMIT, invalidPath: INVALID_CUSTOMER_PATH },
    },
  },
  getOrderState: {
    params: params(req.orderPath, { orderId: ORDER_ID }),
    responses: {
      200: {
        state: answer(res.orderStateResponse, 'Shipped and announced; the push is delivered', {
          workflowId: `order:${ORDER_ID}`,
          runId: RUN_ID,
          runStatus: 'RUNNING',
          orderId: ORDER_ID,
          customerId: CUSTOMER_ID,
          lastStatus: 'shipped',
          position: { stage: 'shipped', status: 'shipped', occurredAt: OCCURRED_AT },
          notificationState: 'idle',
          pending: [],
          processed: [
            {
              eventId: EVENT_ID,
              status: 'shipped',
              occurredAt: OCCURRED_AT,
              disposition: 'announced',
              notificationId: PUSH_ID,
              notificationStatus: 'delivered',
              sentTo: 1,
              failedTo: 0,
              deliveries: [
                { channel: 'push', notificationId: PUSH_ID, step: 0, status: 'delivered', sentTo: 1, failedTo: 0 },
                { channel: 'email', notificationId: EMAIL_ID, step: 0, status: 'sent', sentTo: 1, failedTo: 0 },
              ],
            },
          ],
          completesAt: null,
          waitingFor: null,
          held: [],
        }),
      },
      400: { invalidPath: INVALID_ORDER_PATH },
      404: { noWorkflow: notFound(`no workflow for order ${ORDER_ID}`, 'No event of this order was accepted') },
      503: {
        unavailable: error(
          'No worker answers the query (after the colon: what Temporal said)',
          'workflow_unavailable',
          `the workflow of order ${ORDER_ID} could not answer its state query: 4 DEADLINE_EXCEEDED: context deadline exceeded`,
        ),
      },
    },
  },

  getOrderTimeline: {
    params: params(req.orderPath, { orderId: ORDER_ID }),
    responses: {
      200: {
        timeline: answer(res.orderTimelineResponse, 'Packed, then shipped: the push opened, the email bounced', ORDER_TIMELINE),
        held: answer(
          res.orderTimelineResponse,
          'The night before: no device for the push, so the email went as the backup, held for quiet hours',
          ORDER_TIMELINE_HELD,
          "Read at 23:11 on 30 November, when order 1001 was packed: Ada had not registered her iPhone yet, and her quiet hours run from 22:00 to 07:00. The run's live state names what it holds and until when.",
        ),
      },
      400: { invalidPath: INVALID_ORDER_PATH },
      404: { noOrder: notFound(`no order ${UNKNOWN_ORDER_ID}: no event for it was accepted`, 'An order Herald has nothing for (a mistyped id)') },
    },
  },
  lookup: {
    query: query(req.lookupQuerySchema, { q: EVENT_ID }),
    responses: {
      200: {
        event: answer(res.lookupResponse, "An event id: its order's timeline", {
          q: EVENT_ID,
          matches: [{ kind: 'event', id: EVENT_ID, orderId: ORDER_ID, customerId: CUSTOMER_ID, href: `/v1/orders/${ORDER_ID}/timeline` }],
        }),
        order: answer(res.lookupResponse, 'An order id', {
          q: ORDER_ID,
          matches: [{ kind: 'order', id: ORDER_ID, orderId: ORDER_ID, customerId: CUSTOMER_ID, href: `/v1/orders/${ORDER_ID}/timeline` }],
        }),
        none: answer(res.lookupResponse, 'Nothing has this id', { q: UNKNOWN_ORDER_ID, matches: [] }),
      },
      400: { invalidQuery: invalid('query', 'q', "may contain only letters, digits, '.', '_', ':' and '-'", 'A string no id can be') },
    },
  },
  getCustomerTimeline: {
    params: params(req.customerPath, { customerId: CUSTOMER_ID }),
    query: query(req.customerTimelineQuerySchema, { limit: '10' }),
    responses: {
      200: {
        timeline: answer(res.customerTimelineResponse, 'Ada, her iPhone, and order 1001', {
          customerId: CUSTOMER_ID,
          profile: { name: CUSTOMER.name, email: EMAIL, phone: PHONE, locale: CUSTOMER.locale, timeZone: CUSTOMER.timeZone, quietHours: CUSTOMER.quietHours },
          devices: [{ deviceId: DEVICE_ID, platform: 'ios', app: DEVICE.app, active: true, lastSeenAt: DEVICE.lastSeenAt, invalidatedReason: null }],
          orders: [{ orderId: ORDER_ID, lastActivityAt: SHIPPED_TIMELINE_EVENT.receivedAt, events: ORDER_TIMELINE.events }],
          nextCursor: null,
        }),
      },
      400: { invalidLimit: invalid('query', 'limit', 'must be at most 50'), invalidPath: INVALID_CUSTOMER_PATH },
      404: { noCustomer: notFound(`no customer ${UNKNOWN_CUSTOMER_ID}: no profile, event or notification`, 'A customer Herald has nothing for (a mistyped id)') },
    },
  },
  listRejectedEvents: {
    query: query(rq.rejectedEventListQuerySchema, { status: 'open', limit: '20' }),
    responses: {
      200: {
        page: answer(res.rejectedEventPageResponse, 'A shipment refused for its time (critical, so first), then the documented invalid event', {
          items: [
            QUARANTINED,
            rejectedEvent({
              rejectedEventId: REJECTED_EVENT_ID,
              source: SOURCE,
              sourceId: null,
              eventId: INVALID_ORDER_EVENT.eventId,
              orderId: ORDER_ID,
              status: INVALID_ORDER_EVENT.status,
              critical: false,
              reason: 'invalid_field',
              state: 'open',
              errors: [
                { field: 'status', reason: STATUS_REASON },
                { field: 'occurredAt', reason: OCCURRED_AT_REASON },
              ],
              payload: INVALID_ORDER_EVENT,
              originalPayload: null,
              headers: null,
              receivedAt: '2026-12-01T09:41:27.530Z',
              updatedAt: '2026-12-01T09:41:27.530Z',
              replayCount: 0,
              lastReplayAt: null,
              replayedAt: null,
              replayedEventId: null,
            }),
          ],
          nextCursor: null,
          total: 2,
        }),
      },
      400: { invalidLimit: INVALID_LIMIT, invalidReason: invalid('query', 'reason', `must be one of ${REJECTION_REASONS.join(', ')}`) },
    },
  },
  getRejectedEvent: {
    params: params(rq.rejectedEventPath, { id: QUARANTINED_EVENT_ID }),
    responses: {
      200: { quarantined: answer(res.rejectedEventResponse, 'The shipment refused for its time, open', QUARANTINED) },
      400: { invalidPath: INVALID_REJECTED_PATH },
      404: { unknown: NO_REJECTED_EVENT },
    },
  },
  updateRejectedEvent: {
    params: params(rq.rejectedEventPath, { id: QUARANTINED_EVENT_ID }),
    body: body(rq.rejectedEventPatchSchema, { payload: SHIPPED_EVENT }),
    responses: {
      200: { fixed: answer(res.rejectedEventResponse, 'Fixed: the time as ISO-8601; the payload that came is kept', QUARANTINE_FIXED) },
      400: { nothing: invalid('body', '(body)', 'must give payload or state', 'Neither payload nor state'), invalidPath: INVALID_REJECTED_PATH },
      404: { unknown: NO_REJECTED_EVENT },
      409: { replayed: ALREADY_REPLAYED },
    },
  },
  replayRejectedEvent: {
    params: params(rq.rejectedEventPath, { id: QUARANTINED_EVENT_ID }),
    responses: {
      200: {
        accepted: answer(res.rejectedEventReplayResponse, 'Accepted: the shipment is announced', {
          outcome: 'accepted',
          accepted: { eventId: EVENT_ID, workflowId: `order:${ORDER_ID}`, duplicate: false },
          ignoredReason: null,
          rejectedEvent: QUARANTINE_REPLAYED,
        }),
        duplicate: answer(res.rejectedEventReplayResponse, 'The OMS had sent it again, valid: a duplicate, nothing is sent twice', {
          outcome: 'accepted',
          accepted: { eventId: EVENT_ID, workflowId: `order:${ORDER_ID}`, duplicate: true },
          ignoredReason: null,
          rejectedEvent: QUARANTINE_REPLAYED,
        }),
      },
      400: { invalidPath: INVALID_REJECTED_PATH },
      404: { unknown: NO_REJECTED_EVENT },
      409: { replayed: ALREADY_REPLAYED },
      422: {
        refusedAgain: answer(res.rejectedEventReplayRefusedResponse, 'Not fixed yet: refused again, it stays open', {
          error: { code: 'validation_failed', message: `invalid body: occurredAt: ${OCCURRED_AT_REASON}`, fields: QUARANTINED_ERRORS },
          rejectedEvent: { ...QUARANTINED, updatedAt: '2026-12-01T09:58:03.117Z', replayCount: 1, lastReplayAt: '2026-12-01T09:58:03.117Z' },
        }),
      },
    },
  },
  replayRejectedEvents: {
    body: body(rq.bulkReplaySchema, { source: SOURCE, reason: 'invalid_field', critical: true, limit: 100 }),
    responses: {
      200: {
        counts: answer(res.bulkReplayResponse, "The shop's critical events refused for a field, after its OMS fixed its time format", {
          replayed: 41,
          rejected: 2,
          ignored: 0,
          remaining: 0,
        }),
      },
      400: { tooMany: invalid('body', 'limit', 'must be at most 1000') },
    },
  },

  listInbox: {
    params: params(req.customerPath, { customerId: CUSTOMER_ID }),
    query: query(req.inboxQuerySchema, { unread: 'true', limit: '20' }),
    responses: {
      200: { page: answer(res.inboxPageResponse, 'One unread message', { items: [INBOX_ITEM], nextCursor: null, unreadCount: 1 }) },
      400: { invalidUnread: invalid('query', 'unread', 'must be true or false'), invalidPath: INVALID_CUSTOMER_PATH },
    },
  },
  readAllInbox: {
    params: params(req.customerPath, { customerId: CUSTOMER_ID }),
    responses: { 200: { updated: answer(res.inboxReadAllResponse, 'Three messages marked read', { updated: 3 }) }, 400: { invalidPath: INVALID_CUSTOMER_PATH } },
  },
  readInboxMessage: {
    params: params(req.inboxMessagePath, { customerId: CUSTOMER_ID, messageId: INBOX_MESSAGE_ID }),
    responses: {
      200: { read: answer(res.inboxItemResponse, 'The message, read', { ...INBOX_ITEM, readAt: '2026-12-01T09:40:00.000Z' }) },
      400: { invalidPath: invalid('path', 'messageId', "may contain only letters, digits, '.', '_', ':' and '-'") },
      404: { noMessage: notFound(`no inbox message ${INBOX_MESSAGE_ID} for customer ${CUSTOMER_ID}`, 'No such message') },
    },
  },
  streamInbox: {
    params: params(req.customerPath, { customerId: CUSTOMER_ID }),
    responses: {
      200: {
        stream: {
          summary: 'A message arrives, then it is read',
          value:
            `retry: 3000\n\nid: ${INBOX_MESSAGE_ID}\nevent: message\ndata: ${JSON.stringify(INBOX_ITEM)}\n\n` +
            `event: read\ndata: ${JSON.stringify({ messageId: INBOX_MESSAGE_ID })}\n\n: keep-alive\n\n`,
        },
      },
      400: { invalidPath: INVALID_CUSTOMER_PATH },
      503: {
        stopping: error('The server is stopping', 'unavailable', 'the server is stopping; reconnect in a moment'),
        tooManyStreams: error('This API instance has its most streams open', 'too_many_streams', tooManyStreams().message),
      },
    },
  },

  createCustomerToken: {
    params: params(req.customerPath, { customerId: CUSTOMER_ID }),
    body: body(req.customerTokenSchema, { ttlSeconds: 3600 }),
    responses: {
      201: {
        token: answer(res.customerTokenResponse, "A token for Ada's app, valid for an hour", {
          token: EXAMPLE_CUSTOMER_TOKEN.token,
          customerId: CUSTOMER_ID,
          keyId: EXAMPLE_CUSTOMER_TOKEN.keyId,
          expiresAt: EXAMPLE_CUSTOMER_TOKEN.expiresAt.toISOString(),
        }),
      },
      400: { tooLong: invalid('body', 'ttlSeconds', 'must be at most 86400 (a day)', 'A token for longer than a day') },
      503: { notConfigured: error(`${CUSTOMER_TOKEN_SECRET} is not set`, 'not_configured', `customer tokens are off: set ${CUSTOMER_TOKEN_SECRET} to mint them`) },
    },
  },
  createApiKey: {
    body: body(req.apiKeySchema, { name: 'oms-production', scopes: ['ingest'] }),
    responses: {
      201: {
        created: answer(res.apiKeyCreatedResponse, 'The key, shown this once', {
          id: API_KEY.id,
          name: 'oms-production',
          scopes: ['ingest'],
          key: 'hk_Q3vR8tLm2ZxN5pWc7YbK9dFh4JsA6eGq',
        }),
      },
      400: { noScopes: invalid('body', 'scopes', 'must list at least one scope', 'No scopes') },
    },
  },
  listApiKeys: {
    responses: {
      200: {
        keys: answer(res.apiKeyListResponse, 'The OMS key, and a revoked one', {
          items: [API_KEY, { ...API_KEY, id: RETIRED_API_KEY_ID, name: 'oms-staging', prefix: 'hk_7nWq2', createdAt: '2026-09-14T10:00:00.000Z', revokedAt: '2026-11-30T16:00:00.000Z' }],
        }),
      },
    },
  },
  revokeApiKey: {
    params: params(req.apiKeyPath, { id: RETIRED_API_KEY_ID }),
    responses: {
      400: { invalidPath: invalid('path', 'id', "may contain only letters, digits, '.', '_', ':' and '-'") },
      404: { noKey: notFound(`no active API key ${RETIRED_API_KEY_ID}`, 'No such active key') },
      409: {
        ownKey: error('The key making the request', 'key_in_use', 'an API key cannot revoke itself; revoke it with another admin key', [
          { field: 'id', reason: 'is the key making this request' },
        ]),
      },
    },
  },

  getStats: {
    query: query(req.statsQuerySchema, { from: '2026-11-30T00:00:00Z', to: '2026-12-01T00:00:00Z', groupBy: 'channel', bucket: 'day' }),
    responses: {
      200: {
        stats: answer(res.statsResponse, 'One day by channel: push', {
          from: '2026-11-30T00:00:00.000Z',
          to: '2026-12-01T00:00:00.000Z',
          groupBy: ['channel'],
          bucket: 'day',
          bucketAuto: false,
          seriesFrom: '2026-11-30T00:00:00.000Z',
          totals: STATS_GROUP,
          groups: [
            { key: { channel: 'push' }, ...STATS_GROUP, series: [{ bucketStart: '2026-11-30T00:00:00.000Z', ...STATS_COUNTS }] },
          ],
          attemptErrors: [{ reason: 'apns: BadDeviceToken', label: 'apns: BadDeviceToken', count: 2 }],
          deliberateWaits: [
            { kind: 'held', reason: 'quiet_hours', label: HOLD_LABELS.quiet_hours, count: 4, p50: 21_600_000, p95: 30_600_000, max: 32_400_000 },
            { kind: 'backup', reason: 'no_receipt', label: BACKUP_LABELS.no_receipt, count: 2, p50: 300_400, p95: 300_900, max: 301_000 },
          ],
          topTemplatesByClickRate: [
            { template: { id: TEMPLATE_ID, key: 'order.shipped', channel: 'push', locale: 'en', version: 1 }, sent: 112, opened: 41, clicked: 9, openRate: 0.3661, clickRate: 0.0804 },
          ],
          intake: { unsignalled: 1240, oldestUnsignalledSeconds: 4.2, signalPool: { queued: 1232, inFlight: 8, concurrency: 8, queueMax: 10_000 } },
        }),
      },
      400: { invalidRange: invalid('query', 'to', 'must be later than from', 'A window that ends before it starts') },
    },
  },

  listDeadLetters: {
    query: query(req.pageQuerySchema, { limit: '20' }),
    responses: {
      200: { page: answer(res.deadLetterPageResponse, 'A push APNs kept refusing', { items: [DEAD_LETTER], nextCursor: null }) },
      400: { invalidLimit: INVALID_LIMIT },
    },
  },
  replayDeadLetter: {
    params: params(req.deadLetterPath, { id: DEAD_LETTER_ID }),
    responses: {
      202: { started: answer(res.replayAcceptedResponse, 'The replay started', { deadLetterId: DEAD_LETTER_ID, workflowId: `dead-letter-replay:${DEAD_LETTER_ID}` }) },
      400: { invalidPath: invalid('path', 'id', "may contain only letters, digits, '.', '_', ':' and '-'") },
      404: { noDeadLetter: notFound(`no dead letter ${DEAD_LETTER_ID}`, 'No such dead letter') },
      409: { running: error('A replay is running', 'replay_in_progress', `dead letter ${DEAD_LETTER_ID} is being replayed already`) },
    },
  },

  postNotificationEvent: {
    params: params(req.notificationPath, { notificationId: PUSH_ID }),
    body: body(req.notificationEventSchema, { type: 'opened', occurredAt: '2026-12-01T09:31:12Z', source: 'app', eventId: 'open-7d3f9a2c', receiptToken: EXAMPLE_RECEIPT_TOKEN }),
    responses: {
      202: { recorded: answer(res.receiptAcceptedResponse, 'The app reports the push opened', { receipt: OPENED_RECEIPT, duplicate: false, notificationStatus: 'opened', signalled: true }) },
      400: { invalidType: invalid('body', 'type', 'must be one of delivered, opened, clicked', 'An unknown receipt type'), invalidPath: INVALID_NOTIFICATION_PATH },
      403: {
        wrongToken: error(
          "Another notification's receipt token (or a made-up one)",
          'receipt_token_invalid',
          'receiptToken is not the receipt token of this notification; nothing was recorded',
          [{ field: 'receiptToken', reason: 'is not the receipt token of this notification' }],
        ),
        noToken: error('No receipt token', 'receipt_token_invalid', 'receiptToken is required: the receiptToken the delivered notification carried; nothing was recorded', [
          { field: 'receiptToken', reason: 'is required: the receiptToken the delivered notification carried' },
        ]),
      },
      404: { noNotification: notFound(`no notification ${PUSH_ID}`, 'No such notification') },
      409: {
        conflict: error('The same eventId for another type', 'event_id_conflict', `this event id was already recorded as a 'delivered' receipt for notification ${PUSH_ID}`, [
          { field: 'eventId', reason: 'was already used for a different receipt' },
        ]),
      },
    },
  },
  getNotification: {
    params: params(req.notificationPath, { notificationId: PUSH_ID }),
    responses: {
      200: {
        notification: answer(res.notificationDetailResponse, 'The shipment push, opened', {
          ...PUSH_NOTIFICATION,
          status: 'opened',
          explanation: 'Now opened by the customer.',
          openedAt: '2026-12-01T09:31:12.000Z',
          clickedAt: null,
          receipts: [OPENED_RECEIPT],
        }),
      },
      400: { invalidPath: INVALID_NOTIFICATION_PATH },
      404: { noNotification: notFound(`no notification ${PUSH_ID}`, 'No such notification') },
    },
  },
  postEmailWebhook: {
    body: EMAIL_WEBHOOK_EVENT,
    headers: { 'X-Herald-Signature': `t=${WEBHOOK_SIGNED_AT},v1=${hmacSha256({ id: 'k0', secret: 'example-webhook-secret' }, `${WEBHOOK_SIGNED_AT}.${JSON.stringify(EMAIL_WEBHOOK_EVENT)}`).toString('hex')}` },
    responses: {
      202: {
        recorded: answer(res.receiptAcceptedResponse, 'A hard bounce fails the email', { receipt: BOUNCE_RECEIPT, duplicate: false, notificationStatus: 'failed', signalled: true }),
      },
      400: { noBounceType: invalid('body', 'bounceType', 'must be hard or soft', 'A bounce without its type') },
      401: {
        unsigned: error('No signature (an API key is not one)', 'invalid_signature', 'X-Herald-Signature is missing; nothing was recorded', [
          { field: 'X-Herald-Signature', reason: 'is missing' },
        ]),
        badSignature: error(
          'A body other than the one signed',
          'invalid_signature',
          'X-Herald-Signature no v1 is the HMAC-SHA256 of "<t>.<body>" under HERALD_EMAIL_WEBHOOK_SECRET; nothing was recorded',
          [{ field: 'X-Herald-Signature', reason: 'no v1 is the HMAC-SHA256 of "<t>.<body>" under HERALD_EMAIL_WEBHOOK_SECRET' }],
        ),
      },
      404: {
        unknownMessage: error('A Message-ID Herald did not send', 'not_found', `no email was sent with Message-ID ${EMAIL_MESSAGE_ID}`, [
          { field: 'messageId', reason: 'is not the Message-ID of an email Herald sent' },
        ]),
        notConfigured: error('HERALD_EMAIL_WEBHOOK_SECRET is not set', 'not_configured', 'the generic email webhook is not configured (HERALD_EMAIL_WEBHOOK_SECRET): no events are taken'),
      },
      409: {
        conflict: error('The same provider event id for another type', 'event_id_conflict', `this event id was already recorded as a 'delivered' receipt for notification ${EMAIL_ID}`, [
          { field: 'id', reason: 'was already used for a different receipt' },
        ]),
      },
    },
  },
  postSendGridWebhook: {
    body: SENDGRID_EVENTS,
    headers: {
      'X-Twilio-Email-Event-Webhook-Signature': 'MEUCIQDj1Wq3z7kYb0H2c6n9p4R8tLw5vXe1sA7dF3gK0mNqUwIgZr2Yh8Tb5Jc1xVn4Lp7Qs9Ke3Wd6Fa0Gm2Hy5Ru8IoE=',
      'X-Twilio-Email-Event-Webhook-Timestamp': String(WEBHOOK_SIGNED_AT),
    },
    responses: {
      200: { taken: answer(res.sendGridWebhookResponse, 'Delivered, then opened', { received: 2, recorded: 2, duplicates: 0, conflicts: 0, unmatched: 0, ignored: 0 }) },
      400: { notAnArray: invalid('body', '(body)', 'must be a JSON array of SendGrid events', 'One event, not a batch') },
      401: {
        badSignature: error(
          'A body other than the one SendGrid signed, or another key',
          'invalid_signature',
          'X-Twilio-Email-Event-Webhook-Signature does not verify with SENDGRID_WEBHOOK_PUBLIC_KEY over the timestamp and this body; nothing was recorded',
          [{ field: 'X-Twilio-Email-Event-Webhook-Signature', reason: 'does not verify with SENDGRID_WEBHOOK_PUBLIC_KEY over the timestamp and this body' }],
        ),
        stale: error('A batch signed an hour ago', 'invalid_signature', "X-Twilio-Email-Event-Webhook-Timestamp is 3600 s from the API's clock; at most 300 s is taken; nothing was recorded", [
          { field: 'X-Twilio-Email-Event-Webhook-Timestamp', reason: "is 3600 s from the API's clock; at most 300 s is taken" },
        ]),
      },
      404: { notConfigured: error('SENDGRID_WEBHOOK_PUBLIC_KEY is not set', 'not_configured', 'the SendGrid webhook is not configured (SENDGRID_WEBHOOK_PUBLIC_KEY): no events are taken') },
      413: { tooLarge: error('A batch over 1 MB', 'payload_too_large', 'request entity too large', [{ field: '(body)', reason: 'request entity too large' }]) },
    },
  },
  trackEmailOpen: {
    params: params(req.trackingTokenPath, { token: EXAMPLE_OPEN_TOKEN }),
    responses: {
      200: { pixel: { summary: 'A transparent 1x1 GIF', value: 'GIF89a…' } },
      400: { notAToken: invalid('path', 'token', 'must be a tracking token: <keyId>.<notification id, base64url>.<signature>', 'Not the shape of a tracking token') },
      404: { altered: notFound('no such tracking link', 'A token Herald did not sign (or an altered one)') },
    },
  },
  trackEmailClick: {
    params: params(req.trackingTokenPath, { token: EXAMPLE_CLICK_TOKEN }),
    query: query(req.trackingClickQuerySchema, { url: EXAMPLE_CLICK_TARGET }),
    responses: {
      400: { noUrl: invalid('query', 'url', 'is required', 'No target URL') },
      404: { altered: notFound('no such tracking link', 'A target URL or token other than the one signed') },
    },
  },
  postTwilioStatusCallback: {
    body: body(req.twilioStatusCallbackSchema, { MessageSid: TWILIO_MESSAGE_SID, MessageStatus: 'delivered', AccountSid: 'AC8f2d4b6a1c3e5f7a9b0d2c4e6f8a1b3c' }),
    headers: { 'X-Twilio-Signature': 'c2lnbmVkIG92ZXIgdGhlIFVSTCBhbmQgZm9ybSE=' },
    responses: {
      400: { invalidSid: invalid('body', 'MessageSid', 'must be a Twilio message SID (SM or MM and 32 hex digits)', 'Not a message SID') },
      403: {
        badSignature: error(
          'A signature that does not match',
          'invalid_signature',
          'X-Twilio-Signature is missing or does not match this request (is HERALD_PUBLIC_URL the address Twilio calls?)',
        ),
      },
      404: {
        unknownMessage: error('A MessageSid Herald did not send', 'not_found', `no SMS was sent with MessageSid ${TWILIO_MESSAGE_SID}`, [
          { field: 'MessageSid', reason: 'is not a message Herald sent' },
        ]),
        notConfigured: error(
          'Twilio is not configured',
          'not_configured',
          'Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM): no status callbacks are taken',
        ),
      },
    },
  },

  listTemplates: {
    query: query(req.templateListQuerySchema, { key: 'order.shipped' }),
    responses: {
      200: {
        templates: answer(res.templateListResponse, 'The shipment templates', {
          items: [
            { key: 'order.shipped', channel: 'email', locale: 'en', publishedVersion: 1, latestVersion: 1, versionCount: 1 },
            { key: 'order.shipped', channel: 'push', locale: 'en', publishedVersion: 1, latestVersion: 2, versionCount: 2 },
            { key: 'order.shipped', channel: 'push', locale: 'fr', publishedVersion: 1, latestVersion: 1, versionCount: 1 },
          ],
        }),
      },
      400: { invalidChannel: invalid('query', 'channel', 'must be one of push, email, sms, inapp') },
    },
  },
  getTemplate: {
    params: params(req.templateKeyPath, { key: 'order.shipped' }),
    query: query(req.templateKeyQuerySchema, { channel: 'push', locale: 'en' }),
    responses: {
      200: {
        template: answer(res.templateKeyResponse, 'The shipment push in English: a draft over the published version', {
          key: 'order.shipped',
          variables: [
            { name: 'orderId', description: "The OMS's order id." },
            { name: 'carrier', description: 'The carrier, such as `UPS`.' },
            { name: 'trackingNumber', description: "The carrier's tracking number." },
            { name: 'trackingUrl', description: "A link to the carrier's tracking page." },
            { name: 'eta', description: 'Estimated delivery: an ISO date or date-time (use `local_date`), or free text shown as given.' },
          ],
          templates: [{ channel: 'push', locale: 'en', publishedVersion: 1, latestVersion: 2, versions: [PUSH_TEMPLATE_V2, PUSH_TEMPLATE_V1] }],
        }),
      },
      400: { invalidKey: INVALID_TEMPLATE_KEY },
    },
  },
  createTemplateVersion: {
    params: params(req.templateKeyPath, { key: 'order.shipped' }),
    body: NEW_TEMPLATE_VERSION,
    responses: {
      201: { draft: answer(res.templateVersionResponse, 'Version 2, a draft', PUSH_TEMPLATE_V2) },
      400: {
        unknownVariable: invalidTemplate('body', `unknown variable 'parcelId' for order.shipped; known: ${templateVariables('order.shipped')!.map((v) => v.name).join(', ')}`, 'A variable the key does not provide'),
        badDeepLink: invalidTemplate('deepLink', "must not use the javascript: scheme (with the example values it renders to 'javascript:alert(1)')", 'A deep link that is no URL an app may open'),
      },
    },
  },
  getTemplateVersion: {
    params: TEMPLATE_VERSION,
    responses: { 200: { version: answer(res.templateVersionResponse, 'Version 2', PUSH_TEMPLATE_V2) }, 400: { invalidVersion: invalid('path', 'version', 'must be a version number (1 or more)') }, 404: { noVersion: NO_TEMPLATE_VERSION } },
  },
  updateTemplateVersion: {
    params: TEMPLATE_VERSION,
    body: TEMPLATE_CONTENT,
    responses: {
      200: { draft: answer(res.templateVersionResponse, 'The draft, edited', {
        ...PUSH_TEMPLATE_V2,
        subject: TEMPLATE_CONTENT.subject,
        body: TEMPLATE_CONTENT.body,
        // A PUT replaces every field: the image and buttons it does not give are gone.
        imageUrl: null,
        deepLink: '{{ trackingUrl }}',
        actions: [],
        actionCategory: null,
      }) },
      400: { htmlOnPush: invalidTemplate('bodyHtml', 'only email templates have an HTML part', 'An HTML part on a push template') },
      404: { noVersion: NO_TEMPLATE_VERSION },
      409: {
        notDraft: error('A published version', 'template_not_draft', 'version 1 of order.shipped (push, en) is published; only drafts can be edited (create a new version)'),
      },
    },
  },
  publishTemplateVersion: {
    params: TEMPLATE_VERSION,
    responses: {
      200: {
        published: answer(res.templatePublishedResponse, 'Version 2 replaces version 1', {
          published: { ...PUSH_TEMPLATE_V2, state: 'published', subject: TEMPLATE_CONTENT.subject, body: TEMPLATE_CONTENT.body },
          archived: { ...PUSH_TEMPLATE_V1, state: 'archived' },
        }),
      },
      400: { invalidVersion: invalid('path', 'version', 'must be a version number (1 or more)') },
      404: { noVersion: NO_TEMPLATE_VERSION },
    },
  },
  rollbackTemplate: {
    params: TEMPLATE_SEQUENCE,
    responses: {
      200: {
        rolledBack: answer(res.templatePublishedResponse, 'Version 1 is back; version 2 is archived', {
          published: PUSH_TEMPLATE_V1,
          archived: { ...PUSH_TEMPLATE_V2, state: 'archived', subject: TEMPLATE_CONTENT.subject, body: TEMPLATE_CONTENT.body },
        }),
      },
      400: { invalidChannel: invalid('path', 'channel', 'must be one of push, email, sms, inapp') },
      409: { nothingOlder: error('No older version was published', 'no_previous_version', 'order.shipped (push, en) has no archived version older than version 1') },
    },
  },
  previewTemplate: {
    params: params(req.templateKeyPath, { key: 'order.shipped' }),
    body: body(req.templatePreviewSchema, {
      channel: 'push',
      locale: 'fr-CA',
      event: { status: 'shipped', orderId: ORDER_ID, data: { carrier: 'Purolator', trackingNumber: '335712345678', eta: '2026-12-03T18:00:00Z' } },
      customer: { name: 'Ada Lovelace', timeZone: 'America/Toronto' },
    }),
    responses: {
      200: {
        preview: answer(res.templatePreviewResponse, 'The French push, as a Toronto customer reads it', {
          templateId: '4a6c8e0a-2b4d-4f6a-8c0e-6a8c0e2a4d93',
          key: 'order.shipped',
          channel: 'push',
          locale: 'fr',
          version: 1,
          state: 'published',
          subject: 'Commande 1001 expédiée',
          body: 'Votre commande 1001 est en route avec Purolator. Numéro de suivi : 335712345678.',
          html: null,
          rich: null,
          formatting: { locale: 'fr-CA', timeZone: 'America/Toronto' },
          variables: {
            orderId: ORDER_ID,
            status: 'shipped',
            customerName: 'Ada Lovelace',
            customerLocale: 'fr-CA',
            customerTimeZone: 'America/Toronto',
            occurredAt: '2026-11-21T10:00:00Z',
            carrier: 'Purolator',
            trackingNumber: '335712345678',
            eta: '2026-12-03T18:00:00Z',
          },
        }),
      },
      400: { invalidChannel: invalid('body', 'channel', 'must be one of push, email, sms, inapp', 'An unknown channel') },
      404: { noTemplate: notFound("no published sms template 'order.shipped' for locales fr-CA, fr, en", 'No template along the fallback chain') },
    },
  },

  health: { responses: { 200: { up: answer(res.healthResponse, 'Up', { status: 'ok' }) } } },
  readiness: {
    responses: {
      200: { ready: answer(res.readinessResponse, 'Ready', { status: 'ready', checks: { database: { ok: true }, temporal: { ok: true } } }) },
      503: {
        notReady: answer(res.readinessResponse, 'Temporal does not answer', {
          status: 'not_ready',
          checks: { database: { ok: true }, temporal: { ok: false, error: 'temporal did not answer (error id 6f1c2b8e-3d4a-4f5b-9c6d-7e8f9a0b1c2d)' } },
        }),
      },
    },
  },
  metrics: {
    responses: {
      200: {
        metrics: {
          summary: 'Prometheus text',
          value:
            '# HELP herald_order_events_accepted_total Order events accepted by intake\n# TYPE herald_order_events_accepted_total counter\n' +
            'herald_order_events_accepted_total{source="shop",status="shipped",duplicate="false"} 1\n',
        },
      },
    },
  },
  openApiDocument: {
    responses: { 200: { document: { summary: 'This document (abridged)', value: { openapi: '3.1.0', info: { title: 'Herald', version: '0.1.0' }, paths: {}, components: {} } } } },
  },
  docs: { responses: { 200: { page: { summary: 'The Swagger UI page', value: '<!doctype html>\n<html lang="en">\n<head><title>Herald API</title>...' } } } },
  dashboard: { responses: { 200: { page: { summary: 'The dashboard page', value: '<!doctype html>\n<html lang="en">\n<head><title>Herald dashboard</title>...' } } } },
  ...EXPERIMENT_EXAMPLES,
};
