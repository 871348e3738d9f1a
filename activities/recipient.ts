import { advance, type LifecyclePosition, type OrderStatus } from '../domain';
import type { Db } from '../lib/db';

const NOWHERE: LifecyclePosition = { stage: null, status: null, occurredAt: null };

export function createRecipientActivities(db: Db) {
  return {
    /**
     * Where previous runs of this order's workflow left it, so a new run still spots late events. With the run's id,
     * never what this run itself did: when a worker dies during the run's first workflow task, its local activities
     * have already moved the order on (settleEvent) though the task never completed, and the task's next attempt
     * replays from the start and loads the position again. Read from the order row, that would make the run's own
     * first event look old (out_of_order) and never sent; so the position is then folded from the events earlier
     * runs announced, in the order they did.
     */
    async loadOrderPosition(orderId: string, runId?: string): Promise<LifecyclePosition> {
      const order = await db.order.findUnique({ where: { orderId } });
      const fromRow: LifecyclePosition = order
        ? { stage: (order.stage as OrderStatus | null) ?? null, status: (order.status as OrderStatus | null) ?? null, occurredAt: order.occurredAt?.toISOString() ?? null }
        : NOWHERE;
      if (!runId || !order || !(await db.orderEvent.findFirst({ where: { orderId, settledByRun: runId }, select: { eventId: true } }))) return fromRow;
      const earlier = await db.orderEvent.findMany({
        where: { orderId, disposition: 'announced', OR: [{ settledByRun: null }, { settledByRun: { not: runId } }] },
        orderBy: [{ processedAt: 'asc' }, { eventId: 'asc' }],
        select: { status: true, occurredAt: true },
      });
      return earlier.reduce((position, event) => advance(position, event.status as OrderStatus, event.occurredAt.toISOString()), NOWHERE);
    },
  };
}
