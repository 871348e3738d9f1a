// The bare-Temporal floor's one workflow: an order that runs one activity per status it is signalled, on its own task
// queue (so the server can hand the activity back eagerly), and ends after the last one. The least Temporal can do
// for Herald's pattern, so Herald's rate can be read as a share of it.
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';
import type { FloorActivities, FloorEvent } from './activities';

export const floorEventSignal = defineSignal<[FloorEvent]>('floorEvent');

/** The status after which an order gets no more events (the bench's path ends there). */
export const FLOOR_LAST_STATUS = 'delivered';

const { notifyCustomer } = proxyActivities<FloorActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumAttempts: 5 },
});

export async function floorOrderWorkflow(): Promise<void> {
  const pending: FloorEvent[] = [];
  setHandler(floorEventSignal, (event) => void pending.push(event));
  for (;;) {
    await condition(() => pending.length > 0);
    const event = pending.shift()!;
    await notifyCustomer(event);
    if (event.status === FLOOR_LAST_STATUS) return;
  }
}
