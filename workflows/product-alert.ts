// One product event's alerts: pages through the watches it fires and hands them to the push activities in
// batches of WATCH_BATCH_SIZE (never a workflow per watcher). The workflow id is the event's
// (`product-alert:<sku>:<eventId>`), so an event posted twice is alerted once.
import { allHandlersFinished, condition, continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { BackorderPage, WatcherPage } from '../activities/product-alerts';
import type { Activities } from '../activities';
import { WATCH_BATCH_SIZE, type WatchKind } from '../domain/product-alerts';
import { CHANNEL_TASK_QUEUES } from './definitions';

const { loadProductAlert, pageWatchers } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds' },
});

// On the push queue (served without a task-queue limit): each provider call takes a slot of the worker's push share
// (activities/send-rate.ts), so alerts count against HERALD_PUSH_RATE_LIMIT once; a retry skips what an earlier attempt settled.
const { sendWatchBatch, notifyBackorderedOrders } = proxyActivities<Activities>({
  taskQueue: CHANNEL_TASK_QUEUES.push,
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 8, nonRetryableErrorTypes: ['UnknownProductEvent', 'TemplateMissing', 'TemplateRenderFailed'] },
});

export interface ProductAlertInput {
  eventId: string;
  /** A continued run: where the previous one stopped, and what it did. */
  resume?: { kind: WatchKind; after: string; summary: ProductAlertSummary };
}

export interface ProductAlertSummary {
  eventId: string;
  fires: WatchKind[];
  batches: number;
  sent: number;
  /** Backordered orders told their item is back (restocks only). */
  orders?: number;
  suppressed: number;
  failed: number;
}

export async function productAlertWorkflow({ eventId, resume }: ProductAlertInput): Promise<ProductAlertSummary> {
  const alert = await loadProductAlert(eventId);
  const summary: ProductAlertSummary = resume?.summary ?? { eventId, fires: alert.fires, batches: 0, sent: 0, suppressed: 0, failed: 0 };
  const kinds = resume ? alert.fires.slice(alert.fires.indexOf(resume.kind)) : alert.fires;
  for (const kind of kinds) {
    let after: string | null = resume?.kind === kind ? resume.after : null;
    do {
      if (after !== null && workflowInfo().continueAsNewSuggested) {
        // A product with very many watchers: a fresh history carries on from the cursor.
        await condition(allHandlersFinished);
        return await continueAsNew<typeof productAlertWorkflow>({ eventId, resume: { kind, after, summary } });
      }
      const page: WatcherPage = await pageWatchers({ eventId, kind, after, limit: WATCH_BATCH_SIZE });
      if (page.watchIds.length > 0) {
        const result = await sendWatchBatch({ eventId, watchIds: page.watchIds });
        summary.batches++;
        summary.sent += result.sent;
        summary.suppressed += result.suppressed;
        summary.failed += result.failed;
      }
      after = page.next;
    } while (after !== null);
  }
  if (alert.fires.includes('restock')) await tellBackorderedOrders(eventId, summary);
  return summary;
}

/** A restock also tells each open backordered order holding the item, a page of orders per activity. */
async function tellBackorderedOrders(eventId: string, summary: ProductAlertSummary): Promise<void> {
  let after: string | null = null;
  summary.orders ??= 0;
  do {
    const page: BackorderPage = await notifyBackorderedOrders({ eventId, after, limit: WATCH_BATCH_SIZE });
    summary.orders += page.sent;
    after = page.next;
  } while (after !== null);
}
