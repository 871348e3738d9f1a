// One run per order: it receives the order's events and receipts as signals and carries out each
// event's channel plan (workflows/order-process.ts holds the state and the steps).
import { allHandlersFinished, condition, continueAsNew, patched, setHandler } from '@temporalio/workflow';
import { notificationReceiptSignal, orderEventSignal, orderStateQuery, type OrderState } from './definitions';
import { runLegacyOrder, type LegacyOrderInput } from './legacy/order-notification-v1';
import { OrderProcess, type OrderWorkflowInput } from './order-process';

export type { OrderWorkflowInput } from './order-process';

/**
 * Versioning: runs that started before channel plans (and their continuations, which carry the old
 * snapshot) finish on the code they started with; `patched` keeps their histories replaying.
 */
const CHANNEL_PLANS_PATCH = 'channel-plans';

export async function orderNotificationWorkflow(input: OrderWorkflowInput | LegacyOrderInput): Promise<OrderState> {
  if (isLegacyContinuation(input) || !patched(CHANNEL_PLANS_PATCH)) return runLegacyOrder(input as LegacyOrderInput);

  const order = new OrderProcess(input as OrderWorkflowInput);
  setHandler(orderEventSignal, (event) => order.receive(event));
  setHandler(notificationReceiptSignal, (receipt) => order.receiveReceipt(receipt));
  setHandler(orderStateQuery, () => order.view());

  await order.begin();
  for (let work = await order.next(); work !== 'finished'; work = await order.next()) {
    await order.handle(work);
    if (order.shouldContinueAsNew()) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof orderNotificationWorkflow>(order.continuation());
    }
  }
  await condition(allHandlersFinished);
  return order.finalState();
}

function isLegacyContinuation(input: OrderWorkflowInput | LegacyOrderInput): boolean {
  return input.carried !== undefined && (input.carried as { version?: number }).version !== 2;
}
