// Attacks on what the API exposes without a key: /metrics must not grow a series per random path or per free-text
// event source, and /readyz and error answers must not echo a dependency's exception text.
import { randomBytes } from 'node:crypto';
import { OTHER_LABEL, SOURCE_LABEL_CAP } from '../lib/metrics';
import { UNMATCHED_ROUTE } from '../api/request-metrics';
import { OUTBOX_NAMES } from '../lib/outbox';
import { eventually, orderEvent, useHarness } from './support/harness';

jest.setTimeout(300_000);

const h = useHarness();

const random = () => randomBytes(6).toString('hex');

/** Herald's own series of the API (the prom-client process and Node.js defaults are left out: their labels are fixed by the runtime). */
async function heraldSeries(): Promise<string[]> {
  const text = await (await fetch(`${h.stack.apiUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('herald_') && !/^herald_(process|nodejs)_/.test(line))
    .map((line) => line.slice(0, line.lastIndexOf(' ')));
}

/** Runs `count` tasks, `parallel` at a time. */
async function flood(count: number, parallel: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) await task(next++);
    }),
  );
}

test('2,000 requests to random paths, with and without a key, add no /metrics series', async () => {
  // One of each kind first, so the series they legitimately make exist before the count.
  const hit = async (i: number) => {
    const path = `/${i % 2 ? 'v1/' : ''}${random()}/${random()}`;
    const method = i % 3 === 0 ? 'POST' : 'GET';
    if (i % 4 < 2) await (await fetch(`${h.stack.apiUrl}${path}`, { method })).text();
    else await h.api(method, path);
  };
  for (let i = 0; i < 12; i++) await hit(i);
  await heraldSeries(); // and the scrape's own series
  // The relays' gauges appear on their own clock (a pass every 2 s per outbox), not per request: wait for all of them.
  const before = await eventually(async () => {
    const series = await heraldSeries();
    for (const outbox of OUTBOX_NAMES) expect(series).toContain(`herald_outbox_stuck_events{outbox="${outbox}"}`);
    return series;
  }, 30_000);

  await flood(2000, 20, hit);

  const after = await heraldSeries();
  expect(after.filter((s) => !before.includes(s))).toEqual([]);
  const http = after.filter((s) => s.startsWith('herald_http_request_duration_seconds_count'));
  expect(http.some((s) => s.includes(`route="${UNMATCHED_ROUTE}",status="401"`))).toBe(true);
  expect(http.some((s) => s.includes(`route="${UNMATCHED_ROUTE}",status="404"`))).toBe(true);
});

test('a matched route is labelled by its template, not by its path', async () => {
  await h.api('GET', `/v1/orders/${random()}/notifications`);
  await eventually(async () => {
    expect((await heraldSeries()).some((s) => s.includes('route="/v1/orders/{orderId}/notifications"'))).toBe(true);
  });
  expect((await heraldSeries()).filter((s) => /route="\/v1\/orders\/(?!\{orderId\})/.test(s))).toEqual([]);
});

test(`500 order events with random sources label at most ${SOURCE_LABEL_CAP} sources, every other one as "${OTHER_LABEL}"`, async () => {
  const before = await heraldSeries();
  await flood(500, 10, async (i) => {
    const event = { ...orderEvent(`ord-src-${i}`, `cust-src-${i % 5}`, 'confirmed'), source: `src-${random()}` };
    // Half accepted, half rejected: both counters carry the source.
    const { status } = await h.api('POST', '/v1/order-events', i % 2 ? event : { ...event, occurredAt: 'soon' });
    expect(status).toBe(i % 2 ? 202 : 400);
  });
  const after = await heraldSeries();
  const sources = new Set(after.map((s) => /^herald_order_events_\w+\{source="([^"]*)"/.exec(s)?.[1]).filter((s): s is string => s !== undefined));
  expect(sources.size).toBeLessThanOrEqual(SOURCE_LABEL_CAP + 1);
  expect(sources.has(OTHER_LABEL)).toBe(true);
  // Accepted: confirmed × {false} per source; rejected: critical × {false} per source.
  const grown = after.filter((s) => !before.includes(s));
  expect(grown.filter((s) => /^herald_order_events_/.test(s)).length).toBeLessThanOrEqual(2 * (SOURCE_LABEL_CAP + 1));
  // Besides those, only intake's own route could be new (its 202 and 400 answers).
  expect(grown.filter((s) => !/^herald_order_events_/.test(s) && !s.includes('route="/v1/order-events"'))).toEqual([]);
});

test('/readyz and a 500 with PostgreSQL and Temporal down carry no internal error text, only an error id', async () => {
  expect((await fetch(`${h.stack.apiUrl}/readyz`)).status).toBe(200);
  const { postgres, temporal } = h.stack.serverPids;
  expect(postgres).toBeDefined();
  expect(temporal).toBeDefined();
  process.kill(postgres!, 'SIGINT'); // PostgreSQL's fast shutdown: connections are refused at once
  process.kill(temporal!, 'SIGKILL');
  await eventually(() => {
    expect(() => process.kill(postgres!, 0)).toThrow();
    expect(() => process.kill(temporal!, 0)).toThrow();
  });

  // One readiness answer serves for a second: the next check after that sees both down.
  const { ready, text } = await eventually(async () => {
    const answer = await fetch(`${h.stack.apiUrl}/readyz`);
    const body = await answer.text();
    expect(answer.status).toBe(503);
    return { ready: answer, text: body };
  });
  expect(ready.status).toBe(503);
  const body = JSON.parse(text);
  expect(body.status).toBe('not_ready');
  expect(body.checks.database.ok).toBe(false);
  expect(body.checks.temporal.ok).toBe(false);
  expect(body.checks.database.error).toMatch(/^database did not answer \(error id [0-9a-f-]{36}\)$/);
  expect(body.checks.temporal.error).toMatch(/^temporal did not answer \(error id [0-9a-f-]{36}\)$/);

  // A route that needs the database fails with a 500 that names only an error id.
  const failed = await fetch(`${h.stack.apiUrl}/v1/dead-letters?limit=1`, { headers: { authorization: `Bearer ${h.adminKey}` } });
  const failedText = await failed.text();
  expect(failed.status).toBeGreaterThanOrEqual(500);
  expect(JSON.parse(failedText).error.message).toMatch(/error id [0-9a-f-]{36}/);

  const dbHost = new URL(h.stack.databaseUrl);
  for (const answer of [text, failedText]) {
    for (const leak of ['ECONNREFUSED', 'UNAVAILABLE', "Can't reach", 'prisma', 'SELECT', '127.0.0.1', 'localhost', `:${dbHost.port}`, `:${h.stack.temporalAddress.split(':').pop()}`, '    at ']) {
      expect(answer).not.toContain(leak);
    }
  }
});
