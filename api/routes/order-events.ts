import { metrics, sourceLabel } from '../../lib/metrics';
import { DATABASE_UNAVAILABLE_DOC } from '../errors';
import { acceptedEventResponse, orderEventErrorResponse } from '../response-schemas';
import { defineRoute, type Route } from '../route';
import { orderEventSchema } from '../schemas';

/** POST /v1/order-events: validate, keep, signal. Invalid payloads are kept as rejected events. */
export const orderEventRoutes: Route[] = [
  defineRoute({
    method: 'post',
    path: '/v1/order-events',
    operationId: 'postOrderEvent',
    tag: 'Order events',
    summary: 'Take an order event',
    description:
      "Stores the event and answers; the order's workflow (`order:<orderId>`, signal-with-start) is signalled right after, in the background " +
      '(in order per order; the backlog is `intake` on `GET /v1/stats`). The same eventId again is a duplicate ' +
      '(`duplicate: true`, nothing sent again); the same eventId with a different order, customer or status is a 409. An invalid event is ' +
      'a 400 naming every bad field, and its raw payload is kept as a rejected event (`rejectedEventId`). An order keeps the customer of its ' +
      'first event: an event for it naming another customer is a 409. A body nested deeper than 32 levels is a 400 naming the field.',
    scope: 'ingest',
    budget: 'intake',
    body: orderEventSchema,
    responses: { 202: { description: 'Accepted: stored, so never lost; its workflow is signalled shortly (by the signalling pool, else the relay).', body: acceptedEventResponse } },
    errorHeaders: DATABASE_UNAVAILABLE_DOC.errorHeaders,
    errors: {
      ...DATABASE_UNAVAILABLE_DOC.errors,
      409:
        '`event_id_conflict`: this eventId was accepted before for a different order, customer or status. `order_customer_mismatch`: ' +
        "the order belongs to another customer (its first event's); nothing is stored.",
    },
    invalidBody: {
      body: orderEventErrorResponse,
      async answer(error, req, { pipeline }) {
        // No JSON body at all (another content type) is kept as JSON null.
        const rejected = await pipeline.reject({ sourceId: null, payload: req.body, code: error.code, message: error.message, fields: error.fields ?? [] });
        return { error: { code: error.code, message: error.message, fields: error.fields }, rejectedEventId: rejected.rejectedEventId };
      },
    },
    handler: async ({ body: event }, { intake }) => {
      const accepted = await intake.accept(event);
      metrics.eventsAccepted.inc({ source: sourceLabel(event.source), status: event.status, duplicate: String(accepted.duplicate) });
      return { status: 202, body: { eventId: accepted.eventId, workflowId: accepted.workflowId, duplicate: accepted.duplicate } };
    },
  }),
];
