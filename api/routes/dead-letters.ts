import { Router } from 'express';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { Db } from '../../lib/db';
import { Prisma } from '../../lib/db';
import type { deadLetterReplayWorkflow } from '../../workflows/dead-letter-replay';
import type { DeliveryOptions } from '../../workflows/delivery';
import { requireScope } from '../auth';
import { decodeTimeCursor, encodeTimeCursor, idParam, olderThan } from '../paging';
import { HttpError, validationError } from '../errors';
import { pageQuerySchema } from '../schemas';

export interface ReplaySettings {
  taskQueue: string;
  delivery?: DeliveryOptions;
}

type DeadLetterRow = Prisma.DeadLetterGetPayload<object>;

function deadLetterView(d: DeadLetterRow) {
  const target = d.target as { platform?: string; token?: string; app?: string | null };
  return {
    deadLetterId: d.id,
    notificationId: d.notificationId,
    orderId: d.orderId,
    customerId: d.customerId,
    channel: d.channel,
    provider: d.provider,
    // The full token stays in the database; operators see enough to recognise it.
    target: {
      deviceId: d.deviceId,
      platform: target.platform ?? null,
      app: target.app ?? null,
      tokenPrefix: target.token?.slice(0, 12) ?? null,
      address: d.address ?? null,
    },
    message: d.message,
    errors: d.errors,
    lastError: d.lastError,
    createdAt: d.createdAt,
    replayCount: d.replayCount,
    replayedAt: d.replayedAt,
    replayStatus: d.replayStatus,
  };
}

/** Failed deliveries kept for operators: list them, and replay one through its own workflow. */
export function deadLetterRoutes(db: Db, temporal: Client, settings: ReplaySettings): Router {
  const router = Router();

  router.get('/dead-letters', requireScope('read'), async (req, res) => {
    const parsed = pageQuerySchema.safeParse(req.query);
    if (!parsed.success) throw validationError(parsed.error, 'query');
    const { limit, cursor } = parsed.data;
    const after = cursor ? decodeTimeCursor(cursor) : null;
    const rows = await db.deadLetter.findMany({
      where: after ? olderThan(after) : {},
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: limit + 1,
    });
    const items = rows.slice(0, limit);
    res.json({ items: items.map(deadLetterView), nextCursor: rows.length > limit ? encodeTimeCursor(items[items.length - 1]!) : null });
  });

  router.post('/dead-letters/:id/replay', requireScope('admin'), async (req, res) => {
    const id = idParam('id', req.params.id);
    const deadLetter = await db.deadLetter.findUnique({ where: { id } });
    if (!deadLetter) throw new HttpError(404, 'not_found', `no dead letter ${id}`);
    const workflowId = `dead-letter-replay:${deadLetter.id}`;
    try {
      await temporal.workflow.start<typeof deadLetterReplayWorkflow>('deadLetterReplayWorkflow', {
        workflowId,
        taskQueue: settings.taskQueue,
        args: [{ deadLetterId: deadLetter.id, delivery: settings.delivery }],
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new HttpError(409, 'replay_in_progress', `dead letter ${deadLetter.id} is being replayed already`);
      throw err;
    }
    res.status(202).json({ deadLetterId: deadLetter.id, workflowId });
  });

  return router;
}
