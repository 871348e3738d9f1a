// Counts what order events cost in Temporal round trips: from the histories of the orders' runs (history events,
// workflow tasks, activity tasks, local-activity markers, search-attribute upserts) and from the worker's SDK metrics
// (activity tasks it had to poll for; the rest came eagerly with a workflow task's completion).
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const EventType = temporal.api.enums.v1.EventType;

export interface RoundTrips {
  orderEvents: number;
  historyEvents: number;
  workflowTasks: number;
  activityTasks: number;
  localActivities: number;
  searchAttributeUpserts: number;
  /** Of those, the SDK's own upserts of TemporalChangeVersion (one per patch per run). */
  patchUpserts: number;
  timers: number;
  /** Activity tasks the worker received from a poll (null without a metrics URL): the others were dispatched eagerly. */
  activityTasksPolled: number | null;
}

/** Per order event, rounded to two decimals. */
export function perEvent(counts: RoundTrips): Record<Exclude<keyof RoundTrips, 'orderEvents'>, number | null> {
  const per = (n: number | null) => (n === null ? null : Math.round((n / counts.orderEvents) * 100) / 100);
  return {
    historyEvents: per(counts.historyEvents),
    workflowTasks: per(counts.workflowTasks),
    activityTasks: per(counts.activityTasks),
    localActivities: per(counts.localActivities),
    searchAttributeUpserts: per(counts.searchAttributeUpserts),
    patchUpserts: per(counts.patchUpserts),
    timers: per(counts.timers),
    activityTasksPolled: per(counts.activityTasksPolled),
  };
}

/**
 * The worker's count of activity tasks it got from polls: core's activity_task_received, summed over task queues,
 * without those it got eagerly (eager="true", handed back with a workflow task's completion).
 */
export async function activityTasksPolled(sdkMetricsUrl: string): Promise<number> {
  const text = await (await fetch(sdkMetricsUrl)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (/^temporal_activity_task_received(_total)?[{ ]/.test(line) && !line.includes('eager="true"')) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** The current runs of these workflows (a handful of events never continues as new), counted; `polledBefore` is the metric before the events went. */
export async function countRoundTrips(options: {
  temporalAddress: string;
  workflowIds: string[];
  orderEvents: number;
  sdkMetricsUrl?: string;
  polledBefore?: number;
}): Promise<RoundTrips> {
  const connection = await Connection.connect({ address: options.temporalAddress });
  try {
    const client = new Client({ connection });
    const counts: RoundTrips = {
      orderEvents: options.orderEvents,
      historyEvents: 0,
      workflowTasks: 0,
      activityTasks: 0,
      localActivities: 0,
      searchAttributeUpserts: 0,
      patchUpserts: 0,
      timers: 0,
      activityTasksPolled: null,
    };
    for (const workflowId of options.workflowIds) {
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      for (const event of history.events ?? []) {
        counts.historyEvents++;
        if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) counts.workflowTasks++;
        else if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) counts.activityTasks++;
        else if (event.eventType === EventType.EVENT_TYPE_MARKER_RECORDED && event.markerRecordedEventAttributes?.markerName === 'core_local_activity') counts.localActivities++;
        else if (event.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES) {
          counts.searchAttributeUpserts++;
          const fields = Object.keys(event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {});
          if (fields.length === 1 && fields[0] === 'TemporalChangeVersion') counts.patchUpserts++;
        }
        else if (event.eventType === EventType.EVENT_TYPE_TIMER_STARTED) counts.timers++;
      }
    }
    if (options.sdkMetricsUrl) counts.activityTasksPolled = (await activityTasksPolled(options.sdkMetricsUrl)) - (options.polledBefore ?? 0);
    return counts;
  } finally {
    await connection.close();
  }
}
