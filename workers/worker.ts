import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { PushProviders } from '../activities/providers/push-provider';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';

export interface HeraldWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Db;
  push: PushProviders;
  logger: Logger;
  /** Overrides for tests and tuning. */
  tuning?: Partial<Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows'>>;
}

/** The order worker: bundles the workflows and serves every activity on one task queue. */
export async function createHeraldWorker(options: HeraldWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowsPath: require.resolve('../workflows'),
    activities: createActivities({ db: options.db, push: options.push, logger: options.logger }),
    maxConcurrentActivityTaskExecutions: 200,
    // Bounds memory: finished orders wait days for a late refund and need not stay cached meanwhile.
    maxCachedWorkflows: Number(process.env.HERALD_WORKFLOW_CACHE_SIZE ?? 1000),
    ...options.tuning,
  });
}
