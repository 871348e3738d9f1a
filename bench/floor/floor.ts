// The bare-Temporal floor on a running stack's Temporal server: its HTTP sink here, its worker as a process of its own,
// and its events sent by signal-with-start from this process (there is no API in front of bare Temporal).
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort, spawnManaged, terminate } from '../../dev/embedded';
import { PROJECT_ROOT } from '../../dev/tools';
import type { Stack } from '../../dev/stack';
import { activityTasksPolled } from '../../test/support/round-trips';
import type { BenchSystem } from '../step';
import { startFloorSink } from './sink';
import type { FloorEvent } from './activities';
import { floorEventSignal, type floorOrderWorkflow } from './workflow';
import { FLOOR_TASK_QUEUE, FLOOR_WORKER_READY } from './protocol';

export interface Floor extends BenchSystem {
  /** The floor worker's process (for CPU and memory). */
  workerPid: number;
  client: Client;
  stop(): Promise<void>;
}

/** Starts the floor against `stack`'s Temporal server and resolves once its worker polls. */
export async function startFloor(stack: Stack, logDir: string): Promise<Floor> {
  const sink = await startFloorSink();
  const namespace = stack.env.TEMPORAL_NAMESPACE ?? 'default';
  const metricsPort = await freePort();
  const worker = spawnManaged(process.execPath, ['--import', 'tsx', path.join(__dirname, 'worker.ts')], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_NAMESPACE: namespace,
      BENCH_FLOOR_TASK_QUEUE: FLOOR_TASK_QUEUE,
      BENCH_FLOOR_SINK_URL: sink.url,
      BENCH_FLOOR_METRICS_PORT: String(metricsPort),
    },
    logFile: path.join(logDir, 'floor-worker.log'),
    exitSignal: 'SIGTERM',
  });
  const stopWorker = () => terminate(worker, [['SIGTERM', 15_000], ['SIGKILL', 5_000]]);
  let connection: Connection | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes(FLOOR_WORKER_READY)) resolve();
      };
      worker.child.stdout?.on('data', onData);
      void worker.exited.then((result) => reject(new Error(`the floor worker exited (${JSON.stringify(result)}) before it polled:\n${worker.tail.toString()}`)));
      setTimeout(() => reject(new Error(`the floor worker did not poll within 120 s:\n${worker.tail.toString()}`)), 120_000).unref();
    });
    connection = await Connection.connect({ address: stack.temporalAddress });
  } catch (err) {
    await stopWorker();
    await sink.close();
    throw err;
  }
  const client = new Client({ connection, namespace });
  const workflowId = (orderId: string) => `floor:${orderId}`;
  return {
    name: 'floor',
    workerPid: worker.child.pid ?? -1,
    client,
    workflowId,
    activityTasksPolled: () => activityTasksPolled(`http://127.0.0.1:${metricsPort}/metrics`),
    async send(event) {
      await client.workflow.signalWithStart<typeof floorOrderWorkflow, [FloorEvent]>('floorOrderWorkflow', {
        workflowId: workflowId(event.orderId),
        taskQueue: FLOOR_TASK_QUEUE,
        signal: floorEventSignal,
        signalArgs: [{ orderId: event.orderId, status: event.status }],
      });
      return true;
    },
    onNotified: (listener) => sink.onNotified((event, receivedAt) => listener(event.orderId, event.status, receivedAt)),
    async stop() {
      await connection.close().catch(() => undefined);
      await stopWorker();
      await sink.close();
    },
  };
}
