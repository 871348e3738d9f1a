import { WorkflowNotFoundError } from '@temporalio/client';
import { orderWorkflowId } from '../../domain';
import type { Db } from '../../lib/db';
import { Prisma } from '../../lib/db';
import { decodeTimeCursor, encodeTimeCursor, olderThan } from '../paging';
import { HttpError } from '../errors';
import { notificationView, withAttempts } from '../notification-view';
import { notificationPageResponse, orderStateResponse, orderStateView, type NotificationView } from '../response-schemas';
import { defineRoute, type Route } from '../route';
import { customerPath, historyQuerySchema, orderPath, type HistoryQuery } from '../schemas';
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

/** A page of history, newest first: the notifications of `where` that pass the filters, after the cursor. */
async function page(db: Db, where: Prisma.NotificationWhereInput, query: HistoryQuery): Promise<{ items: NotificationView[]; nextCursor: string | null }> {
  const { limit, cursor, ...filters } = query;
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

const HISTORY_DESCRIPTION =
  'Each notification has its attempts and its suppression or failure reason. The filters combine (all must hold); a `nextCursor` ' +
  'is a position in the list, so pass the same filters with it to get the next page.';
const HISTORY_PAGE = { 200: { description: 'A page of notifications with their attempts.', body: notificationPageResponse } };

/** Delivery history (newest first, cursor-paginated) and the live state of an order's workflow. */
export const historyRoutes: Route[] = [
  defineRoute({
    method: 'get',
    path: '/v1/orders/{orderId}/notifications',
    operationId: 'listOrderNotifications',
    tag: 'Delivery history',
    summary: "An order's delivery history, newest first",
    description: HISTORY_DESCRIPTION,
    scope: 'read',
    params: orderPath,
    query: historyQuerySchema,
    responses: HISTORY_PAGE,
    handler: async ({ params: { orderId }, query }, { db }) => ({ status: 200, body: await page(db, { orderId }, query) }),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/customers/{customerId}/notifications',
    operationId: 'listCustomerNotifications',
    tag: 'Delivery history',
    summary: "A customer's delivery history, newest first",
    description: HISTORY_DESCRIPTION,
    scope: 'read',
    params: customerPath,
    query: historyQuerySchema,
    responses: HISTORY_PAGE,
    handler: async ({ params: { customerId }, query }, { db }) => ({ status: 200, body: await page(db, { customerId }, query) }),
  }),
  defineRoute({
    method: 'get',
    path: '/v1/orders/{orderId}/state',
    operationId: 'getOrderState',
    tag: 'Delivery history',
    summary: "The live state of an order's workflow",
    description: "Answered by the workflow's `orderState` query. 503 when the run exists but cannot answer (no worker, or a failing workflow task).",
    scope: 'read',
    params: orderPath,
    responses: { 200: { description: 'The state.', body: orderStateResponse } },
    errors: { 404: 'No workflow for this order (no event for it was accepted).', 503: 'The run exists but cannot answer its query now (no worker, or a failing workflow task).' },
    handler: async ({ params: { orderId } }, { temporal }) => {
      const handle = temporal.workflow.getHandle(orderWorkflowId(orderId));
      try {
        const [state, description] = await Promise.all([handle.query(orderStateQuery), handle.describe()]);
        return { status: 200, body: orderStateView({ workflowId: handle.workflowId, runId: description.runId, runStatus: description.status.name, ...state }) };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw new HttpError(404, 'not_found', `no workflow for order ${orderId}`);
        // The run exists but cannot answer (no worker polling, or its workflow task keeps failing).
        const reason = err instanceof Error ? err.message : String(err);
        throw new HttpError(503, 'workflow_unavailable', `the workflow of order ${orderId} could not answer its state query: ${reason}`);
      }
    },
  }),
];
