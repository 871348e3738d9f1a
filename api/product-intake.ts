import type { Client } from '@temporalio/client';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { isRestock, productAlertWorkflowId } from '../domain';
import { Prisma, type Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { createOutboxRelay } from '../lib/outbox';
import type { productAlertWorkflow } from '../workflows/product-alert';
import { HttpError } from './errors';
import type { ProductEventInput } from './schemas';

export interface AcceptedProductEvent {
  eventId: string;
  workflowId: string | null;
  duplicate: boolean;
  restocked: boolean;
}

interface StoredProductEvent {
  eventId: string;
  sku: string;
  restocked: boolean;
  price: unknown;
  startedAt: Date | null;
}

/** An event alerts someone only when it is a restock or names a price. */
const alerts = (row: StoredProductEvent) => row.restocked || row.price !== null;

/**
 * Product events are stored first, with what they changed against the product's last known state (one
 * transaction per product, so two events of one product never both see the same old state); then the
 * event's alert workflow is started. One stored but not started is started by the relay.
 */
export function createProductIntake(options: { db: Db; temporal: Client; taskQueue: string; logger: Logger }) {
  const { db, temporal, taskQueue, logger } = options;

  async function start(row: StoredProductEvent, deadlineMs = 3000): Promise<void> {
    const workflowId = productAlertWorkflowId(row.sku, row.eventId);
    try {
      await temporal.withDeadline(Date.now() + deadlineMs, () =>
        temporal.workflow.start<typeof productAlertWorkflow>('productAlertWorkflow', {
          workflowId,
          taskQueue,
          args: [{ eventId: row.eventId }],
          // Never a second run for the same event, even after the first completed.
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          staticSummary: `Alerts for product ${row.sku} (event ${row.eventId})`,
        }),
      );
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    await db.$executeRaw`UPDATE "ProductEvent" SET "startedAt" = now() WHERE "eventId" = ${row.eventId}`;
  }

  async function store(input: ProductEventInput): Promise<{ row: StoredProductEvent; duplicate: boolean }> {
    return db.$transaction(async (tx) => {
      // Serialises the events of one product: each reads the state the previous one left.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`product:${input.sku}`}))`;
      const existing = await tx.productEvent.findUnique({ where: { eventId: input.eventId } });
      if (existing) {
        if (existing.sku !== input.sku) {
          throw new HttpError(409, 'event_id_conflict', `eventId ${input.eventId} was already used for product ${existing.sku}`, [
            { field: 'eventId', reason: 'already used for a different product' },
          ]);
        }
        return { row: existing, duplicate: true };
      }
      const product = await tx.product.findUnique({ where: { sku: input.sku } });
      const restocked = isRestock(product?.available ?? null, input.available);
      const row = await tx.productEvent.create({
        data: {
          eventId: input.eventId,
          sku: input.sku,
          name: input.name,
          url: input.url ?? null,
          imageUrl: input.imageUrl ?? null,
          available: input.available ?? null,
          price: input.price ?? null,
          currency: input.currency ?? null,
          restocked,
          previousPrice: product?.price ?? null,
        },
      });
      const state = {
        name: input.name,
        ...(input.url !== undefined ? { url: input.url } : {}),
        ...(input.imageUrl !== undefined ? { imageUrl: input.imageUrl } : {}),
        ...(input.available !== undefined ? { available: input.available } : {}),
        ...(input.price !== undefined ? { price: input.price, currency: input.currency ?? product?.currency ?? null } : {}),
      };
      await tx.product.upsert({ where: { sku: input.sku }, create: { sku: input.sku, ...state }, update: state });
      return { row, duplicate: false };
    });
  }

  async function accept(input: ProductEventInput): Promise<AcceptedProductEvent> {
    const { row, duplicate } = await store(input);
    const workflowId = alerts(row) ? productAlertWorkflowId(row.sku, row.eventId) : null;
    if (workflowId && !row.startedAt) {
      try {
        await start(row);
      } catch (err) {
        logger.warn({ err, eventId: row.eventId, sku: row.sku, workflowId }, 'alert workflow not started; the relay will retry');
      }
    }
    return { eventId: row.eventId, workflowId, duplicate, restocked: row.restocked };
  }

  /** Starts the alert workflows of stored events that never got one (Temporal was down, the API died in between, or the start failed). */
  const outbox = createOutboxRelay<StoredProductEvent>({
    name: 'product_events',
    db,
    temporal,
    logger,
    table: 'ProductEvent',
    // Each event has a workflow of its own: no order to keep between them.
    pending: (e) => Prisma.sql`${Prisma.raw(e)}."startedAt" IS NULL AND (${Prisma.raw(e)}.restocked OR ${Prisma.raw(e)}.price IS NOT NULL)`,
    send: (row) => start(row),
    words: { done: 'started alert workflows of stored product events' },
  });
  const { relayPending, startRelay } = outbox;

  return { accept, relayPending, startRelay };
}

export type ProductIntake = ReturnType<typeof createProductIntake>;
