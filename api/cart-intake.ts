// Cart intake: every accepted cart event is stored first (the outbox), then its cart's workflow is
// signalled (signal-with-start). An order event owes the customer's open carts a signal too; both are
// relayed again until Temporal has taken them, each row on its own (lib/outbox.ts): a cart whose run keeps
// refusing holds up neither other carts nor other orders.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { cartWorkflowId, type CartEvent, type CartEventType, type CartOrder } from '../domain';
import { Prisma, type Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { createOutboxRelay } from '../lib/outbox';
import { cartEventColumns, cartEventWaiting, markCartEventSignalled, openCartsFor, storeCartEvent, type StoredCartEvent } from '../store/carts';
import type { cartRemindersWorkflow } from '../workflows/cart-reminders';
import { cartEventSignal, cartOrderSignal } from '../workflows/definitions';
import type { CartEventInput } from './cart-schemas';
import { HttpError } from './errors';

export interface CartIntakeOptions {
  db: Db;
  temporal: Client;
  taskQueue: string;
  logger: Logger;
  /** Order events whose carts this process is telling right now (intake's signalling pool): the relay leaves them to it. */
  inHand?: (eventId: string) => boolean;
}

export interface AcceptedCartEvent {
  eventId: string;
  workflowId: string;
  duplicate: boolean;
  signalled: boolean;
}

/** The order event fields a cart needs: stored as OrderEvent rows. */
export interface StoredOrderForCarts {
  eventId: string;
  orderId: string;
  customerId: string;
  occurredAt: Date;
  data: unknown;
}

const SIGNAL_DEADLINE_MS = 3000;

export function createCartIntake({ db, temporal, taskQueue, logger, inHand }: CartIntakeOptions) {
  async function signal(row: StoredCartEvent): Promise<void> {
    const event: CartEvent = { eventId: row.eventId, cartId: row.cartId, customerId: row.customerId, type: row.type as CartEventType, occurredAt: row.occurredAt.toISOString() };
    await temporal.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () =>
      temporal.workflow.signalWithStart<typeof cartRemindersWorkflow, [CartEvent]>('cartRemindersWorkflow', {
        workflowId: cartWorkflowId(row.cartId),
        taskQueue,
        args: [{ cartId: row.cartId, customerId: row.customerId }],
        staticSummary: `Cart ${row.cartId} of customer ${row.customerId}`,
        staticDetails: `Reminds customer ${row.customerId} of cart ${row.cartId} when it is left without an order (HERALD_CART_REMINDERS).`,
        signal: cartEventSignal,
        signalArgs: [event],
      }),
    );
    await markCartEventSignalled(db, row.eventId);
  }

  async function accept(input: CartEventInput): Promise<AcceptedCartEvent> {
    const workflowId = cartWorkflowId(input.cartId);
    const { row, created } = await storeCartEvent(db, {
      eventId: input.eventId,
      cartId: input.cartId,
      customerId: input.customerId,
      type: input.type,
      occurredAt: input.occurredAt,
      items: input.items,
      currency: input.currency,
      total: input.total,
      recoveryUrl: input.recoveryUrl ?? null,
    });
    if (!created && (row.cartId !== input.cartId || row.customerId !== input.customerId || row.type !== input.type)) {
      throw new HttpError(409, 'event_id_conflict', `eventId ${input.eventId} was already used for a different cart event (cart ${row.cartId}, type ${row.type})`, [
        { field: 'eventId', reason: 'already used for a different event' },
      ]);
    }
    if (!created && row.signalledAt) return { eventId: row.eventId, workflowId, duplicate: true, signalled: true };
    // An earlier event of the cart not signalled yet: this one waits behind it (an update must not overtake a checkout).
    if (await cartEventWaiting(db, row.cartId, row.eventId)) return { eventId: row.eventId, workflowId, duplicate: !created, signalled: false };
    try {
      await signal(row);
      return { eventId: row.eventId, workflowId, duplicate: !created, signalled: true };
    } catch (err) {
      logger.warn({ err, eventId: row.eventId, cartId: row.cartId, workflowId }, 'cart signal failed; the relay will retry');
      return { eventId: row.eventId, workflowId, duplicate: !created, signalled: false };
    }
  }

  /**
   * Tells the open carts an order may end (the cart it names, or every open cart of its customer), then
   * clears the order event's debt. A cart whose run is gone has nothing left to end. Every cart is tried;
   * when one fails the debt stays (those told already drop the order a second time) and the failure is thrown.
   */
  async function signalCartsOf(order: StoredOrderForCarts): Promise<number> {
    const data = (order.data ?? {}) as Record<string, unknown>;
    const cartId = typeof data.cartId === 'string' && data.cartId ? data.cartId : null;
    const message: CartOrder = { eventId: order.eventId, orderId: order.orderId, customerId: order.customerId, occurredAt: order.occurredAt.toISOString(), cartId };
    let signalled = 0;
    const failed: Array<{ cartId: string; err: unknown }> = [];
    for (const id of await openCartsFor(db, order.customerId, cartId)) {
      try {
        await temporal.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () => temporal.workflow.getHandle(cartWorkflowId(id)).signal(cartOrderSignal, message));
        signalled++;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) failed.push({ cartId: id, err });
      }
    }
    if (failed.length === 1) throw failed[0]!.err;
    if (failed.length) throw new Error(`${failed.length} carts did not take the order (${failed.map((f) => f.cartId).join(', ')})`, { cause: failed[0]!.err });
    await db.$executeRaw`UPDATE "OrderEvent" SET "cartSignalDue" = false WHERE "eventId" = ${order.eventId}`;
    return signalled;
  }

  /** After an order event is stored (intake's signalling pool calls it, off the answer's path): its carts are told now, or by the relay when Temporal is away or a cart refuses. */
  async function afterOrderEvent(order: StoredOrderForCarts): Promise<void> {
    try {
      await signalCartsOf(order);
    } catch (err) {
      logger.warn({ err, eventId: order.eventId, customerId: order.customerId }, 'cart signal for an order failed; the relay will retry');
    }
  }

  // Several API instances may relay the same row: a cart's run drops an event it already has, and an order it was told of.
  const cartEvents = createOutboxRelay<StoredCartEvent>({
    name: 'cart_events',
    db,
    temporal,
    logger,
    table: 'CartEvent',
    pending: (e) => Prisma.sql`${Prisma.raw(e)}."signalledAt" IS NULL`,
    sequence: { name: 'cartId' },
    select: cartEventColumns,
    send: (row) => signal(row),
    words: { done: 'relayed cart events to their carts' },
  });
  // Each order's debt on its own: a cart takes orders in any order (each is weighed against the cart's last update),
  // and the order relay's own bookkeeping on the row (relayAttempts, ...) is not touched.
  const cartOrders = createOutboxRelay<StoredOrderForCarts>({
    name: 'cart_orders',
    db,
    temporal,
    logger,
    table: 'OrderEvent',
    bookkeeping: 'cartRelay',
    pending: (e) => Prisma.sql`${Prisma.raw(e)}."cartSignalDue"`,
    select: (e) => Prisma.raw(`${e}."eventId", ${e}."orderId", ${e}."customerId", ${e}."occurredAt", ${e}.data`),
    send: async (order) => {
      await signalCartsOf(order);
    },
    ...(inHand ? { inHand: { key: inHand } } : {}),
    words: { done: "relayed orders to their customers' carts" },
  });

  /** Signals what is still owed: cart events never signalled, and order events their carts never heard of. Answers the rows relayed. */
  async function relayPending(olderThanMs = 2000, batch = 100): Promise<number> {
    return (await cartEvents.relayPending(olderThanMs, batch)) + (await cartOrders.relayPending(olderThanMs, batch));
  }

  return { accept, afterOrderEvent, relayPending };
}

export type CartIntake = ReturnType<typeof createCartIntake>;
