// One timer abstraction for every deadline of an order run: the end of quiet hours, a digest window,
// a receipt deadline. Each is a named instant that a signal or a step may set, move or clear; the run
// waits on the earliest of them (samples-typescript timer-examples/updatable-timer, generalised).
import { condition } from '@temporalio/workflow';

/** What the Web UI shows for the timer of a deadline: its summary, from ids only. */
export type DeadlineSummary = (name: string) => string;

export class Deadlines {
  private readonly due: Map<string, number>;

  constructor(
    carried: Record<string, string> = {},
    private readonly summaryOf: DeadlineSummary = (name) => name,
  ) {
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
   * Waits until `wake()` holds, the earliest deadline passes, or `otherwise.ms` go by with neither
   * (null: no such limit). Says which came first. The one timer stands for the earliest of them, and
   * its summary names that one.
   */
  async wait(wake: () => boolean, otherwise: { ms: number; summary: string } | null): Promise<'woken' | 'due' | 'timed-out'> {
    const next = this.next();
    const untilDue = next ? { ms: Math.max(1, next.at - Date.now()), summary: this.summaryOf(next.name) } : null;
    const timer = untilDue && (!otherwise || untilDue.ms <= otherwise.ms) ? untilDue : otherwise;
    const woken = timer === null ? (await condition(wake), true) : await condition(wake, timer.ms, { summary: timer.summary });
    if (woken) return 'woken';
    // With a deadline set, the timer was for it (even if it fired a hair early: the loop looks again).
    return next ? 'due' : 'timed-out';
  }

  snapshot(): Record<string, string> {
    return Object.fromEntries([...this.due].map(([name, at]) => [name, new Date(at).toISOString()]));
  }
}
