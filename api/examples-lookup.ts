// Examples of the order lookup operations (api/routes/lookup.ts), keyed by operationId: one realistic request and
// its answers. The story: order ORD-2026-104233 of customer CUS-58213, who has no registered device and quiet
// hours from 22:00 to 07:00 in Europe/Paris. It was packed at 23:10 local time: the push could not go (no device),
// so the email went as the plan's backup, and it waits for quiet hours to end.
const ORDER = 'ORD-2026-104233';
const CUSTOMER = 'CUS-58213';
const EVENT = 'evt_01JDQ7K4M8ZP3V6X9TB2C5N0RW';
const SHIPPED = 'evt_01JDQ9B2R7HW4N8E1KX5T3C6VA';
const RUN = '0193f4c2-7a1e-7b3d-9c8f-5e2a1d6b4f07';

const pushSuppressed = {
  notificationId: `${EVENT}/push`,
  orderId: ORDER,
  customerId: CUSTOMER,
  eventId: EVENT,
  type: 'order.packed',
  priority: 'routine',
  category: 'transactional',
  channel: 'push',
  address: null,
  status: 'suppressed',
  suppressionReason: 'no_device',
  suppressionLabel: 'Not sent: the customer has no registered device for push',
  failureReason: null,
  failureLabel: null,
  template: { id: '6f1c2b7e-3d4a-4e8b-9f0c-1a2b3c4d5e6f', version: 3, locale: 'fr-FR' },
  holdReason: null,
  holdLabel: null,
  heldUntil: null,
  escalation: null,
  explanation: 'Not sent: the customer has no registered device for push.',
  held: null,
  replacedBy: null,
  title: 'Commande ORD-2026-104233 emballée',
  body: 'Votre commande est prête à partir.',
  createdAt: '2026-11-21T22:10:01.214Z',
  sentAt: null,
  deliveredAt: null,
  attempts: [],
};

const emailHeld = {
  ...pushSuppressed,
  notificationId: `${EVENT}/email`,
  channel: 'email',
  address: 'ada@example.com',
  status: 'queued',
  suppressionReason: null,
  suppressionLabel: null,
  template: { id: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', version: 2, locale: 'fr-FR' },
  holdReason: 'quiet_hours',
  holdLabel: "Held until the customer's quiet hours end",
  heldUntil: '2026-11-22T06:00:00.000Z',
  escalation: { step: 1, reason: 'nothing_sent', label: 'Sent as a backup: nothing could go on the channels before it' },
  explanation:
    "Sent as a backup: nothing could go on the channels before it. Held until the customer's quiet hours end (until 2026-11-22T06:00:00.000Z). Now waiting to be handed to the provider.",
  held: { reason: 'quiet_hours', until: '2026-11-22T06:00:00.000Z' },
  title: 'Votre commande ORD-2026-104233 est emballée',
  body: 'Bonjour Ada, votre commande est emballée et partira demain.',
  createdAt: '2026-11-21T22:10:01.388Z',
};

const packedEvent = {
  eventId: EVENT,
  status: 'packed',
  occurredAt: '2026-11-21T22:10:00.000Z',
  receivedAt: '2026-11-21T22:10:00.912Z',
  source: 'oms',
  disposition: 'announced',
  processedAt: '2026-11-21T22:10:01.402Z',
  entries: [
    { kind: 'notification', at: pushSuppressed.createdAt, notification: pushSuppressed },
    { kind: 'notification', at: emailHeld.createdAt, notification: emailHeld },
  ],
};

const orderTimeline = {
  orderId: ORDER,
  customerId: CUSTOMER,
  position: { stage: 'packed', status: 'packed', occurredAt: '2026-11-21T22:10:00.000Z', updatedAt: '2026-11-21T22:10:01.402Z' },
  events: [packedEvent],
  eventsOmitted: 0,
  otherEntries: [],
  workflow: {
    workflowId: `order:${ORDER}`,
    runId: RUN,
    status: 'RUNNING',
    uiUrl: `http://127.0.0.1:8233/namespaces/default/workflows/order:${ORDER}/${RUN}/history`,
    live: {
      notificationState: 'waiting-quiet-hours',
      lastStatus: 'packed',
      held: [{ channel: 'email', reason: 'quiet_hours', until: '2026-11-22T06:00:00.000Z', notificationIds: [`${EVENT}/email`], eventIds: [EVENT], devices: 0 }],
      waitingFor: null,
      completesAt: null,
      pending: [],
    },
    note: null,
  },
};

const notFound = (message: string) => ({ error: { code: 'not_found', message } });

export const lookupExamples = {
  getOrderTimeline: {
    request: { params: { orderId: ORDER } },
    responses: {
      200: orderTimeline,
      404: notFound('no order ORD-2026-000000: no event for it was accepted'),
    },
  },
  lookup: {
    request: { query: { q: EVENT } },
    responses: {
      200: {
        q: EVENT,
        matches: [{ kind: 'event', id: EVENT, orderId: ORDER, customerId: CUSTOMER, href: `/v1/orders/${ORDER}/timeline` }],
      },
    },
  },
  getCustomerTimeline: {
    request: { params: { customerId: CUSTOMER }, query: { limit: 10 } },
    responses: {
      200: {
        customerId: CUSTOMER,
        profile: {
          name: 'Ada Lovelace',
          email: 'ada@example.com',
          phone: '+33612345678',
          locale: 'fr-FR',
          timeZone: 'Europe/Paris',
          quietHours: { start: '22:00', end: '07:00' },
        },
        devices: [],
        orders: [{ orderId: ORDER, lastActivityAt: packedEvent.receivedAt, events: [packedEvent] }],
        nextCursor: null,
      },
      404: notFound('no customer CUS-00000: no profile, event or notification'),
    },
  },
  listRejectedEvents: {
    request: { query: { limit: 20 } },
    responses: {
      200: {
        items: [
          {
            rejectedEventId: '3c9e1f7a-5b2d-4e8c-a1f3-7d9b5e2c4a68',
            source: 'oms',
            eventId: SHIPPED,
            orderId: ORDER,
            status: 'shipped',
            critical: true,
            errors: [{ field: 'occurredAt', reason: 'must be an ISO-8601 date-time with a time zone, e.g. 2026-11-21T10:00:00Z (years 1900 to 9999)' }],
            payload: { eventId: SHIPPED, orderId: ORDER, customerId: CUSTOMER, status: 'shipped', occurredAt: '21/11/2026 14:32', source: 'oms', data: { carrier: 'UPS' } },
            receivedAt: '2026-11-21T14:32:09.117Z',
            replayedAt: null,
          },
        ],
        nextCursor: null,
      },
    },
  },
} as const;
