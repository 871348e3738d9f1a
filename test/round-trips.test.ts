// What one order event costs in Temporal round trips, on the real stack: orders walk the bench's path of five
// statuses one event at a time, each push reaches APNs once, and the counts per event stay under what the
// round-trips work (README "Performance") brought them to: the sends dispatched eagerly with the workflow task that
// schedules them, and a search-attribute upsert only when an indexed value changes.
import { orderWorkflowId } from '../domain';
import { eventually, iosToken, orderEvent, useHarness } from './support/harness';
import { activityTasksPolled, countRoundTrips, perEvent } from './support/round-trips';

// As the bench runs it: no digest window, which would hold routine updates back on purpose.
const h = useHarness({ env: { HERALD_DIGEST_WINDOW: '0' } });

const PATH = ['confirmed', 'packed', 'shipped', 'out_for_delivery', 'delivered'] as const;
const ORDERS = 10;

test('an order event costs few Temporal round trips, and its push goes out once', async () => {
  const tokens: string[] = [];
  for (let i = 0; i < ORDERS; i++) {
    const id = `rt-c${i}`;
    tokens.push(iosToken(id));
    expect((await h.api('PUT', `/v1/customers/${id}`, { locale: 'en' })).status).toBeLessThan(300);
    expect((await h.api('POST', `/v1/customers/${id}/devices`, { deviceId: `${id}-phone`, platform: 'ios', token: tokens[i] })).status).toBe(201);
  }
  const sdkMetricsUrl = `http://127.0.0.1:${h.stack.env.HERALD_SDK_METRICS_PORT}/metrics`;
  const polledBefore = await activityTasksPolled(sdkMetricsUrl);

  // One status at a time for every order, each waited for: one event per workflow task, as at a steady rate.
  for (const [step, status] of PATH.entries()) {
    for (let i = 0; i < ORDERS; i++) expect((await h.api('POST', '/v1/order-events', orderEvent(`rt-o${i}`, `rt-c${i}`, status))).status).toBe(202);
    await eventually(async () => {
      const behind = tokens.flatMap((t, i) => (h.apns.requestsFor(t).length < step + 1 ? [i] : []));
      expect({ status, behind }).toEqual({ status, behind: [] });
    }, 60_000);
  }
  // Each order's run has finished its last event (the delivered push is recorded once the activity completed).
  await eventually(async () => {
    for (let i = 0; i < ORDERS; i++) {
      const state = (await h.api('GET', `/v1/orders/rt-o${i}/state`)).body;
      expect({ order: i, lastStatus: state.lastStatus, notificationState: state.notificationState }).toEqual({ order: i, lastStatus: 'delivered', notificationState: 'done' });
    }
  }, 60_000);
  expect(tokens.map((t) => h.apns.requestsFor(t).length)).toEqual(tokens.map(() => PATH.length));

  const counts = await countRoundTrips({
    temporalAddress: h.stack.temporalAddress,
    workflowIds: Array.from({ length: ORDERS }, (_, i) => orderWorkflowId(`rt-o${i}`)),
    orderEvents: ORDERS * PATH.length,
    sdkMetricsUrl,
    polledBefore,
  });
  const per = perEvent(counts);
  console.log(`round trips per order event: ${JSON.stringify(per)} (totals ${JSON.stringify(counts)})`);
  // Main before this work: 15.8 history events, 2 workflow tasks, 1 activity task (every one polled from its channel's
  // queue), 1.4 local activities, 2 upserts (0.4 of them the SDK's patch upserts) and 1 timer per event.
  expect(per.activityTasks).toBe(1);
  // The sends come eagerly with the workflow task that schedules them (a busy moment may still send a few to the queue).
  expect(counts.activityTasksPolled! * 10).toBeLessThanOrEqual(counts.activityTasks);
  // Herald's own upserts: one per event at most (the SDK adds one per patch per run, once).
  expect((counts.searchAttributeUpserts - counts.patchUpserts) / counts.orderEvents).toBeLessThanOrEqual(1);
}, 300_000);
