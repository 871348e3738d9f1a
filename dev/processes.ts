import { spawnManaged, terminate, type ManagedChild } from './embedded';
import { PROJECT_ROOT } from './tools';

export type HeraldRole = 'worker' | 'api';

export interface HeraldProcess {
  role: HeraldRole;
  pid: number;
  managed: ManagedChild;
  /** Last lines of its output, for error messages. */
  output(): string;
  /** Graceful stop: SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** Abrupt death, as in a crash or an OOM kill. */
  kill(): Promise<void>;
}

const ENTRY: Record<HeraldRole, string> = { worker: 'workers/main.ts', api: 'api/main.ts' };

/**
 * V8 flags the worker and the API run with (the Dockerfile, docker-compose.yml and package.json use the same), each
 * measured at 30 events/s (README "Memory"): the old generation grows by half of what survived a collection instead
 * of up to four times (garbage no longer doubles the heap between collections), young semi-spaces of 4 MiB instead
 * of 16, and Prisma's WebAssembly query compiler kept on the baseline tier (its optimized code cost ~20 MiB and
 * no measurable CPU was saved). Flags in HERALD_NODE_ARGS come after these and so override them.
 */
export const HERALD_NODE_FLAGS = ['--heap-growing-percent=50', '--max-semi-space-size=4', '--liftoff-only'];

/**
 * Environment the worker and the API run with unless set: two malloc arenas instead of eight per core, which the
 * Temporal core's and libuv's threads otherwise each fill and keep.
 */
export const HERALD_PROCESS_ENV: NodeJS.ProcessEnv = { MALLOC_ARENA_MAX: '2' };

/** Starts the worker or the API as its own Node process, as `npm run worker` / `npm run api` would. */
export function spawnHeraldProcess(
  role: HeraldRole,
  env: NodeJS.ProcessEnv,
  options: { logFile?: string; pidFile?: string; echo?: boolean } = {},
): HeraldProcess {
  // One process per role (the tsx CLI would add a parent process that a kill leaves orphaned).
  // HERALD_NODE_ARGS adds Node flags, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile a benchmark.
  const extra = (env.HERALD_NODE_ARGS ?? process.env.HERALD_NODE_ARGS ?? '').split(' ').filter(Boolean);
  // tsx's CommonJS hook only: `--import tsx` also registers its ESM hooks, which Node runs on a loader thread with a
  // V8 isolate of its own (~30 MiB and 5 threads per process); Herald's TypeScript is all CommonJS.
  const managed = spawnManaged(process.execPath, [...HERALD_NODE_FLAGS, ...extra, '--require', 'tsx/cjs', ENTRY[role]], {
    cwd: PROJECT_ROOT,
    env: { ...HERALD_PROCESS_ENV, ...process.env, HERALD_SERVICE: `herald-${role}`, ...env },
    logFile: options.logFile,
    pidFile: options.pidFile,
    exitSignal: 'SIGTERM',
  });
  if (options.echo) {
    managed.child.stdout?.on('data', (chunk: Buffer) => process.stdout.write(chunk));
    managed.child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  }
  return {
    role,
    pid: managed.child.pid ?? -1,
    managed,
    output: () => managed.tail.toString(),
    stop: (graceMs = 15_000) => terminate(managed, [['SIGTERM', graceMs], ['SIGKILL', 5_000]]),
    kill: () => terminate(managed, [['SIGKILL', 5_000]]),
  };
}

/** Polls a URL until it answers 2xx or the process dies or the time runs out. */
export async function waitForHttp(url: string, process_: HeraldProcess | null, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (process_?.managed.hasExited()) throw new Error(`${process_.role} exited before ${url} answered:\n${process_.output()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `${res.status} ${await res.text()}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not become ready within ${timeoutMs} ms (last: ${last})${process_ ? `\n${process_.output()}` : ''}`);
}
