// Attacks on the API's capacity and on its keys, through the running stack: a flood from one key, a flood of random
// keys, a revoked key used at once, and a revoked HERALD_ADMIN_KEY that an API start must not bring back.
import fs from 'node:fs';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { AUTH_CACHE_MAX_ENTRIES, hashKey } from '../api/auth';
import { spawnHeraldProcess, waitForHttp } from '../dev/processes';
import { orderEvent, useHarness } from './support/harness';

jest.setTimeout(300_000);

// A refill of one request per 1,000 s: within this file's minutes what gets through is each burst, whatever the machine's speed.
const KEY_BURST = 200;
const INTAKE_BURST = 400;
const ADDRESS_BURST = 50;

const h = useHarness({
  env: {
    HERALD_KEY_RATE_LIMIT: `0.001:${KEY_BURST}`,
    HERALD_INTAKE_RATE_LIMIT: `0.001:${INTAKE_BURST}`,
    HERALD_ADDRESS_RATE_LIMIT: `0.001:${ADDRESS_BURST}`,
    // The test stands in for a proxy on loopback: its X-Forwarded-For gives each attack a client address of its own.
    HERALD_TRUST_PROXY: 'loopback',
  },
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: any;
}

// Thousands of requests in flight share these connections, as behind any client's pool: thousands of connections
// opened at once would overflow the listen backlog, which is the kernel's answer, not the API's.
const agent = new http.Agent({ keepAlive: true, maxSockets: 200 });
afterAll(() => agent.destroy());

function send(method: string, path: string, options: { key?: string; address?: string; body?: unknown } = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  if (options.address) headers['x-forwarded-for'] = options.address;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const req = http.request(`${h.stack.apiUrl}${path}`, { method, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON (metrics)
        }
        resolve({ status: res.statusCode!, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

/** Runs `count` tasks, `parallel` at a time. */
async function flood<T>(count: number, parallel: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

const countBy = (answers: Answer[]) => answers.reduce<Record<number, number>>((counts, { status }) => ({ ...counts, [status]: (counts[status] ?? 0) + 1 }), {});

const randomKey = () => `hk_${randomBytes(24).toString('base64url')}`;

async function createKey(name: string, scopes: string[]): Promise<{ id: string; key: string }> {
  const created = await h.api('POST', '/v1/api-keys', { name, scopes });
  expect(created.status).toBe(201);
  return created.body;
}

/** The API process's resident memory (VmRSS), in MiB. */
function rssMiB(pid: number): number {
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kib) / 1024;
}

/** The keys in the API's authentication cache, as /metrics reports it. */
async function authCacheEntries(): Promise<number> {
  const text = (await send('GET', '/metrics')).body as string;
  const value = /^herald_auth_cache_entries (\d+)$/m.exec(text)?.[1];
  expect({ metric: 'herald_auth_cache_entries', reported: value !== undefined }).toEqual({ metric: 'herald_auth_cache_entries', reported: true });
  return Number(value);
}

/** A 429 as documented: Retry-After in whole seconds, at least 1, the error shape with `rate_limited`, and RateLimit headers. */
function expectRateLimited(answer: Answer, budget: 'key' | 'intake' | 'address'): void {
  expect(answer.status).toBe(429);
  expect(answer.headers['retry-after']).toMatch(/^[1-9]\d*$/);
  expect(answer.body).toEqual({ error: { code: 'rate_limited', message: expect.stringMatching(new RegExp(`; retry in ${answer.headers['retry-after']} s$`)) } });
  const burst = { key: KEY_BURST, intake: INTAKE_BURST, address: ADDRESS_BURST }[budget];
  expect(answer.headers.ratelimit).toMatch(new RegExp(`^"${budget}";r=0;t=\\d+$`));
  expect(answer.headers['ratelimit-policy']).toBe(`"${budget}";q=${burst};w=${burst * 1000}`);
}

let flooder: { id: string; key: string };

test('3,000 parallel requests with one key: its burst gets through, every other one is a 429 with Retry-After, and the API stays up', async () => {
  flooder = await createKey('flooder', ['read', 'ingest']);
  const answers = await Promise.all(Array.from({ length: 3000 }, () => send('GET', '/v1/orders/ord-flood/notifications', { key: flooder.key })));
  expect(countBy(answers)).toEqual({ 200: KEY_BURST, 429: 3000 - KEY_BURST });
  for (const answer of answers.filter((a) => a.status === 429)) expectRateLimited(answer, 'key');
  // The 429 is the documented one (the example says 1 s where this one says its own Retry-After).
  const limited = answers.find((a) => a.status === 429)!;
  const documented = (await send('GET', '/openapi.json')).body.paths['/v1/orders/{orderId}/notifications'].get.responses['429'];
  expect(Object.keys(documented.headers)).toEqual(['Retry-After', 'RateLimit', 'RateLimit-Policy']);
  const example = documented.content['application/json'].examples.keySpent.value;
  expect(limited.body).toEqual({ error: { ...example.error, message: example.error.message.replace(/retry in 1 s$/, `retry in ${limited.headers['retry-after']} s`) } });
  expect(limited.body.error.message).toMatch(/^too many requests with this API key; /);
  expect(answers.find((a) => a.status === 200)!.headers.ratelimit).toMatch(/^"key";r=\d+;t=\d+$/);

  expect((await send('GET', '/healthz')).status).toBe(200);
  expect(h.stack.api.managed.hasExited()).toBe(false);
  // Another key has a budget of its own.
  expect((await h.api('GET', '/v1/orders/ord-flood/notifications')).status).toBe(200);
});

test("intake has its own, larger budget: the flooded key still posts events, until that budget is spent too", async () => {
  expectRateLimited(await send('GET', '/v1/orders/ord-flood/notifications', { key: flooder.key }), 'key');
  const accepted = await send('POST', '/v1/order-events', { key: flooder.key, body: orderEvent('ord-intake', 'cust-intake', 'confirmed') });
  expect(accepted.status).toBe(202);
  expect(accepted.headers.ratelimit).toMatch(new RegExp(`^"intake";r=${INTAKE_BURST - 1};t=\\d+$`));

  // The rest of the intake burst, sent as invalid events (each a 400, kept as a rejected event), then 429s.
  const answers = await flood(INTAKE_BURST - 1 + 100, 20, (i) => send('POST', '/v1/order-events', { key: flooder.key, body: { eventId: `bad-${i}` } }));
  expect(countBy(answers)).toEqual({ 400: INTAKE_BURST - 1, 429: 100 });
  for (const answer of answers.filter((a) => a.status === 429)) expectRateLimited(answer, 'intake');
  expect(answers.find((a) => a.status === 429)!.body.error.message).toMatch(/^too many intake requests with this API key; /);
});

test("40,000 random bearer tokens from one address: its burst is looked up, every other one is a 429 before any lookup, and none is kept", async () => {
  const flood404 = (count: number, address: string) =>
    flood(count, 100, async () => (await send('GET', '/v1/orders/ord-flood/notifications', { key: randomKey(), address })).status);
  // A first flood from elsewhere grows the heap to what this load needs (V8 keeps it): the measured one must not add to it.
  await flood404(10_000, '203.0.113.6');
  const address = '203.0.113.7';
  const cached = await authCacheEntries();
  const before = rssMiB(h.stack.api.pid);

  const statuses = await flood404(40_000, address);
  expect(countBy(statuses.map((status) => ({ status }) as Answer))).toEqual({ 401: ADDRESS_BURST, 429: 40_000 - ADDRESS_BURST });
  expectRateLimited(await send('GET', '/v1/orders/ord-flood/notifications', { key: randomKey(), address }), 'address');

  const after = rssMiB(h.stack.api.pid);
  // Logged, not asserted: resident memory swings by tens of MiB with the garbage collector and the machine's load
  // (a CI run saw +112 MiB with nothing retained). What bounds it is asserted: no token is kept.
  console.log(`API resident memory around 40,000 random tokens: ${before.toFixed(0)} MiB before, ${after.toFixed(0)} MiB after`);
  // None of them is in the cache, which stays within its bound.
  expect(await authCacheEntries()).toBe(cached);
  expect(cached).toBeLessThanOrEqual(AUTH_CACHE_MAX_ENTRIES);

  // Health, readiness and metrics are never limited, even for the flooded address.
  for (const path of ['/healthz', '/readyz', '/metrics']) {
    const answers = await flood(ADDRESS_BURST + 10, 5, () => send('GET', path, { address }));
    expect({ path, statuses: countBy(answers) }).toEqual({ path, statuses: { 200: ADDRESS_BURST + 10 } });
  }
});

test('unknown keys are looked up but never cached; requests without a key spend the same address budget; an IPv6 /64 is one address', async () => {
  // A key unknown at first and stored a moment later works at once: its miss was not kept.
  const later = randomKey();
  expect((await send('GET', '/v1/orders/ord-flood/notifications', { key: later, address: '192.0.2.1' })).status).toBe(401);
  await h.db.apiKey.create({ data: { name: 'stored after its first use', keyHash: hashKey(later), prefix: later.slice(0, 8), scopes: ['read'] } });
  expect((await send('GET', '/v1/orders/ord-flood/notifications', { key: later, address: '192.0.2.1' })).status).toBe(200);

  const cached = await authCacheEntries();
  const answers = await flood(ADDRESS_BURST, 10, () => send('GET', '/v1/orders/ord-flood/notifications', { key: randomKey(), address: '2001:db8:7:1::1' }));
  expect(countBy(answers)).toEqual({ 401: ADDRESS_BURST });
  expect(await authCacheEntries()).toBe(cached);
  // Another host of the same /64 finds the budget spent; the next /64 has its own.
  expectRateLimited(await send('GET', '/v1/orders/ord-flood/notifications', { key: randomKey(), address: '2001:db8:7:1:ffff:ffff:ffff:9' }), 'address');
  expect((await send('GET', '/v1/orders/ord-flood/notifications', { key: randomKey(), address: '2001:db8:7:2::1' })).status).toBe(401);

  // Without a key: 401s, then 429s, and the operations that need no key share the budget.
  const address = '198.51.100.4';
  expect(countBy(await flood(ADDRESS_BURST, 10, () => send('GET', '/v1/orders/ord-flood/notifications', { address })))).toEqual({ 401: ADDRESS_BURST });
  expectRateLimited(await send('GET', '/v1/orders/ord-flood/notifications', { address }), 'address');
  expectRateLimited(await send('GET', '/openapi.json', { address }), 'address');
  expect((await send('GET', '/openapi.json', { address: '198.51.100.5' })).status).toBe(200);
});

test('a revoked key is refused on the very next request to the instance that revoked it', async () => {
  const reader = await createKey('revoked at once', ['read']);
  expect((await send('GET', '/v1/orders/ord-flood/notifications', { key: reader.key })).status).toBe(200);
  expect((await h.api('DELETE', `/v1/api-keys/${reader.id}`)).status).toBe(204);
  const next = await send('GET', '/v1/orders/ord-flood/notifications', { key: reader.key });
  expect({ status: next.status, code: next.body.error?.code }).toEqual({ status: 401, code: 'unauthenticated' });
});

test('a revoked HERALD_ADMIN_KEY stays revoked when the API starts again, and the start warns about it', async () => {
  const second = await createKey('second admin', ['admin']);
  const keys = await send('GET', '/v1/api-keys', { key: second.key });
  const envKey = keys.body.items.find((k: any) => k.name === 'admin (HERALD_ADMIN_KEY)' && k.prefix === h.adminKey.slice(0, 8));
  expect((await send('DELETE', `/v1/api-keys/${envKey.id}`, { key: second.key })).status).toBe(204);

  await h.stack.api.stop();
  const api = spawnHeraldProcess('api', h.stack.env);
  h.stack.api = api; // the harness stops this one
  await waitForHttp(`${h.stack.apiUrl}/readyz`, api, 90_000);

  expect((await send('GET', '/v1/api-keys', { key: h.adminKey })).status).toBe(401);
  expect((await send('GET', '/v1/api-keys', { key: second.key })).status).toBe(200);
  expect((await h.db.apiKey.findUniqueOrThrow({ where: { id: envKey.id } })).revokedAt).not.toBeNull();
  expect(api.output()).toContain('HERALD_ADMIN_KEY was revoked and stays revoked');
});
