// The in-app inbox on the real stack: messages are added with the addToInbox activity (the workflow does
// not call it yet), read through the API, and pushed over Server-Sent Events from the API process's
// LISTEN connection.
import { createInboxActivities, type AddToInboxInput } from '../activities/inbox';
import { eventually, startHarness, type Harness } from './support/harness';

let h: Harness;
let inbox: ReturnType<typeof createInboxActivities>;
let seq = 0;
const streams: SseStream[] = [];

beforeAll(async () => {
  h = await startHarness();
  inbox = createInboxActivities(h.db);
  for (const customerId of ['inbox-ada', 'inbox-bob', 'inbox-read', 'inbox-sse']) {
    expect((await h.api('PUT', `/v1/customers/${customerId}`, { name: customerId })).status).toBe(201);
  }
}, 180_000);

afterAll(async () => {
  await Promise.all(streams.map((s) => s.close()));
  await h?.stop();
}, 60_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function add(customerId: string, overrides: Partial<AddToInboxInput> = {}) {
  const n = ++seq;
  const input: AddToInboxInput = {
    notificationId: `inbox-notif-${n}`,
    customerId,
    orderId: `ord-inbox-${n}`,
    category: 'transactional',
    title: `Title ${n}`,
    body: `Body ${n}`,
    data: { n },
    ...overrides,
  };
  const result = await inbox.addToInbox(input);
  await sleep(5); // distinct createdAt (millisecond precision), so the expected order is unambiguous
  return { ...result, input };
}

interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

interface SseStream {
  status: number;
  headers: Headers;
  events: SseEvent[];
  comments: string[];
  retry: number | null;
  waitFor(predicate: (e: SseEvent) => boolean, timeoutMs?: number): Promise<SseEvent>;
  close(): Promise<void>;
}

/** Opens the stream with fetch and parses the event stream as it arrives. */
async function openStream(customerId: string, options: { lastEventId?: string; key?: string } = {}): Promise<SseStream> {
  const controller = new AbortController();
  const res = await fetch(`${h.stack.apiUrl}/v1/customers/${customerId}/inbox/stream`, {
    headers: {
      authorization: `Bearer ${options.key ?? h.adminKey}`,
      accept: 'text/event-stream',
      ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}),
    },
    signal: controller.signal,
  });
  const stream: SseStream = {
    status: res.status,
    headers: res.headers,
    events: [],
    comments: [],
    retry: null,
    waitFor: (predicate, timeoutMs = 30_000) =>
      eventually(
        () => {
          const found = stream.events.find(predicate);
          expect(found).toBeDefined();
          return found!;
        },
        timeoutMs,
        50,
      ),
    close: async () => {
      controller.abort();
      await pump;
    },
  };
  streams.push(stream);
  const parse = (block: string) => {
    const event: SseEvent = { event: 'message', data: '' };
    let hasData = false;
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith(':')) {
        stream.comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event.event = value;
      else if (field === 'id') event.id = value;
      else if (field === 'retry') stream.retry = Number(value);
      else if (field === 'data') {
        event.data = hasData ? `${event.data}\n${value}` : value;
        hasData = true;
      }
    }
    if (hasData) stream.events.push(event);
  };
  const pump = (async () => {
    if (!res.body) return;
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
          parse(buffer.slice(0, end));
          buffer = buffer.slice(buffer.slice(end).match(/^\r?\n\r?\n/)![0].length + end);
        }
      }
    } catch {
      // aborted
    }
  })();
  return stream;
}

const messageEvent = (messageId: string) => (e: SseEvent) => e.event === 'message' && e.id === messageId;

