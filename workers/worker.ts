import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { CartSettings } from '../activities/cart-reminders';
import type { OrderSettings } from '../activities/order-settings';
import type { MessageProviders } from '../activities/providers/message-provider';
import type { PushProviders } from '../activities/providers/push-provider';
import { joinSendRate, type SendRate } from '../activities/send-rate';
import type { DeliveryChannel } from '../domain';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import type { TrackingSettings } from '../lib/tracking';
import { CHANNEL_TASK_QUEUES } from '../workflows/definitions';
import type { WorkflowSource } from './workflow-source';

export interface HeraldWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Db;
  push: PushProviders;
  messages: MessageProviders;
  logger: Logger;
  /** Sends per second each channel's provider may get, across every worker (each worker enforces its share: activities/send-rate.ts). */
  rateLimits?: Partial<Record<DeliveryChannel, number>>;
  /** Base URL Twilio posts status callbacks to; null when it cannot reach this deployment. */
  statusCallbackBaseUrl?: string | null;
  /** Email open and click tracking (config.tracking); none: emails go untracked. */
  tracking?: TrackingSettings | null;
  /** How long the renderer keeps its choice of template (HERALD_TEMPLATE_CACHE_MS). */
  templateCacheMs: number;
  /** The settings each new order run loads (orderSettingsFrom(config)); no longer put in the run's input by the API. */
  orderSettings: OrderSettings;
  /** The settings each new cart run loads (cartSettingsFrom(config)). */
  cartSettings?: CartSettings;
  /** Workflows the order worker keeps in memory (HERALD_WORKFLOW_CACHE_SIZE). */
  workflowCacheSize: number;
  /** The order worker's workflow code: a prebuilt bundle or workflows/ (see workflowSource). */
  workflows: WorkflowSource;
  /** Overrides for tests and tuning. */
  tuning?: Partial<Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows'>>;
}

/** What each set of workers gives back when it stops: its share of the send rate. */
const departures = new WeakMap<Worker, SendRate>();

/**
 * Herald's workers, all in one process: the order worker runs the workflows, their local (database) activities and
 * their sends, on the orders task queue, so a send goes eagerly with the workflow task that schedules it; each send
 * waits for its turn under this worker's share of its provider's rate limit. One worker per delivery channel still
 * serves that channel's old task queue, for the sends of runs scheduled there before sends moved (workflows/delivery.ts)
 * and for product alerts (herald-push); their provider calls take slots of the same share.
 */
export async function createHeraldWorkers(options: HeraldWorkerOptions): Promise<Worker[]> {
  const sendRate = await joinSendRate({ db: options.db, limits: options.rateLimits ?? {}, logger: options.logger });
  const activities = createActivities({
    sendRate,
    db: options.db,
    push: options.push,
    messages: options.messages,
    logger: options.logger,
    statusCallbackBaseUrl: options.statusCallbackBaseUrl,
    tracking: options.tracking,
    templateCacheMs: options.templateCacheMs,
    orderSettings: options.orderSettings,
    cartSettings: options.cartSettings,
  });
  const orders = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...options.workflows,
    activities,
    maxConcurrentActivityTaskExecutions: 200,
    // Bounds memory: finished orders wait days for a late refund and need not stay cached meanwhile.
    maxCachedWorkflows: options.workflowCacheSize,
    ...options.tuning,
  });
  const channels = await Promise.all(
    (Object.keys(CHANNEL_TASK_QUEUES) as DeliveryChannel[]).map((channel) =>
      Worker.create({
        connection: options.connection,
        namespace: options.namespace,
        taskQueue: CHANNEL_TASK_QUEUES[channel],
        activities,
        maxConcurrentActivityTaskExecutions: options.tuning?.maxConcurrentActivityTaskExecutions ?? 200,
        // No task-queue limit: every activity here takes a slot of this worker's share per provider call, and a
        // queue limit on top would be a second full limit (product alerts' pushes went out under both).
      }),
    ),
  );
  departures.set(orders, sendRate);
  return [orders, ...channels];
}

/** Runs the workers until they are shut down; if one fails, the others are stopped too. */
export async function runWorkers(workers: Worker[]): Promise<void> {
  const runs = workers.map((w) =>
    w.run().catch((err: unknown) => {
      for (const other of workers) if (other !== w && other.getState() === 'RUNNING') other.shutdown();
      throw err;
    }),
  );
  try {
    await Promise.all(runs);
  } finally {
    for (const w of workers) await departures.get(w)?.leave();
  }
}
