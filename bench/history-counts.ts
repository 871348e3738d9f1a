// Temporal's round trips per order event, read from the workflows' histories: how many history events, workflow tasks
// and activity tasks (and local-activity markers) an order event costs. Every run of an order is counted, back
// through its continue-as-new chain.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';

export interface HistoryCounts {
  workflows: number;
  runs: number;
  /** Workflows the server did not find (five tries): a lost order, or a read the server could not answer then. */
  missing: string[];
  historyEvents: number;
  /** Workflow tasks completed (each a task handed to the worker and its completion sent back). */
  workflowTasks: number;
  /** Activities scheduled on a task queue (dispatched eagerly or through matching alike). */
  activityTasks: number;
  /** Local activities, recorded as markers in the workflow task that ran them. */
  localActivityMarkers: number;
  searchAttributeUpserts: number;
  timers: number;
  signals: number;
}

/**
 * The same counts divided by the events the workflows were sent, with the activity tasks the worker had to poll for
 * (its SDK metrics; the other activity tasks came eagerly with a workflow task's completion).
 */
export type PerEventCounts = Omit<HistoryCounts, 'workflows' | 'runs' | 'missing'> & { events: number; missingWorkflows: number; activityTasksPolled: number | null };

const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

async function countRun(client: Client, workflowId: string, runId: string | undefined, into: HistoryCounts): Promise<string | undefined> {
  const history = await fetchHistory(client, workflowId, runId);
  into.runs++;
  let previousRun: string | undefined;
  for (const event of history.events ?? []) {
    into.historyEvents++;
    if (event.workflowTaskCompletedEventAttributes) into.workflowTasks++;
    else if (event.activityTaskScheduledEventAttributes) into.activityTasks++;
    else if (event.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER) into.localActivityMarkers++;
    else if (event.upsertWorkflowSearchAttributesEventAttributes) into.searchAttributeUpserts++;
    else if (event.timerStartedEventAttributes) into.timers++;
    else if (event.workflowExecutionSignaledEventAttributes) into.signals++;
    else if (event.workflowExecutionStartedEventAttributes?.continuedExecutionRunId) {
      previousRun = event.workflowExecutionStartedEventAttributes.continuedExecutionRunId;
    }
  }
  return previousRun;
}

async function fetchHistory(client: Client, workflowId: string, runId: string | undefined) {
  for (let tries = 1; ; tries++) {
    try {
      return await client.workflow.getHandle(workflowId, runId).fetchHistory();
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError || (err as { code?: number }).code === 5) || tries >= 5) throw err;
      await new Promise((r) => setTimeout(r, 200 * tries));
    }
  }
}

const isNotFound = (err: unknown) => err instanceof WorkflowNotFoundError || (err as { code?: number }).code === 5;

/** Counts the histories of `workflowIds` (their latest runs and every run they continued from), `concurrency` at a time. */
export async function countHistories(client: Client, workflowIds: string[], concurrency = 8): Promise<HistoryCounts> {
  const counts: HistoryCounts = { workflows: 0, runs: 0, missing: [], historyEvents: 0, workflowTasks: 0, activityTasks: 0, localActivityMarkers: 0, searchAttributeUpserts: 0, timers: 0, signals: 0 };
  const queue = [...workflowIds];
  const countOne = async (workflowId: string) => {
    let runId: string | undefined;
    try {
      do runId = await countRun(client, workflowId, runId, counts);
      while (runId);
      counts.workflows++;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      counts.missing.push(runId ? `${workflowId} (run ${runId})` : workflowId);
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) await countOne(id);
    }),
  );
  return counts;
}

export function perEvent(counts: HistoryCounts, events: number, activityTasksPolled: number | null): PerEventCounts {
  const per = (n: number) => (events ? Math.round((n / events) * 100) / 100 : NaN);
  return {
    events,
    missingWorkflows: counts.missing.length,
    historyEvents: per(counts.historyEvents),
    workflowTasks: per(counts.workflowTasks),
    activityTasks: per(counts.activityTasks),
    localActivityMarkers: per(counts.localActivityMarkers),
    searchAttributeUpserts: per(counts.searchAttributeUpserts),
    timers: per(counts.timers),
    signals: per(counts.signals),
    activityTasksPolled: activityTasksPolled === null ? null : per(activityTasksPolled),
  };
}
