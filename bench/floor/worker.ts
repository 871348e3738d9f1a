// The floor's worker process (started by bench/floor/floor.ts): SDK defaults, the floor workflow and its one activity on
// one task queue (BENCH_FLOOR_TASK_QUEUE). It prints FLOOR_WORKER_READY once it polls.
import path from 'node:path';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { z } from 'zod';
import { parseEnv } from '../../lib/config';
import { createFloorActivities } from './activities';
import { FLOOR_WORKER_READY } from './protocol';

const floorWorkerEnvironment = z.object({
  TEMPORAL_ADDRESS: z.string().min(1),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  BENCH_FLOOR_TASK_QUEUE: z.string().min(1),
  BENCH_FLOOR_SINK_URL: z.url(),
  // The SDK's Prometheus metrics, where the bench reads how many activity tasks came by poll rather than eagerly.
  BENCH_FLOOR_METRICS_PORT: z.coerce.number().int().min(1).max(65535),
});

async function main(): Promise<void> {
  const env = parseEnv(floorWorkerEnvironment, process.env);
  Runtime.install({ telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${env.BENCH_FLOOR_METRICS_PORT}` } } } });
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
  try {
    const worker = await Worker.create({
      connection,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.BENCH_FLOOR_TASK_QUEUE,
      workflowsPath: path.join(__dirname, 'workflow.ts'),
      activities: createFloorActivities(env.BENCH_FLOOR_SINK_URL),
    });
    const running = worker.run();
    process.stdout.write(`${FLOOR_WORKER_READY}\n`);
    await running;
  } finally {
    await connection.close();
  }
}

main().catch((err) => {
  process.stderr.write(`floor worker failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
