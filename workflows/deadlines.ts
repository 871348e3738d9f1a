// One timer abstraction for every deadline of an order run: the end of quiet hours, a digest window,
// a receipt deadline. Each is a named instant that a signal or a step may set, move or clear; the run
// waits on the earliest of them (samples-typescript timer-examples/updatable-timer, generalised).
import { condition } from '@temporalio/workflow';

export class Deadlines {
  private readonly due: Map<string, number>;

  constructor(carried: Record<string, string> = {}) {
    this.due = new Map(Object.entries(carried).map(([name, at]) => [name, Date.parse(at)]));
  }

  set(name: string, at: string): void {
    this.due.set(name, Date.parse(at));
  }

  clear(name: string): void {
    this.due.delete(name);
  }

  /** The earliest deadline, or null. */
  next(): { name: string; at: number } | null {
    let next: { name: string; at: number } | null = null;
    for (const [name, at] of this.due) if (!next || at < next.at) next = { name, at };
    return next;
  }

  /** The deadlines that have passed, earliest first; they stay set until cleared. */
  passed(now = Date.now()): string[] {
    return [...this.due].filter(([, at]) => at <= now).sort((a, b) => a[1] - b[1]).map(([name]) => name);
  }

  /**
   * Waits until `wake()` holds, the earliest deadline passes, or `otherwise` ms go by with neither
   * (null: no such limit). Says which came first.
   */
  async wait(wake: () => boolean, otherwise: number | null): Promise<'woken' | 'due' | 'timed-out'> {
    const next = this.next();
    const untilDue = next ? Math.max(1, next.at - Date.now()) : null;
    const timeout = untilDue === null ? otherwise : otherwise === null ? untilDue : Math.min(untilDue, otherwise);
    const woken = timeout === null ? (await condition(wake), true) : await condition(wake, timeout);
    if (woken) return 'woken';
    // With a deadline set, the timer was for it (even if it fired a hair early: the loop looks again).
    return next ? 'due' : 'timed-out';
  }

  snapshot(): Record<string, string> {
    return Object.fromEntries([...this.due].map(([name, at]) => [name, new Date(at).toISOString()]));
  }
}
