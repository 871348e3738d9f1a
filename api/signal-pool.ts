// The signalling pool: intake hands a stored event here and answers at once; the pool signals it to its
// workflow in the background. It is bounded twice: at most `concurrency` signals at once and at most `queueMax`
// waiting. An event it cannot take stays stored for the relay (lib/outbox.ts), which finds it: nothing is lost.
// One key's items (an order's events) go one at a time, in the order they came; when one fails, its key's later
// items are dropped as well and left to the relay, which keeps their order.

/** After a failure with Temporal not answering, the pool takes nothing for this long (the relay retries meanwhile). */
export const SIGNAL_POOL_PAUSE_MS = 5_000;

/** How many signalled ids the pool remembers (see `recent`). */
const RECENT_IDS = 10_000;

/** Why an item was not taken, or was dropped: the `reason` of herald_intake_signals_deferred_total. */
export const DEFER_REASONS = ['queue_full', 'behind', 'failed', 'temporal_unavailable', 'stopping'] as const;
export type DeferReason = (typeof DEFER_REASONS)[number];

export interface SignalPoolOptions<T> {
  concurrency: number;
  queueMax: number;
  /** The workflow an item goes to (its order): one item of a key at a time, in order. */
  keyOf(item: T): string;
  /** The item's own id (its event id). */
  idOf(item: T): string;
  run(item: T): Promise<void>;
  /** Asked after a failure: false (Temporal does not answer) drops every waiting item and pauses the pool. */
  healthy(): Promise<boolean>;
  /** A failure, once per failed item, with how many of its key's later items it dropped. */
  failed(item: T, err: unknown, dropped: number): void;
  /** Counts of what is waiting and running, after every change. */
  observe(state: { queued: number; inFlight: number }): void;
  deferred(reason: DeferReason, count: number): void;
}

interface Lane<T> {
  waiting: T[];
  running: T | null;
}

export interface SignalPool<T> {
  /**
   * Takes `item` when there is room and every id in `earlier` (its key's earlier items still owed) is in the pool
   * ahead of it; answers whether it did. One it does not take is left to the relay.
   */
  offer(item: T, earlier: readonly string[]): boolean;
  /** Whether the pool holds this id (waiting or running). */
  holds(id: string): boolean;
  /** Whether the pool holds an item of this key: the relay leaves such a key's rows alone. */
  holdsKey(key: string): boolean;
  state(): { queued: number; inFlight: number; concurrency: number; queueMax: number };
  /** Until every item taken so far is done (or dropped). */
  idle(): Promise<void>;
  /** Takes nothing more, leaves the waiting items to the relay and waits for those running. */
  close(): Promise<void>;
}

export function createSignalPool<T>(options: SignalPoolOptions<T>): SignalPool<T> {
  const { concurrency, queueMax, keyOf, idOf } = options;
  const lanes = new Map<string, Lane<T>>();
  // Keys with a waiting item and none running, oldest first: every order gets its turn.
  const ready: string[] = [];
  const held = new Set<string>();
  let queued = 0;
  let inFlight = 0;
  let pausedUntil = 0;
  let closed = false;
  let idleWaiters: Array<() => void> = [];
  // Ids this pool signalled lately: the database may still have shown them owed to an event read just before.
  const recent = new Set<string>();
  const remember = (id: string) => {
    recent.add(id);
    if (recent.size > RECENT_IDS) recent.delete(recent.values().next().value!);
  };

  const observe = () => {
    options.observe({ queued, inFlight });
    if (queued === 0 && inFlight === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      waiters.forEach((w) => w());
    }
  };

  /** Drops a lane's waiting items (they stay stored for the relay); answers how many. */
  function dropWaiting(key: string, lane: Lane<T>): number {
    const dropped = lane.waiting.length;
    for (const item of lane.waiting) held.delete(idOf(item));
    queued -= dropped;
    lane.waiting = [];
    if (!lane.running) lanes.delete(key);
    return dropped;
  }

  function dropAll(reason: DeferReason): void {
    let dropped = 0;
    for (const [key, lane] of [...lanes]) dropped += dropWaiting(key, lane);
    ready.length = 0;
    if (dropped) options.deferred(reason, dropped);
    observe();
  }

  function pump(): void {
    while (inFlight < concurrency && ready.length) {
      const key = ready.shift()!;
      const lane = lanes.get(key);
      if (!lane || lane.running || !lane.waiting.length) continue;
      const item = lane.waiting.shift()!;
      lane.running = item;
      queued--;
      inFlight++;
      void runOne(key, lane, item);
    }
    observe();
  }

  async function runOne(key: string, lane: Lane<T>, item: T): Promise<void> {
    let error: unknown = null;
    try {
      await options.run(item);
    } catch (err) {
      error = err ?? new Error('signal failed');
    }
    // Not held from here on: a later event of its key that comes now is behind it, so the relay's.
    held.delete(idOf(item));
    if (error === null) remember(idOf(item));
    else {
      // Its key's later items must not overtake it: the relay signals them all, in order.
      const dropped = dropWaiting(key, lane);
      options.failed(item, error, dropped);
      options.deferred('failed', 1 + dropped);
      if (!closed && !(await options.healthy().catch(() => false))) {
        pausedUntil = Date.now() + SIGNAL_POOL_PAUSE_MS;
        dropAll('temporal_unavailable');
      }
    }
    lane.running = null;
    inFlight--;
    if (lane.waiting.length) ready.push(key);
    else if (lanes.get(key) === lane) lanes.delete(key);
    pump();
  }

  return {
    offer(item, earlier) {
      const key = keyOf(item);
      const lane = lanes.get(key);
      const refuse = (reason: DeferReason) => {
        options.deferred(reason, 1);
        return false;
      };
      if (held.has(idOf(item))) return false;
      if (closed) return refuse('stopping');
      if (Date.now() < pausedUntil) return refuse('temporal_unavailable');
      // An earlier event of the order the pool does not hold is the relay's: this one waits behind it there.
      if (earlier.some((id) => !held.has(id) && !recent.has(id))) return refuse('behind');
      if (queued >= queueMax) return refuse('queue_full');
      if (lane) {
        lane.waiting.push(item);
      } else {
        lanes.set(key, { waiting: [item], running: null });
        ready.push(key);
      }
      held.add(idOf(item));
      queued++;
      pump();
      return true;
    },
    holds: (id) => held.has(id),
    holdsKey: (key) => lanes.has(key),
    state: () => ({ queued, inFlight, concurrency, queueMax }),
    idle: () => (queued === 0 && inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))),
    async close() {
      closed = true;
      dropAll('stopping');
      if (inFlight) await new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
  };
}
