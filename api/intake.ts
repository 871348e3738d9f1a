import type { Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { orderWorkflowId, type OrderEvent } from '../domain';
import { DEFAULT_SIGNAL_POOL } from '../lib/config';
import type { Db } from '../lib/db';
import { Prisma } from '../lib/db';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import { createOutboxRelay, repeatRelay } from '../lib/outbox';
import { errorReason } from '../lib/short-reason';
import type { orderNotificationWorkflow } from '../workflows/order-notification';
import { orderEventSignal, searchAttributes } from '../workflows/definitions';
import { createCartIntake } from './cart-intake';
import { HttpError } from './errors';
import type { OrderEventInput } from './schemas';
import { createSignalPool, DEFER_REASONS } from './signal-pool';

export interface IntakeOptions {
  db: Db;
  temporal: Client;
  taskQueue: string;
  logger: Logger;
  /** The signalling pool's bounds (HERALD_SIGNAL_CONCURRENCY, HERALD_SIGNAL_QUEUE_MAX); DEFAULT_SIGNAL_POOL unless given. */
  signalPool?: { concurrency: number; queueMax: number };
}

export interface AcceptedEvent {
  eventId: string;
  workflowId: string;
  duplicate: boolean;
  /**
   * True only when the workflow had the event already (a duplicate of one signalled before). Otherwise false: the event
   * is stored and owed, and the signalling pool or, when the pool could not take it, the relay signals it shortly.
   */
  signalled: boolean;
}

/** Intake's backlog now: stored events not yet signalled (database-wide), and this process's signalling pool. */
export interface IntakeBacklog {
  unsignalled: number;
  oldestUnsignalledSeconds: number | null;
  signalPool: { queued: number; inFlight: number; concurrency: number; queueMax: number };
}

/** The earlier owed events of an order looked at: one with more than this many is behind the relay anyway. */
const EARLIER_LIMIT = 100;

type StoredEvent = Prisma.OrderEventGetPayload<object>;

/**
 * Intake stores every accepted event first (the outbox) and answers; the signalling pool then signals its order's
 * workflow (and tells the customer's open carts). An event stored but not yet signalled is never lost: the relay
 * picks up what the pool could not take or failed to signal.
 */
export function createIntake(options: IntakeOptions) {
  const { db, temporal, taskQueue, logger } = options;
  // The cart relay leaves the orders the pool holds to it (it tells their carts right after their signal).
  const carts = createCartIntake({ ...options, inHand: (eventId) => pool.holds(eventId) });

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

  /** The pool's work for one event: its order's signal, then its carts (whose failures the cart relay retries on its own). */
  async function deliver(row: StoredEvent): Promise<void> {
    let failure: unknown = null;
    try {
      await signal(row);
    } catch (err) {
      failure = err ?? new Error('signal failed');
    }
    if (row.cartSignalDue) await carts.afterOrderEvent(row);
    if (failure !== null) throw failure;
  }

  const bounds = options.signalPool ?? DEFAULT_SIGNAL_POOL;
  // Every series from the start, at 0: a scrape before the first event sees them, and none appears later.
  for (const state of ['queued', 'in_flight']) metrics.intakeSignalPool.set({ state }, 0);
  for (const reason of DEFER_REASONS) metrics.intakeSignalsDeferred.inc({ reason }, 0);
  const pool = createSignalPool<StoredEvent>({
    ...bounds,
    keyOf: (row) => row.orderId,
    idOf: (row) => row.eventId,
    run: deliver,
    healthy: async () => {
      try {
        await temporal.withDeadline(Date.now() + 2000, () => temporal.workflowService.getSystemInfo({}));
        return true;
      } catch {
        return false;
      }
    },
    failed: (row, err, dropped) =>
      logger.warn({ eventId: row.eventId, orderId: row.orderId, reason: errorReason(err), leftToRelay: dropped }, 'signal failed; the relay will retry it and the later events of its order'),
    observe: ({ queued, inFlight }) => {
      metrics.intakeSignalPool.set({ state: 'queued' }, queued);
      metrics.intakeSignalPool.set({ state: 'in_flight' }, inFlight);
    },
    deferred: (reason, count) => metrics.intakeSignalsDeferred.inc({ reason }, count),
  });

  async function accept(input: OrderEventInput): Promise<AcceptedEvent> {
    const workflowId = orderWorkflowId(input.orderId);
    // Raw SQL: this runs for every event, and a plain statement costs a fraction of Prisma's compiled query.
    // An order belongs to the customer of its first event: one whose customer differs is refused and nothing is stored.
    // The insert waits for the order's lock, so two first events for one order with different customers cannot both win.
    const [created, owner, earlier] = await db.$transaction([
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
      // The earlier events of the order not signalled yet (in the pool, or the relay's: it is retrying one, or Temporal was
      // away when it came): this one waits behind them, so the workflow gets them in order.
      db.$queryRaw<{ eventId: string }[]>`
        SELECT "eventId" FROM "OrderEvent" WHERE "orderId" = ${input.orderId} AND "signalledAt" IS NULL AND "eventId" <> ${input.eventId} LIMIT ${EARLIER_LIMIT + 1}`,
    ]).then(([, owners, rows, owed]) => [rows, owners[0], owed.map((r) => r.eventId)] as const);
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
    // Behind the pool's own events of the order it queues after them; behind the relay's (or with the pool full) it is the relay's too.
    if (earlier.length <= EARLIER_LIMIT) pool.offer(row, earlier);
    else metrics.intakeSignalsDeferred.inc({ reason: 'behind' });
    return { eventId: row.eventId, workflowId, duplicate, signalled: false };
  }

  async function backlog(): Promise<IntakeBacklog> {
    const [owed] = await db.$queryRaw<Array<{ unsignalled: number; oldest: Date | null }>>`
      SELECT count(*)::int AS unsignalled, min("receivedAt") AS oldest FROM "OrderEvent" WHERE "signalledAt" IS NULL`;
    return {
      unsignalled: owed?.unsignalled ?? 0,
      oldestUnsignalledSeconds: owed?.oldest ? Math.max(0, Math.round((Date.now() - owed.oldest.getTime()) / 100) / 10) : null,
      signalPool: pool.state(),
    };
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
    inHand: { key: (eventId) => pool.holds(eventId), sequence: (orderId) => pool.holdsKey(orderId) },
    observed: ({ pending }) => metrics.intakeBacklog.set(pending),
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

  /** Stops taking events into the pool (the relay of any instance signals what it held) and waits for the signals under way. */
  const close = () => pool.close();

  return { accept, backlog, relayPending, startRelay, close, idle: () => pool.idle(), carts };
}

export type Intake = ReturnType<typeof createIntake>;
