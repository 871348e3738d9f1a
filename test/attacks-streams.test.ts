// Attacks on the inbox stream's capacity and on its keys, through the running stack: one customer opening stream after
// stream (each holds a socket, a subscription and a timer until its token expires), a flood of streams filling an API
// instance, and a stream that keeps reading after the key that opened it was revoked, here or on another instance.
import http from 'node:http';
import { AUTH_CACHE_TTL_MS } from '../api/auth';
import { freePort } from '../dev/embedded';
import { spawnHeraldProcess, waitForHttp, type HeraldProcess } from '../dev/processes';
import { eventually, useHarness } from './support/harness';

jest.setTimeout(180_000);

const PER_CUSTOMER = 3;
const MAX_STREAMS = 8;

const h = useHarness({ env: { HERALD_INBOX_STREAMS_PER_CUSTOMER: String(PER_CUSTOMER), HERALD_INBOX_STREAMS_MAX: String(MAX_STREAMS) } });

interface Stream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** What came so far (the error answer, for one that is not a stream). */
  text: string;
  /** The server ended the stream. */
  ended: boolean;
  close(): void;
}

const opened: Stream[] = [];

/** Opens a stream and waits for its first bytes (`retry:`), or for the whole answer when it is refused. */
function openStream(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false }, (res) => {
      const stream: Stream = { status: res.statusCode!, headers: res.headers, text: '', ended: false, close: () => req.destroy() };
      opened.push(stream);
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        stream.text += chunk;
        if (stream.status === 200) resolve(stream);
      });
      res.on('end', () => {
        stream.ended = true;
        resolve(stream);
      });
      res.on('error', () => undefined); // a stream this test closes
    });
    req.on('error', reject);
  });
}

const streamUrl = (customerId: string, apiUrl = h.stack.apiUrl) => `${apiUrl}/v1/customers/${customerId}/inbox/stream`;

async function tokenFor(customerId: string): Promise<string> {
  const minted = await h.api('POST', `/v1/customers/${customerId}/tokens`, { ttlSeconds: 600 });
  expect(minted.status).toBe(201);
  return minted.body.token as string;
}

async function readKey(name: string): Promise<{ id: string; key: string }> {
  const created = await h.api('POST', '/v1/api-keys', { name, scopes: ['read'] });
  expect(created.status).toBe(201);
  return { id: created.body.id as string, key: created.body.key as string };
}

async function openStreams(apiUrl = h.stack.apiUrl): Promise<number> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  const line = /^herald_inbox_streams_open (\d+)$/m.exec(text);
  expect(line).not.toBeNull();
  return Number(line![1]);
}

afterEach(async () => {
  for (const s of opened.splice(0)) s.close();
  await eventually(async () => expect(await openStreams()).toBe(0), 10_000);
});

test(`one customer's ${PER_CUSTOMER + 1}th stream ends its oldest, and the others stay open; a server key's stream counts too`, async () => {
  const token = await tokenFor('st-ada');
  const streams: Stream[] = [];
  for (let i = 0; i < PER_CUSTOMER + 1; i++) {
    const stream = await openStream(`${streamUrl('st-ada')}?access_token=${token}`);
    expect({ i, status: stream.status, first: stream.text }).toEqual({ i, status: 200, first: expect.stringContaining('retry:') });
    streams.push(stream);
  }
  // The first sees the end of its stream (an app that reconnected keeps working, and so does the new one).
  await eventually(() => expect(streams[0]!.ended).toBe(true), 10_000);
  expect(streams.slice(1).map((s) => s.ended)).toEqual([false, false, false]);
  expect(await openStreams()).toBe(PER_CUSTOMER);

  // The cap is the customer's, whichever credential opened them: a server key's stream ends the now oldest.
  const backend = await readKey('st-backend');
  const serverStream = await openStream(streamUrl('st-ada'), { authorization: `Bearer ${backend.key}` });
  expect(serverStream.status).toBe(200);
  await eventually(() => expect(streams[1]!.ended).toBe(true), 10_000);
  expect([...streams.slice(2), serverStream].map((s) => s.ended)).toEqual([false, false, false]);
  // Another customer's streams are not counted against this one.
  const bob = await openStream(`${streamUrl('st-bob')}?access_token=${await tokenFor('st-bob')}`);
  expect(bob.status).toBe(200);
  expect(await openStreams()).toBe(PER_CUSTOMER + 1);
  expect([...streams.slice(2), serverStream].map((s) => s.ended)).toEqual([false, false, false]);
});

