import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { CartSettings } from '../activities/cart-reminders';
import type { OrderSettings } from '../activities/order-settings';
import type { MessageProviders } from '../activities/providers/message-provider';
import type { PushProviders } from '../activities/providers/push-provider';
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
  /** Activities per second each channel's task queue may start, across every worker (Temporal enforces it). */
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

/**
 * Herald's workers, all in one process: the order worker runs the workflows and their local
 * (database) activities on the orders task queue; one worker per delivery channel serves that
 * channel's provider calls on its own task queue, whose rate limit Temporal enforces.
 */
export async function createHeraldWorkers(options: HeraldWorkerOptions): Promise<Worker[]> {
  const activities = createActivities({
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
        ...(options.rateLimits?.[channel] ? { maxTaskQueueActivitiesPerSecond: options.rateLimits[channel] } : {}),
      }),
    ),
  );
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
  await Promise.all(runs);
}
