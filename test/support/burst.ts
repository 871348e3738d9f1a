// A burst of order events as an OMS sends one after a sale opens: `events` events over events/5 orders, each walking
// its statuses, posted by `clients` clients as fast as each gets its answers. Each client posts its own orders, one
// status round after another, so an order's events go in order while the orders go side by side. A 503 is sent
// again after its Retry-After, as a well-behaved client does. Used by test/burst.test.ts and `npm run bench`; the same
// events as one stream for a Kafka producer (burstEvents) by test/kafka-burst.test.ts and `BENCH_BURST_VIA=kafka`.

import { iosToken, type Harness } from './harness';

export const BURST_PATH = ['confirmed', 'packed', 'shipped', 'out_for_delivery', 'delivered'] as const;
const CARRIERS = ['UPS', 'DHL', 'La Poste', 'FedEx'];

export interface BurstOptions {
  apiUrl: string;
  apiKey: string;
  /** Prefix of every order and event id, unique per burst. */
  run: string;
  events: number;
  clients: number;
  /** The customer of an order (profiles the caller created). */
  customerOf(order: number): string;
}

export interface BurstAnswer {
  eventId: string;
  /** The last answer's status (202 once taken). */
  status: number;
  /** 503s sent again after their Retry-After. */
  retries: number;
  /** From the first send to the last answer. */
  ms: number;
  /** When the last answer came (Date.now()). */
  at: number;
}

export function burstEvent(run: string, order: number, step: number, customerId: string) {
  const orderId = `${run}-o${order}`;
  const status = BURST_PATH[step]!;
  const data: Record<string, unknown> = { orderNumber: `#${100000 + order}`, total: `${(order % 90) + 10}.90`, currency: 'EUR' };
  if (step >= 2) Object.assign(data, { carrier: CARRIERS[order % CARRIERS.length], trackingNumber: `TRK${order}X` });
  if (step === 3) data.eta = '2026-12-02T16:00:00Z';
  return {
    eventId: `${orderId}.${status}`,
    orderId,
    customerId,
    status,
    occurredAt: new Date(Date.UTC(2026, 11, 1, 8) + order * 1000 + step * 3_600_000).toISOString(),
    source: 'oms',
    data,
  };
}

/**
 * The burst's `events` events as one stream, a status round after another (every order's first status, then every
 * order's second...), as an OMS sends them to a topic keyed by order id: each order's events in order, orders side by
 * side. The same events postBurst posts.
 */
export function burstEvents(run: string, events: number, customerOf: (order: number) => string): Array<ReturnType<typeof burstEvent>> {
  const orders = Math.ceil(events / BURST_PATH.length);
  return Array.from({ length: events }, (_, i) => burstEvent(run, i % orders, Math.floor(i / orders), customerOf(i % orders)));
}

export async function postEvent(apiUrl: string, apiKey: string, path: string, body: unknown): Promise<{ status: number; retryAfter: string | null; body: any }> {
  const res = await fetch(`${apiUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, retryAfter: res.headers.get('retry-after'), body: await res.json().catch(() => null) };
}

/** Posts the burst; answers every event's last answer once all are in. */
export async function postBurst(options: BurstOptions): Promise<BurstAnswer[]> {
  const { run, events, clients } = options;
  const orders = Math.ceil(events / BURST_PATH.length);
  const ordersOf = (client: number) => Array.from({ length: Math.ceil((orders - client) / clients) }, (_, i) => client + i * clients);
  const plan = Array.from({ length: clients }, (_, client) =>
    BURST_PATH.flatMap((_, step) => ordersOf(client).map((o) => [o, step] as const)).filter(([o, step]) => step * orders + o < events),
  );
  const lists = await Promise.all(
    plan.map(async (mine) => {
      const answers: BurstAnswer[] = [];
      for (const [o, step] of mine) {
        const event = burstEvent(run, o, step, options.customerOf(o));
        const started = Date.now();
        for (let retries = 0; ; retries++) {
          let answer: { status: number; retryAfter: string | null };
          try {
            answer = await postEvent(options.apiUrl, options.apiKey, '/v1/order-events', event);
          } catch {
            answer = { status: 0, retryAfter: '1' }; // the connection failed: no answer, so sent again
          }
          if ((answer.status === 503 || answer.status === 0) && retries < 20) {
            await new Promise((r) => setTimeout(r, Number(answer.retryAfter ?? 1) * 1000));
            continue;
          }
          answers.push({ eventId: event.eventId, status: answer.status, retries, ms: Date.now() - started, at: Date.now() });
          break;
        }
      }
      return answers;
    }),
  );
  return lists.flat();
}

export const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;

/**
 * The customers of a burst, `<run>-c0` to `<run>-c<count - 1>`, each with one iPhone: created `batch` at a time, each
 * answer checked (the tests' expect: call it from a test file only).
 */
export async function createBurstCustomers(h: Pick<Harness, 'api'>, run: string, count: number, batch = 20): Promise<void> {
  for (let c = 0; c < count; c += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, count - c) }, async (_, i) => {
        const id = `${run}-c${c + i}`;
        expect((await h.api('PUT', `/v1/customers/${id}`, { locale: 'en' })).status).toBe(201);
        expect((await h.api('POST', `/v1/customers/${id}/devices`, { deviceId: `${id}-phone`, platform: 'ios', token: iosToken(id) })).status).toBe(201);
      }),
    );
  }
}