test(`an instance with ${MAX_STREAMS} streams open answers the next 503 too_many_streams with Retry-After, until one closes`, async () => {
  const customers = ['st-c1', 'st-c2', 'st-c3'];
  const tokens = await Promise.all(customers.map(tokenFor));
  const streams: Stream[] = [];
  for (let i = 0; i < MAX_STREAMS; i++) {
    const stream = await openStream(`${streamUrl(customers[i % 3]!)}?access_token=${tokens[i % 3]}`);
    expect({ i, status: stream.status }).toEqual({ i, status: 200 });
    streams.push(stream);
  }

  const newcomer = `${streamUrl('st-c4')}?access_token=${await tokenFor('st-c4')}`;
  const refused = await openStream(newcomer);
  expect({ status: refused.status, retryAfter: refused.headers['retry-after'], body: JSON.parse(refused.text) }).toEqual({
    status: 503,
    retryAfter: '10',
    body: { error: { code: 'too_many_streams', message: 'this API instance has its most inbox streams open (HERALD_INBOX_STREAMS_MAX); retry in 10 s' } },
  });
  // A server key gets no more room than a token.
  const backend = await readKey('st-backend-full');
  expect((await openStream(streamUrl('st-c4'), { authorization: `Bearer ${backend.key}` })).status).toBe(503);
  // None of the open ones was ended to make room.
  expect(streams.map((s) => s.ended)).toEqual(Array(MAX_STREAMS).fill(false));
  expect(await openStreams()).toBe(MAX_STREAMS);

  streams[0]!.close();
  const admitted = await eventually(async () => {
    const stream = await openStream(newcomer);
    expect(stream.status).toBe(200);
    return stream;
  }, 10_000);
  expect(admitted.text).toContain('retry:');
});

test('a stream opened with a read key ends as soon as the key is revoked on the same instance', async () => {
  const revoked = await readKey('st-revoked');
  const kept = await readKey('st-kept');
  const token = await tokenFor('st-dan');
  const doomed = await openStream(streamUrl('st-dan'), { authorization: `Bearer ${revoked.key}` });
  const others = [
    await openStream(streamUrl('st-eve'), { authorization: `Bearer ${kept.key}` }),
    await openStream(`${streamUrl('st-dan')}?access_token=${token}`),
  ];
  expect([doomed, ...others].map((s) => s.status)).toEqual([200, 200, 200]);

  expect((await h.api('DELETE', `/v1/api-keys/${revoked.id}`)).status).toBe(204);
  // At once, not at the next re-check of open streams' keys.
  await eventually(() => expect(doomed.ended).toBe(true), AUTH_CACHE_TTL_MS / 2);
  expect(others.map((s) => s.ended)).toEqual([false, false]);
  expect((await openStream(streamUrl('st-dan'), { authorization: `Bearer ${revoked.key}` })).status).toBe(401);
});

describe('on another API instance', () => {
  let second: HeraldProcess | undefined;
  afterAll(async () => {
    await second?.stop();
  });

  test(`a stream of a key revoked elsewhere ends within AUTH_CACHE_TTL_MS (${AUTH_CACHE_TTL_MS} ms)`, async () => {
    const port = await freePort();
    second = spawnHeraldProcess('api', { ...h.stack.env, PORT: String(port) });
    const otherUrl = `http://127.0.0.1:${port}`;
    await waitForHttp(`${otherUrl}/readyz`, second, 90_000);

    const revoked = await readKey('st-revoked-elsewhere');
    const kept = await readKey('st-kept-elsewhere');
    const doomed = await openStream(streamUrl('st-fay', otherUrl), { authorization: `Bearer ${revoked.key}` });
    const other = await openStream(streamUrl('st-fay', otherUrl), { authorization: `Bearer ${kept.key}` });
    expect([doomed.status, other.status]).toEqual([200, 200]);

    const revokedAt = Date.now();
    expect((await h.api('DELETE', `/v1/api-keys/${revoked.id}`)).status).toBe(204);
    // Its next re-check (one lookup per key of an open stream), and the time its end takes to arrive.
    await eventually(() => expect(doomed.ended).toBe(true), AUTH_CACHE_TTL_MS + 3_000);
    expect(Date.now() - revokedAt).toBeLessThan(AUTH_CACHE_TTL_MS + 3_000);
    expect(other.ended).toBe(false);
    expect(await openStreams(otherUrl)).toBe(1);
  });
});
