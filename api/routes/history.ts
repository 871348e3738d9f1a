import { Router } from 'express';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { orderWorkflowId } from '../../domain';
import type { Db } from '../../lib/db';
import { Prisma } from '../../lib/db';
import { requireScope } from '../auth';
import { decodeTimeCursor, encodeTimeCursor, idParam, olderThan } from '../paging';
import { HttpError, validationError } from '../errors';
import { orderStateView, type NotificationView } from '../response-schemas';
import { pageQuerySchema } from '../schemas';
import { orderStateQuery } from '../../workflows/definitions';

const withAttempts = {
  attempts: { orderBy: { startedAt: 'asc' }, include: { device: { select: { deviceId: true, platform: true } } } },
} satisfies Prisma.NotificationInclude;

type NotificationRow = Prisma.NotificationGetPayload<{ include: typeof withAttempts }>;

function notificationView(n: NotificationRow): NotificationView {
  return {
    notificationId: n.id,
    orderId: n.orderId,
    customerId: n.customerId,
    eventId: n.eventId,
    type: n.type,
    priority: n.priority,
    category: n.category,
    channel: n.channel,
    status: n.status,
    suppressionReason: n.suppressionReason,
    failureReason: n.failureReason,
    template: n.templateId ? { id: n.templateId, version: n.templateVersion, locale: n.locale } : null,
    title: n.title,
    body: n.body,
    createdAt: n.createdAt,
    sentAt: n.sentAt,
    deliveredAt: n.deliveredAt,
    attempts: n.attempts.map((a) => ({
      attemptId: a.id,
      deviceId: a.device?.deviceId ?? null,
      platform: a.device?.platform ?? null,
      channel: a.channel,
      provider: a.provider,
      status: a.status,
      attemptNumber: a.attemptNumber,
      providerMessageId: a.providerMessageId,
      errorCode: a.errorCode,
      errorMessage: a.errorMessage,
      startedAt: a.startedAt,
      finishedAt: a.finishedAt,
    })),
  };
}

/** Delivery history (newest first, cursor-paginated) and the live state of an order's workflow. */
export function historyRoutes(db: Db, temporal: Client): Router {
  const router = Router();

  async function page(where: Prisma.NotificationWhereInput, query: unknown) {
    const parsed = pageQuerySchema.safeParse(query);
    if (!parsed.success) throw validationError(parsed.error, 'query');
    const { limit, cursor } = parsed.data;
    const after = cursor ? decodeTimeCursor(cursor) : null;
    const rows = await db.notification.findMany({
      where: after
        ? { AND: [where, olderThan(after)] }
        : where,
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
