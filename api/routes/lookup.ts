import { CRITICAL_STATUSES } from '../../domain';
import { Prisma } from '../../lib/db';
import { HttpError } from '../errors';
import { invalidCursor } from '../paging';
import {
  customerTimelineResponse,
  lookupResponse,
  orderTimelineResponse,
  rejectedEventPageResponse,
  type RejectedEventView,
} from '../response-schemas';
import { defineRoute, type Route } from '../route';
import { customerPath, customerTimelineQuerySchema, lookupQuerySchema, orderPath, pageQuerySchema } from '../schemas';
import { customerTimeline, lookup, orderTimeline, storableTime, TIMELINE_EVENT_LIMIT } from '../timeline';

const TAG = 'Order lookup';

// ------------------------------------------------------------------------------------- rejected events

type RejectedRow = Prisma.RejectedEventGetPayload<object>;

function rejectedView(r: RejectedRow): RejectedEventView {
  return {
    rejectedEventId: r.id,
    source: r.source,
    eventId: r.eventId,
    orderId: r.orderId,
    status: r.status,
    critical: r.critical,
    // Kept as the 400 named them; anything else in the column is shown as text rather than dropped.
    errors: (Array.isArray(r.errors) ? r.errors : []).map((e) => {
      const f = (e && typeof e === 'object' ? e : {}) as { field?: unknown; reason?: unknown };
      return { field: String(f.field ?? '(body)'), reason: String(f.reason ?? JSON.stringify(e)) };
    }),
    payload: r.payload,
    receivedAt: r.receivedAt,
    replayedAt: r.replayedAt,
  };
}

/** Opaque cursor of the critical-first, newest-first list: (critical, receivedAt, id). */
const encodeRejectedCursor = (r: RejectedRow): string => Buffer.from(JSON.stringify([r.critical, r.receivedAt.toISOString(), r.id])).toString('base64url');

function decodeRejectedCursor(cursor: string): { critical: boolean; receivedAt: Date; id: string } {
  try {
    const [critical, at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown, unknown];
    const receivedAt = new Date(at as string);
    const bad = typeof critical !== 'boolean' || typeof at !== 'string' || typeof id !== 'string' || id.includes('\u0000') || Number.isNaN(receivedAt.getTime());
    if (bad || !storableTime(receivedAt)) throw new Error('bad cursor');
    return { critical, receivedAt, id };
  } catch {
    throw invalidCursor();
  }
}

/** Rows after the cursor in (critical desc, receivedAt desc, id desc) order. */
function afterRejected(c: { critical: boolean; receivedAt: Date; id: string }): Prisma.RejectedEventWhereInput {
  const older: Prisma.RejectedEventWhereInput = {
    critical: c.critical,
    OR: [{ receivedAt: { lt: c.receivedAt } }, { receivedAt: c.receivedAt, id: { lt: c.id } }],
  };
  return c.critical ? { OR: [older, { critical: false }] } : older;
}

/** What happened to an order, a customer or an event, in one place: for operators and the dashboard's lookup. */
export const lookupRoutes: Route[] = [
  defineRoute({
    method: 'get',
    path: '/v1/orders/{orderId}/timeline',
    operationId: 'getOrderTimeline',
    tag: TAG,
    summary: "An order's story: each event, what went for it and why, and its workflow run",
    description:
      `Every accepted event of the order in arrival order (at most ${TIMELINE_EVENT_LIMIT}, the latest), each with its disposition and, in time order, ` +
      'what Herald did about it: each notification (channel, status, address, attempts with the device, suppression, failure, hold and ' +
      'escalation reasons with their labels, explanation) and each receipt. Then the order workflow: its current run, status, a link to the ' +
      "run in the Temporal Web UI, and the run's live state (what is held and what waits, until when) when it answers its query within 3 s; " +
      'otherwise `note` says why (no worker, Temporal unreachable). The events and notifications come from the database, so they are there either way.',
    scope: 'read',
    params: orderPath,
    responses: { 200: { description: "The order's timeline.", body: orderTimelineResponse } },
    errors: { 404: 'Herald has no event, notification or position for this order.' },
    handler: async ({ params: { orderId } }, { db, temporal, temporalUiUrl }) => {
      const timeline = await orderTimeline(db, temporal, orderId, temporalUiUrl);
      if (!timeline) throw new HttpError(404, 'not_found', `no order ${orderId}: no event for it was accepted`);
      return { status: 200, body: timeline };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/lookup',
    operationId: 'lookup',
    tag: TAG,
    summary: 'Whether a string is an order id, a customer id or an event id',
    description:
      'Checks all three, so one search box takes whatever the operator has. Each match links to the timeline to read (an event: its ' +
      "order's). No match is a 200 with no matches; a string that cannot be an id is a 400.",
    scope: 'read',
    query: lookupQuerySchema,
    responses: { 200: { description: 'What the string is.', body: lookupResponse } },
    handler: async ({ query: { q } }, { db }) => ({ status: 200, body: await lookup(db, q) }),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/customers/{customerId}/timeline',
    operationId: 'getCustomerTimeline',
    tag: TAG,
    summary: "A customer's orders, most recent first, each with its events and what went for them",
    description:
      'The profile (no device tokens), the devices by the app\'s deviceId, and the customer\'s orders by their latest event (newest first; ' +
      '`?limit=1..50`, default 10, and `?cursor=<nextCursor>`), each with its events and, under each, its notifications and receipts as in ' +
      'the order timeline. The order timeline adds the workflow run and its live state.',
    scope: 'read',
    params: customerPath,
    query: customerTimelineQuerySchema,
    responses: { 200: { description: "The customer's timeline.", body: customerTimelineResponse } },
    errors: { 404: 'Herald has no profile, event or notification for this customer.' },
    handler: async ({ params: { customerId }, query }, { db }) => {
      const timeline = await customerTimeline(db, customerId, query);
      if (!timeline) throw new HttpError(404, 'not_found', `no customer ${customerId}: no profile, event or notification`);
      return { status: 200, body: timeline };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/rejected-events',
    operationId: 'listRejectedEvents',
    tag: TAG,
    summary: 'Order events that failed validation: critical first, then newest',
    description:
      'What POST /v1/order-events refused (400), kept with every field error and the payload as it came. Those whose status is a critical ' +
      `one (${[...CRITICAL_STATUSES].join(', ')}) come first: a customer is waiting to hear. Cursor-paginated.`,
    scope: 'read',
    query: pageQuerySchema,
    responses: { 200: { description: 'A page of rejected events.', body: rejectedEventPageResponse } },
    handler: async ({ query: { limit, cursor } }, { db }) => {
      const after = cursor ? decodeRejectedCursor(cursor) : null;
      const rows = await db.rejectedEvent.findMany({
        where: after ? afterRejected(after) : {},
        orderBy: [{ critical: 'desc' }, { receivedAt: 'desc' }, { id: 'desc' }],
        take: limit + 1,
      });
      const items = rows.slice(0, limit);
      return { status: 200, body: { items: items.map(rejectedView), nextCursor: rows.length > limit ? encodeRejectedCursor(items[items.length - 1]!) : null } };
    },
  }),
];
