import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { Prisma } from '../../lib/db';
import type { deadLetterReplayWorkflow } from '../../workflows/dead-letter-replay';
import type { DeliveryOptions } from '../../workflows/delivery';
import { decodeTimeCursor, encodeTimeCursor, olderThan } from '../paging';
import { HttpError } from '../errors';
import { deadLetterPageResponse, replayAcceptedResponse } from '../response-schemas';
import { defineRoute, type Route } from '../route';
import { deadLetterPath, pageQuerySchema } from '../schemas';

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
export const deadLetterRoutes: Route[] = [
  defineRoute({
    method: 'get',
    path: '/v1/dead-letters',
    operationId: 'listDeadLetters',
    tag: 'Dead letters',
    summary: 'Deliveries that failed for good, newest first',
    scope: 'read',
    query: pageQuerySchema,
    responses: { 200: { description: 'A page of dead letters.', body: deadLetterPageResponse } },
    handler: async ({ query: { limit, cursor } }, { db }) => {
      const after = cursor ? decodeTimeCursor(cursor) : null;
      const rows = await db.deadLetter.findMany({
        where: after ? olderThan(after) : {},
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: limit + 1,
      });
      const items = rows.slice(0, limit);
      return { status: 200, body: { items: items.map(deadLetterView), nextCursor: rows.length > limit ? encodeTimeCursor(items[items.length - 1]!) : null } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/dead-letters/{id}/replay',
    operationId: 'replayDeadLetter',
    tag: 'Dead letters',
    summary: 'Replay a dead letter through its own workflow',
    scope: 'admin',
    params: deadLetterPath,
    responses: { 202: { description: 'The replay workflow started.', body: replayAcceptedResponse } },
    errors: { 404: 'No such dead letter.', 409: '`replay_in_progress`: a replay of this dead letter is running.' },
    handler: async ({ params: { id } }, { db, temporal, replay }) => {
      const deadLetter = await db.deadLetter.findUnique({ where: { id } });
      if (!deadLetter) throw new HttpError(404, 'not_found', `no dead letter ${id}`);
      const workflowId = `dead-letter-replay:${deadLetter.id}`;
      try {
        await temporal.workflow.start<typeof deadLetterReplayWorkflow>('deadLetterReplayWorkflow', {
          workflowId,
          taskQueue: replay.taskQueue,
          args: [{ deadLetterId: deadLetter.id, delivery: replay.delivery }],
        });
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) throw new HttpError(409, 'replay_in_progress', `dead letter ${deadLetter.id} is being replayed already`);
        throw err;
      }
      return { status: 202, body: { deadLetterId: deadLetter.id, workflowId } };
    },
  }),
];
