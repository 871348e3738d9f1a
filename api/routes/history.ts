import { Router } from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { orderWorkflowId } from '../../domain';
import type { Db } from '../../lib/db';
import { Prisma } from '../../lib/db';
import { requireScope } from '../auth';
import { decodeTimeCursor, encodeTimeCursor, idParam, olderThan } from '../paging';
import { HttpError, validationError } from '../errors';
import { notificationView, withAttempts } from '../notification-view';
import { orderStateView } from '../response-schemas';
import { historyQuerySchema, type HistoryQuery } from '../schemas';
import { orderStateQuery } from '../../workflows/definitions';

/** The history filters as a condition: createdAt in [from, to), and the other fields equal (status: any of the list). */
function filterWhere(f: Omit<HistoryQuery, 'limit' | 'cursor'>): Prisma.NotificationWhereInput {
  return {
    ...(f.channel ? { channel: f.channel } : {}),
    ...(f.status ? { status: { in: f.status } } : {}),
    ...(f.template ? { type: f.template } : {}),
    ...(f.from || f.to ? { createdAt: { ...(f.from ? { gte: new Date(f.from) } : {}), ...(f.to ? { lt: new Date(f.to) } : {}) } } : {}),
  };
}

/** Delivery history (newest first, cursor-paginated) and the live state of an order's workflow. */
export function historyRoutes(db: Db, temporal: Client): Router {
  const router = Router();

  async function page(where: Prisma.NotificationWhereInput, query: unknown) {
    const parsed = historyQuerySchema.safeParse(query);
    if (!parsed.success) throw validationError(parsed.error, 'query');
    const { limit, cursor, ...filters } = parsed.data;
    const after = cursor ? decodeTimeCursor(cursor) : null;
    const rows = await db.notification.findMany({
      where: { AND: [where, filterWhere(filters), ...(after ? [olderThan(after)] : [])] },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
      include: withAttempts,
    });
    const items = rows.slice(0, limit);
    return { items: items.map(notificationView), nextCursor: rows.length > limit ? encodeTimeCursor(items[items.length - 1]!) : null };
  }

  router.get('/orders/:orderId/notifications', requireScope('read'), async (req, res) => {
    res.json(await page({ orderId: idParam('orderId', req.params.orderId) }, req.query));
  });

  router.get('/customers/:customerId/notifications', requireScope('read'), async (req, res) => {
    res.json(await page({ customerId: idParam('customerId', req.params.customerId) }, req.query));
  });

  router.get('/orders/:orderId/state', requireScope('read'), async (req, res) => {
    const orderId = idParam('orderId', req.params.orderId);
    const handle = temporal.workflow.getHandle(orderWorkflowId(orderId));
    try {
      const [state, description] = await Promise.all([handle.query(orderStateQuery), handle.describe()]);
      res.json(orderStateView({ workflowId: handle.workflowId, runId: description.runId, runStatus: description.status.name, ...state }));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) throw new HttpError(404, 'not_found', `no workflow for order ${orderId}`);
      // The run exists but cannot answer (no worker polling, or its workflow task keeps failing).
      const reason = err instanceof Error ? err.message : String(err);
      throw new HttpError(503, 'workflow_unavailable', `the workflow of order ${orderId} could not answer its state query: ${reason}`);
    }
  });

  return router;
}
