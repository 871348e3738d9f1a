// What a benchmark reads about the stack's processes from /proc (CPU time and peak memory of a process tree), and its stop on Ctrl-C.
import fs from 'node:fs';
import type { Harness } from '../test/support/harness';

/**
 * CPU seconds (user + system) a process and its descendants have used so far, those that already exited included
 * (a reaped child's time is in its parent's cutime/cstime: PostgreSQL's backends come and go).
 */
export function cpuSeconds(rootPid: number | undefined): number {
  if (!rootPid) return NaN;
  const ticks = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of processTree(rootPid)) {
    try {
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      // utime, stime, then cutime, cstime (fields 14-17 of proc(5), counted from after the command name).
      total += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / ticks;
    } catch {
      // gone
    }
  }
  return total;
}

function processTree(rootPid: number): number[] {
  const pids = [rootPid];
  for (let i = 0; i < pids.length; i++) {
    try {
      for (const task of fs.readdirSync(`/proc/${pids[i]}/task`)) {
        const children = fs.readFileSync(`/proc/${pids[i]}/task/${task}/children`, 'utf8').trim();
        if (children) pids.push(...children.split(/\s+/).map(Number));
      }
    } catch {
      // gone
    }
  }
  return pids;
}

/** Peak resident memory (VmHWM) of a process and its descendants, in MiB (tsx runs node as a child). */
export function peakMemoryMiB(rootPid: number): number {
  let total = 0;
  for (const pid of processTree(rootPid)) {
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (match) total += Number(match[1]);
    } catch {
      // gone
    }
  }
  return Math.round(total / 1024);
}

/**
 * Ctrl-C (or a kill) stops the benchmark's stack (and whatever else it runs on it, `also`, first) before the process
 * exits, so no server is left running. Returns the function that unregisters it once the stack is stopped.
 */
export function stopOnInterrupt(h: Harness, ...also: Array<{ stop(): Promise<void> }>): () => void {
  const interrupted = async () => {
    for (const other of also) await other.stop().catch(() => undefined);
    await h.stop();
    process.exit(130);
  };
  const onSignal = () => void interrupted();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
}
