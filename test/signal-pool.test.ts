// The signalling pool on its own: its bounds, its order per key, and what it leaves to the relay.
import { createSignalPool, type DeferReason } from '../api/signal-pool';

interface Item {
  id: string;
  key: string;
}

/** A pool whose run is a gate the test opens by id, recording the order runs started in. */
function poolOf(options: { concurrency?: number; queueMax?: number; healthy?: boolean } = {}) {
  const started: string[] = [];
  const gates = new Map<string, { resolve(): void; reject(err: Error): void }>();
  const deferred: Array<[DeferReason, number]> = [];
  const failures: Array<[string, number]> = [];
  let peak = 0;
  const pool = createSignalPool<Item>({
    concurrency: options.concurrency ?? 2,
    queueMax: options.queueMax ?? 100,
    keyOf: (i) => i.key,
    idOf: (i) => i.id,
    run: (i) =>
      new Promise<void>((resolve, reject) => {
        started.push(i.id);
        gates.set(i.id, { resolve, reject });
      }),
    healthy: async () => options.healthy ?? true,
    failed: (i, _err, dropped) => failures.push([i.id, dropped]),
    observe: ({ inFlight }) => (peak = Math.max(peak, inFlight)),
    deferred: (reason, count) => deferred.push([reason, count]),
  });
  const settle = () => new Promise((r) => setImmediate(r));
  const finish = async (id: string, err?: Error) => {
    const gate = gates.get(id);
    if (!gate) throw new Error(`${id} is not running (started: ${started.join(', ')})`);
    if (err) gate.reject(err);
    else gate.resolve();
    await settle();
  };
  return { pool, started, deferred, failures, finish, settle, peak: () => peak };
}

test('one key at a time, in the order offered; other keys go alongside, up to the concurrency', async () => {
  const p = poolOf({ concurrency: 2 });
  expect(p.pool.offer({ id: 'a1', key: 'a' }, [])).toBe(true);
  expect(p.pool.offer({ id: 'a2', key: 'a' }, ['a1'])).toBe(true);
  expect(p.pool.offer({ id: 'b1', key: 'b' }, [])).toBe(true);
  expect(p.pool.offer({ id: 'c1', key: 'c' }, [])).toBe(true);
  await p.settle();
  expect(p.started).toEqual(['a1', 'b1']);
  expect(p.pool.state()).toMatchObject({ queued: 2, inFlight: 2 });
  await p.finish('b1');
  // a2 waits for a1 even with a slot free: c1 takes it.
  expect(p.started).toEqual(['a1', 'b1', 'c1']);
  await p.finish('a1');
  expect(p.started).toEqual(['a1', 'b1', 'c1', 'a2']);
  await p.finish('c1');
  await p.finish('a2');
  await p.pool.idle();
  expect(p.peak()).toBe(2);
  expect(p.pool.holdsKey('a')).toBe(false);
});

test('an event behind one the pool does not hold is left to the relay; behind one it signalled already, it is taken', async () => {
  const p = poolOf();
  expect(p.pool.offer({ id: 'x2', key: 'x' }, ['x1'])).toBe(false);
  expect(p.deferred).toEqual([['behind', 1]]);
  expect(p.pool.offer({ id: 'y1', key: 'y' }, [])).toBe(true);
  await p.finish('y1');
  // The database read before y1's mark may still name it: the pool remembers what it signalled.
  expect(p.pool.offer({ id: 'y2', key: 'y' }, ['y1'])).toBe(true);
  await p.finish('y2');
});

test('past the queue bound it takes nothing more, and takes again once there is room', async () => {
  const p = poolOf({ concurrency: 1, queueMax: 2 });
  expect(['k1', 'k2', 'k3', 'k4'].map((id) => p.pool.offer({ id, key: id }, []))).toEqual([true, true, true, false]);
  expect(p.deferred).toEqual([['queue_full', 1]]);
  await p.finish('k1');
  expect(p.pool.offer({ id: 'k4', key: 'k4' }, [])).toBe(true);
});

test("a failure drops its key's later events for the relay, and a later one of that key is the relay's too; other keys go on", async () => {
  const p = poolOf({ concurrency: 1 });
  p.pool.offer({ id: 'a1', key: 'a' }, []);
  p.pool.offer({ id: 'a2', key: 'a' }, ['a1']);
  p.pool.offer({ id: 'a3', key: 'a' }, ['a1', 'a2']);
  p.pool.offer({ id: 'b1', key: 'b' }, []);
  await p.settle();
  await p.finish('a1', new Error('refused'));
  expect(p.failures).toEqual([['a1', 2]]);
  expect(p.deferred).toEqual([['failed', 3]]);
  expect([p.pool.holds('a2'), p.pool.holds('a3')]).toEqual([false, false]);
  // The database still owes a1..a3: a4 waits behind them, at the relay.
  expect(p.pool.offer({ id: 'a4', key: 'a' }, ['a1', 'a2', 'a3'])).toBe(false);
  expect(p.started).toEqual(['a1', 'b1']);
  await p.finish('b1');
  await p.pool.idle();
});

test('with Temporal not answering after a failure, everything waiting goes to the relay and the pool pauses', async () => {
  const p = poolOf({ concurrency: 1, healthy: false });
  p.pool.offer({ id: 'a1', key: 'a' }, []);
  p.pool.offer({ id: 'b1', key: 'b' }, []);
  p.pool.offer({ id: 'c1', key: 'c' }, []);
  await p.settle();
  await p.finish('a1', new Error('deadline exceeded'));
  await p.settle();
  expect(p.deferred).toEqual([
    ['failed', 1],
    ['temporal_unavailable', 2],
  ]);
  expect(p.pool.state()).toMatchObject({ queued: 0, inFlight: 0 });
  expect(p.pool.offer({ id: 'd1', key: 'd' }, [])).toBe(false);
  expect(p.started).toEqual(['a1']);
});

test('close leaves what waits to the relay and waits for the signals under way', async () => {
  const p = poolOf({ concurrency: 1 });
  p.pool.offer({ id: 'a1', key: 'a' }, []);
  p.pool.offer({ id: 'b1', key: 'b' }, []);
  await p.settle();
  let closed = false;
  const closing = p.pool.close().then(() => (closed = true));
  await p.settle();
  expect(closed).toBe(false);
  await p.finish('a1');
  await closing;
  expect(p.started).toEqual(['a1']);
  expect(p.pool.offer({ id: 'c1', key: 'c' }, [])).toBe(false);
  expect(p.deferred).toEqual([
    ['stopping', 1],
    ['stopping', 1],
  ]);
});
