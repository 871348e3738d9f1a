import { cartReminderId, cartWorkflowId, type CartItem, type CartEventType, type Channel } from '../../domain';
import { cartStateQuery, type CartState } from '../../workflows/definitions';
import { acceptedCartEventResponse, cartEventSchema, cartPath, cartResponse } from '../cart-schemas';
import { DATABASE_UNAVAILABLE_DOC, HttpError } from '../errors';
import { defineRoute, type Route } from '../route';

/** How long the cart view waits for the workflow's answer (its pending reminder) before showing the database alone. */
const QUERY_DEADLINE_MS = 2000;

type ReminderView = {
  notificationId: string;
  step: number;
  channel: Channel;
  cartEventId: string | null;
  state: 'pending' | 'held' | 'sent' | 'delivered' | 'opened' | 'clicked' | 'failed' | 'suppressed';
  reason: string | null;
  dueAt: string | null;
  heldUntil: string | null;
  createdAt: string | null;
  sentAt: string | null;
};

const stepOf = (notificationId: string): number => Number(/\/cart-reminder-(\d+)$/.exec(notificationId)?.[1] ?? 0);

/** POST /v1/cart-events (store, then signal the cart's workflow) and GET /v1/carts/:cartId. */
export const cartRoutes: Route[] = [
  defineRoute({
    method: 'post',
    path: '/v1/cart-events',
    operationId: 'postCartEvent',
    tag: 'Carts',
    summary: 'Take a cart event',
    description:
      "Stores the event and signals the cart's workflow (`cart:<cartId>`, signal-with-start). `updated` starts the reminder sequence " +
      '(`HERALD_CART_REMINDERS`) over; `checked_out` and `emptied` end it, as does an order of the customer placed after the update, or ' +
      'one whose `data.cartId` names the cart. The same eventId again is a duplicate (`duplicate: true`); the same eventId for another cart, ' +
      'customer or type is a 409. An invalid event is a 400 naming every bad field.',
    scope: 'ingest',
    budget: 'intake',
    body: cartEventSchema,
    responses: { 202: { description: 'Accepted (stored; its workflow is signalled).', body: acceptedCartEventResponse } },
    errors: { 409: '`event_id_conflict`: this eventId was accepted before for a different cart, customer or type.', ...DATABASE_UNAVAILABLE_DOC.errors },
    errorHeaders: DATABASE_UNAVAILABLE_DOC.errorHeaders,
    handler: async ({ body }, { intake }) => {
      const accepted = await intake.carts.accept(body);
      return { status: 202, body: { eventId: accepted.eventId, workflowId: accepted.workflowId, duplicate: accepted.duplicate } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/carts/{cartId}',
    operationId: 'getCart',
    tag: 'Carts',
    summary: 'A cart, its events and its reminders',
    description:
      'The cart as its last event left it, its events (newest last), and its reminders: each one sent, suppressed (with the reason) or ' +
      'failed, one held for quiet hours, and the next one still due (from the workflow). `converted` is true when an order followed a ' +
      'reminder that had gone.',
    scope: 'read',
    params: cartPath,
    responses: { 200: { description: 'The cart.', body: cartResponse } },
    errors: { 404: '`not_found`: no event was ever accepted for this cart.' },
    handler: async ({ params: { cartId } }, { db, temporal }) => {
      const cart = await db.cart.findUnique({ where: { cartId } });
      if (!cart) throw new HttpError(404, 'not_found', `no cart ${cartId}`);
      const [events, notifications] = await Promise.all([
        db.cartEvent.findMany({ where: { cartId }, orderBy: { receivedAt: 'asc' }, take: 200 }),
        db.notification.findMany({ where: { cartId }, orderBy: { createdAt: 'asc' }, take: 200 }),
      ]);
      let state: CartState | null = null;
      try {
        state = await temporal.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => temporal.workflow.getHandle(cartWorkflowId(cartId)).query(cartStateQuery));
      } catch {
        // The workflow is gone or Temporal is away: the database still says what went.
      }
      const iso = (d: Date | null) => (d ? d.toISOString() : null);
      const reminders: ReminderView[] = notifications.map((n) => ({
        notificationId: n.id,
        step: stepOf(n.id),
        channel: n.channel,
        cartEventId: n.cartEventId,
        state: n.status === 'queued' ? (n.heldUntil && n.heldUntil.getTime() > Date.now() ? 'held' : 'pending') : n.status,
        reason: n.suppressionReason ?? n.failureReason,
        dueAt: null,
        heldUntil: iso(n.heldUntil),
        createdAt: iso(n.createdAt),
        sentAt: iso(n.sentAt),
      }));
      const next = state?.next;
      if (next && state?.lastUpdate) {
        const id = cartReminderId(state.lastUpdate.eventId, next.step);
        const known = reminders.find((r) => r.notificationId === id);
        if (known) known.dueAt = next.dueAt;
        else reminders.push({ notificationId: id, step: next.step, channel: next.channel, cartEventId: state.lastUpdate.eventId, state: 'pending', reason: null, dueAt: next.dueAt, heldUntil: null, createdAt: null, sentAt: null });
      }
      const items = cart.items as unknown as CartItem[];
      return {
        status: 200,
        body: {
          cartId: cart.cartId,
          customerId: cart.customerId,
          status: cart.status,
          items: items.map((i) => ({ sku: i.sku, name: i.name, quantity: i.quantity, unitPrice: String(i.unitPrice), ...(i.imageUrl ? { imageUrl: i.imageUrl } : {}), ...(i.url ? { url: i.url } : {}) })),
          currency: cart.currency,
          total: cart.total.toString(),
          recoveryUrl: cart.recoveryUrl,
          lastUpdatedAt: cart.lastUpdatedAt.toISOString(),
          closedAt: iso(cart.closedAt),
          converted: cart.convertedAt !== null,
          convertedAt: iso(cart.convertedAt),
          convertedOrderId: cart.convertedOrderId,
          events: events.map((e) => ({
            eventId: e.eventId,
            type: e.type as CartEventType,
            occurredAt: e.occurredAt.toISOString(),
            receivedAt: e.receivedAt.toISOString(),
            total: e.total.toString(),
            itemCount: (e.items as unknown as CartItem[]).reduce((sum, i) => sum + i.quantity, 0),
          })),
          reminders,
          workflowId: cartWorkflowId(cartId),
        },
      };
    },
  }),
];
