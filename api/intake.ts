import type { Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { orderWorkflowId, type OrderEvent } from '../domain';
import type { Db } from '../lib/db';
import { Prisma } from '../lib/db';
import type { Logger } from '../lib/logger';
import { createOutboxRelay, repeatRelay } from '../lib/outbox';
import type { orderNotificationWorkflow } from '../workflows/order-notification';
import { orderEventSignal, searchAttributes } from '../workflows/definitions';
import { createCartIntake } from './cart-intake';
import { HttpError } from './errors';
import type { OrderEventInput } from './schemas';

export interface IntakeOptions {
  db: Db;
  temporal: Client;
  taskQueue: string;
  logger: Logger;
}

export interface AcceptedEvent {
  eventId: string;
  workflowId: string;
  duplicate: boolean;
  /** False when Temporal could not be reached, or an earlier event of the order is still owed; the relay signals the stored event later. */
  signalled: boolean;
}

type StoredEvent = Prisma.OrderEventGetPayload<object>;

/**
 * Intake stores every accepted event first (the outbox), then signals its order's workflow.
 * An event stored but not yet signalled is never lost: the relay picks it up.
 */
export function createIntake(options: IntakeOptions) {
  const { db, temporal, taskQueue, logger } = options;
  // An order may end the customer's open carts: each stored event owes them a signal (cartSignalDue) until it is sent.
  const carts = createCartIntake(options);

  async function signal(row: StoredEvent, deadlineMs = 3000): Promise<void> {
    const event: OrderEvent = {
      eventId: row.eventId,
      orderId: row.orderId,
      customerId: row.customerId,
      status: row.status as OrderEvent['status'],
      occurredAt: row.occurredAt.toISOString(),
      source: row.source,
      data: (row.data ?? {}) as Record<string, unknown>,
      receivedAt: row.receivedAt.toISOString(),
    };
    // Bounded: the caller is answered promptly even when Temporal is away; the relay retries later.
    await temporal.withDeadline(Date.now() + deadlineMs, () => temporal.workflow.signalWithStart<typeof orderNotificationWorkflow, [OrderEvent]>('orderNotificationWorkflow', {
      workflowId: orderWorkflowId(event.orderId),
      taskQueue,
      // The order's identity only: the run loads its settings from the worker, so the Web UI's input stays readable.
      args: [{ orderId: event.orderId, customerId: event.customerId }],
      // What the Web UI shows for the run, next to its search attributes.
      staticSummary: `Order ${event.orderId} for customer ${event.customerId}`,
      staticDetails: `Notifies customer ${event.customerId} of every status of order ${event.orderId}, on the channels of its plan, with backups.`,
      signal: orderEventSignal,
      signalArgs: [event],
      typedSearchAttributes: new TypedSearchAttributes([
        { key: searchAttributes.orderId, value: event.orderId },
        { key: searchAttributes.customerId, value: event.customerId },
        { key: searchAttributes.orderStatus, value: event.status },
        { key: searchAttributes.notificationState, value: 'waiting-for-events' },
      ]),
    }));
    await db.$executeRaw`UPDATE "OrderEvent" SET "signalledAt" = now() WHERE "eventId" = ${row.eventId}`;
  }

  async function accept(input: OrderEventInput): Promise<AcceptedEvent> {
    const workflowId = orderWorkflowId(input.orderId);
    // Raw SQL: this runs for every event, and a plain statement costs a fraction of Prisma's compiled query.
    // An order belongs to the customer of its first event: one whose customer differs is refused and nothing is stored.
    // The insert waits for the order's lock, so two first events for one order with different customers cannot both win.
    const [created, owner, behind] = await db.$transaction([
      db.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${input.orderId}, 0))`,
      db.$queryRaw<{ customerId: string }[]>`
        SELECT "customerId" FROM "Order" WHERE "orderId" = ${input.orderId} AND "customerId" <> ${input.customerId}
        UNION ALL
        SELECT "customerId" FROM "OrderEvent" WHERE "orderId" = ${input.orderId} AND "customerId" <> ${input.customerId} AND "eventId" <> ${input.eventId}
        LIMIT 1`,
      db.$queryRaw<StoredEvent[]>`
        INSERT INTO "OrderEvent" ("eventId", "orderId", "customerId", status, "occurredAt", source, data, "receivedAt", "cartSignalDue")
        SELECT ${input.eventId}, ${input.orderId}, ${input.customerId}, ${input.status},
          ${input.occurredAt}::timestamptz AT TIME ZONE 'UTC', ${input.source}, ${JSON.stringify(input.data)}::jsonb, now(), true
        WHERE NOT EXISTS (SELECT 1 FROM "Order" WHERE "orderId" = ${input.orderId} AND "customerId" <> ${input.customerId})
          AND NOT EXISTS (SELECT 1 FROM "OrderEvent" WHERE "orderId" = ${input.orderId} AND "customerId" <> ${input.customerId} AND "eventId" <> ${input.eventId})
        ON CONFLICT ("eventId") DO NOTHING
        RETURNING *`,
      // An earlier event of the order not signalled yet (the relay is retrying it, or Temporal was away when it came): this
      // one waits behind it, so the workflow gets them in order. Signalled first, it would make those earlier ones late.
      db.$queryRaw<{ waiting: boolean }[]>`
        SELECT EXISTS (SELECT 1 FROM "OrderEvent" WHERE "orderId" = ${input.orderId} AND "signalledAt" IS NULL AND "eventId" <> ${input.eventId}) AS waiting`,
    ]).then(([, owners, rows, waiting]) => [rows, owners[0], waiting[0]?.waiting === true] as const);
    if (owner) {
      throw new HttpError(409, 'order_customer_mismatch', `order ${input.orderId} belongs to another customer; an event cannot change an order's customer`, [
        { field: 'customerId', reason: "differs from the order's customer" },
      ]);
    }
    let row = created[0];
    const duplicate = !row;
    if (!row) {
      row = (await db.orderEvent.findUnique({ where: { eventId: input.eventId } }))!;
      if (row.orderId !== input.orderId || row.status !== input.status || row.customerId !== input.customerId) {
        throw new HttpError(409, 'event_id_conflict', `eventId ${input.eventId} was already used for a different event (order ${row.orderId}, status ${row.status})`, [
          { field: 'eventId', reason: 'already used for a different event' },
        ]);
      }
      if (row.signalledAt) return { eventId: row.eventId, workflowId, duplicate, signalled: true };
    }
    let signalled = !behind;
    if (signalled) {
      try {
        await signal(row);
      } catch (err) {
        logger.warn({ err, eventId: row.eventId, orderId: row.orderId, workflowId }, 'signal failed; the relay will retry');
        signalled = false;
      }
    }
    if (row.cartSignalDue) await carts.afterOrderEvent(row);
    return { eventId: row.eventId, workflowId, duplicate, signalled };
  }

  // Several API instances may relay the same row; the workflow drops a signal for an event it already has.
  const outbox = createOutboxRelay<StoredEvent>({
    name: 'order_events',
    db,
    temporal,
    logger,
    table: 'OrderEvent',
    pending: (e) => Prisma.sql`${Prisma.raw(e)}."signalledAt" IS NULL`,
    sequence: { name: 'orderId' },
    send: (row) => signal(row),
    words: { done: 'relayed stored events to their workflows' },
  });

  /** Signals stored events that were never signalled (Temporal was down, the API died in between, or the signal failed). */
  async function relayPending(olderThanMs = 2000, batch = 100): Promise<number> {
    const relayed = await outbox.relayPending(olderThanMs, batch);
    return relayed + (await carts.relayPending(olderThanMs, batch));
  }

  function startRelay(intervalMs = 2000): () => Promise<void> {
    return repeatRelay(relayPending, intervalMs, logger);
  }

  return { accept, relayPending, startRelay, carts };
}

export type Intake = ReturnType<typeof createIntake>;
