import { HttpError } from '../errors';
import { customerTimelineResponse, lookupResponse, orderTimelineResponse } from '../response-schemas';
import { defineRoute, type Route } from '../route';
import { customerPath, customerTimelineQuerySchema, lookupQuerySchema, orderPath } from '../schemas';
import { customerTimeline, lookup, orderTimeline, TIMELINE_EVENT_LIMIT } from '../timeline';

const TAG = 'Order lookup';

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
];