test('the inbox lists unread messages first, then read ones, newest first, in pages, with the unread count', async () => {
  const m = [];
  for (let i = 0; i < 5; i++) m.push(await add('inbox-ada', { category: i === 4 ? 'marketing' : 'transactional' }));
  await add('inbox-bob'); // another customer's message never shows up
  for (const read of [m[1]!, m[3]!]) expect((await h.api('POST', `/v1/customers/inbox-ada/inbox/${read.messageId}/read`)).status).toBe(200);
  const expected = [m[4], m[2], m[0], m[3], m[1]].map((x) => x!.messageId);

  const all = await h.api('GET', '/v1/customers/inbox-ada/inbox');
  expect(all.status).toBe(200);
  expect(all.body.items.map((i: any) => i.messageId)).toEqual(expected);
  expect(all.body).toMatchObject({ unreadCount: 3, nextCursor: null });
  expect(all.body.items[0]).toEqual({
    messageId: m[4]!.messageId,
    notificationId: m[4]!.input.notificationId,
    orderId: m[4]!.input.orderId,
    category: 'marketing',
    title: m[4]!.input.title,
    body: m[4]!.input.body,
    data: m[4]!.input.data,
    createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    readAt: null,
    // What the app echoes when it reports a receipt for the message's notification.
    receiptToken: expect.stringMatching(/^local\.[A-Za-z0-9_-]{43}$/),
  });
  expect(all.body.items[3].readAt).toEqual(expect.any(String));

  // Pages of two: the second page crosses from unread to read.
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const page: any = await h.api('GET', `/v1/customers/inbox-ada/inbox?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    expect(page.status).toBe(200);
    expect(page.body.unreadCount).toBe(3);
    pages.push(page.body.items.map((i: any) => i.messageId));
    cursor = page.body.nextCursor;
  } while (cursor);
  expect(pages).toEqual([expected.slice(0, 2), expected.slice(2, 4), expected.slice(4)]);

  const unread = await h.api('GET', '/v1/customers/inbox-ada/inbox?unread=true');
  expect(unread.body.items.map((i: any) => i.messageId)).toEqual(expected.slice(0, 3));
  const read = await h.api('GET', '/v1/customers/inbox-ada/inbox?unread=false&limit=1');
  expect(read.body.items.map((i: any) => i.messageId)).toEqual([expected[3]]);
  const readNext = await h.api('GET', `/v1/customers/inbox-ada/inbox?unread=false&limit=1&cursor=${read.body.nextCursor}`);
  expect(readNext.body).toMatchObject({ items: [{ messageId: expected[4] }], nextCursor: null, unreadCount: 3 });

  // Adding the same notification again changes nothing.
  const again = await inbox.addToInbox(m[0]!.input);
  expect(again).toEqual({ messageId: m[0]!.messageId, created: false });
  expect((await h.api('GET', '/v1/customers/inbox-ada/inbox')).body.items).toHaveLength(5);

  const badCursor = await h.api('GET', '/v1/customers/inbox-ada/inbox?cursor=garbage');
  expect(badCursor.status).toBe(400);
  expect(badCursor.body.error).toMatchObject({ code: 'validation_failed', fields: [{ field: 'cursor' }] });
  const badUnread = await h.api('GET', '/v1/customers/inbox-ada/inbox?unread=maybe&limit=0');
  expect(badUnread.status).toBe(400);
  expect(badUnread.body.error.fields.map((f: any) => f.field).sort()).toEqual(['limit', 'unread']);
  expect((await h.api('GET', '/v1/customers/bad%20id/inbox')).status).toBe(400);
});

test('marking read is idempotent, read-all marks the rest, and another customer’s message is a 404', async () => {
  const [a, b, c] = [await add('inbox-read'), await add('inbox-read'), await add('inbox-read')];
  const bobs = await add('inbox-bob');

  const first = await h.api('POST', `/v1/customers/inbox-read/inbox/${a.messageId}/read`);
  expect(first.status).toBe(200);
  expect(first.body).toMatchObject({ messageId: a.messageId, readAt: expect.any(String) });
  await sleep(20);
  const second = await h.api('POST', `/v1/customers/inbox-read/inbox/${a.messageId}/read`);
  expect(second).toEqual(first);
  expect((await h.api('GET', '/v1/customers/inbox-read/inbox')).body.unreadCount).toBe(2);

  const foreign = await h.api('POST', `/v1/customers/inbox-read/inbox/${bobs.messageId}/read`);
  expect(foreign.status).toBe(404);
  expect(foreign.body.error).toMatchObject({ code: 'not_found' });
  expect((await h.api('POST', '/v1/customers/inbox-read/inbox/no-such-message/read')).status).toBe(404);
  expect((await h.api('GET', '/v1/customers/inbox-bob/inbox?unread=true')).body.items.map((i: any) => i.messageId)).toContain(bobs.messageId);

  expect(await h.api('POST', '/v1/customers/inbox-read/inbox/read-all')).toEqual({ status: 200, body: { updated: 2 } });
  expect(await h.api('POST', '/v1/customers/inbox-read/inbox/read-all')).toEqual({ status: 200, body: { updated: 0 } });
  const after = await h.api('GET', '/v1/customers/inbox-read/inbox');
  expect(after.body.unreadCount).toBe(0);
  expect(after.body.items.every((i: any) => i.readAt !== null)).toBe(true);
  // read-all leaves the earlier readAt alone.
  expect(after.body.items.find((i: any) => i.messageId === a.messageId).readAt).toBe(first.body.readAt);
  expect(after.body.items.map((i: any) => i.messageId).sort()).toEqual([a, b, c].map((x) => x.messageId).sort());
});

test('a read key lists and streams but cannot mark read; an ingest key cannot list', async () => {
  const message = await add('inbox-bob');
  const reader = await h.api('POST', '/v1/api-keys', { name: 'inbox reader', scopes: ['read'] });
  const ingester = await h.api('POST', '/v1/api-keys', { name: 'inbox writer', scopes: ['ingest'] });
  expect([reader.status, ingester.status]).toEqual([201, 201]);

  expect((await h.api('GET', '/v1/customers/inbox-bob/inbox', undefined, reader.body.key)).status).toBe(200);
  const denied = await h.api('POST', `/v1/customers/inbox-bob/inbox/${message.messageId}/read`, undefined, reader.body.key);
  expect(denied.status).toBe(403);
  expect(denied.body.error).toMatchObject({ code: 'forbidden' });
  expect((await h.api('POST', '/v1/customers/inbox-bob/inbox/read-all', undefined, reader.body.key)).status).toBe(403);
  expect((await h.api('GET', '/v1/customers/inbox-bob/inbox', undefined, ingester.body.key)).status).toBe(403);
  expect((await h.api('GET', '/v1/customers/inbox-bob/inbox/stream', undefined, ingester.body.key)).status).toBe(403);
  expect((await h.api('GET', '/v1/customers/inbox-bob/inbox/stream', undefined, 'hk_not_a_key')).status).toBe(401);
  expect((await h.api('POST', `/v1/customers/inbox-bob/inbox/${message.messageId}/read`, undefined, ingester.body.key)).status).toBe(200);

  const stream = await openStream('inbox-bob', { key: reader.body.key });
  expect(stream.status).toBe(200);
  await stream.close();
});

test('the stream pushes new messages and reads, and replays what was missed after Last-Event-ID', async () => {
  const stream = await openStream('inbox-sse');
  expect(stream.status).toBe(200);
  expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
  expect(stream.headers.get('cache-control')).toContain('no-cache');
  await eventually(() => expect(stream.retry).toBe(3000), 30_000, 50);

  const first = await add('inbox-sse', { data: { trackingNumber: '1Z999', nested: { ok: true } } });
  const pushed = await stream.waitFor(messageEvent(first.messageId));
  const listed = (await h.api('GET', '/v1/customers/inbox-sse/inbox')).body.items[0];
  expect(JSON.parse(pushed.data)).toEqual(listed);
  expect(listed).toMatchObject({ messageId: first.messageId, data: { trackingNumber: '1Z999', nested: { ok: true } }, readAt: null });

  expect((await h.api('POST', `/v1/customers/inbox-sse/inbox/${first.messageId}/read`)).status).toBe(200);
  const read = await stream.waitFor((e) => e.event === 'read');
  expect(JSON.parse(read.data)).toEqual({ messageId: first.messageId });

  // Another customer's message is not sent; this customer's next one is, and read-all is announced.
  const others = await add('inbox-bob');
  const second = await add('inbox-sse');
  await stream.waitFor(messageEvent(second.messageId));
  expect(await h.api('POST', '/v1/customers/inbox-sse/inbox/read-all')).toEqual({ status: 200, body: { updated: 1 } });
  const readAll = await stream.waitFor((e) => e.event === 'read' && JSON.parse(e.data).all === true);
  expect(JSON.parse(readAll.data)).toEqual({ all: true });
  expect(stream.events.some((e) => e.id === others.messageId)).toBe(false);
  expect(stream.events.filter((e) => e.event === 'message').map((e) => e.id)).toEqual([first.messageId, second.messageId]);
  await stream.close();

  // Disconnected: two messages arrive. Reconnecting with the last id seen replays them, in order, and only them.
  const missed = [await add('inbox-sse'), await add('inbox-sse')];
  const resumed = await openStream('inbox-sse', { lastEventId: second.messageId });
  for (const m of missed) await resumed.waitFor(messageEvent(m.messageId));
  expect(resumed.events.map((e) => e.id)).toEqual(missed.map((m) => m.messageId));
  expect(JSON.parse(resumed.events[0]!.data)).toMatchObject({ messageId: missed[0]!.messageId, title: missed[0]!.input.title, readAt: null });
  // ...and then it is live.
  const live = await add('inbox-sse');
  await resumed.waitFor(messageEvent(live.messageId));
  expect(resumed.events.filter((e) => e.event === 'message')).toHaveLength(3);

  // An unknown Last-Event-ID replays nothing and the stream is still live.
  const unknown = await openStream('inbox-sse', { lastEventId: 'not-a-message' });
  await eventually(() => expect(unknown.retry).toBe(3000), 30_000, 50);
  const later = await add('inbox-sse');
  await unknown.waitFor(messageEvent(later.messageId));
  expect(unknown.events.map((e) => e.id)).toEqual([later.messageId]);
  await Promise.all([resumed.close(), unknown.close()]);
});

test('a stream catches up on what it missed while the API lost its LISTEN connection', async () => {
  const stream = await openStream('inbox-sse');
  await eventually(() => expect(stream.retry).toBe(3000), 30_000, 50);
  const hubBackends = async () =>
    (await h.db.$queryRaw<Array<{ pid: number }>>`SELECT pid FROM pg_stat_activity WHERE application_name = 'herald-inbox-hub'`).map((r) => r.pid);
  const [pid] = await hubBackends();
  expect(pid).toBeDefined();
  await h.db.$queryRaw`SELECT pg_terminate_backend(${pid}::int)::text AS terminated`;
  await eventually(async () => expect(await hubBackends()).not.toContain(pid), 30_000, 20);
  const missed = await add('inbox-sse'); // most likely while the hub is reconnecting (its NOTIFY goes unheard)
  await stream.waitFor(messageEvent(missed.messageId));
  await eventually(async () => expect(await hubBackends()).toHaveLength(1));
  const next = await add('inbox-sse');
  await stream.waitFor(messageEvent(next.messageId));
  expect(stream.events.map((e) => e.id)).toEqual([missed.messageId, next.messageId]);
  await stream.close();
});
