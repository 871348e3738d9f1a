import type { LifecyclePosition, OrderStatus } from '../domain';
import type { Db } from '../lib/db';

export function createRecipientActivities(db: Db) {
  return {
    /** Where a previous run of this order's workflow left it, so a new run still spots late events. */
    async loadOrderPosition(orderId: string): Promise<LifecyclePosition> {
      const order = await db.order.findUnique({ where: { orderId } });
      return {
        stage: (order?.stage as OrderStatus | null) ?? null,
        status: (order?.status as OrderStatus | null) ?? null,
        occurredAt: order?.occurredAt?.toISOString() ?? null,
      };
    },
  };
}
