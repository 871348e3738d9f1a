import type { Request, Response } from 'express';
import { INBOX_CHANNEL } from '../../store/inbox';
import type { Db } from '../../lib/db';
import { Prisma } from '../../lib/db';
import type { Logger } from '../../lib/logger';
import { receiptToken } from '../../lib/receipt-tokens';
import type { SigningKey } from '../../lib/signing-keys';
import { invalidCursor } from '../paging';
import { bearerHash } from '../auth';
import { HttpError } from '../errors';
import type { InboxHub, InboxHubEvent } from '../inbox-hub';
import { STREAMS_FULL_RETRY_AFTER_SECONDS, tooManyStreams, type InboxStreams } from '../inbox-streams';
import { inboxItemResponse, inboxPageResponse, inboxReadAllResponse, type InboxItemView } from '../response-schemas';
import { defineRoute, type Route } from '../route';
import { customerPath, inboxMessagePath, inboxQuerySchema } from '../schemas';

type InboxMessageRow = Prisma.InboxMessageGetPayload<object>;

/** A message as the app reads it; with HERALD_RECEIPT_SECRET's keys, the receipt token its notification's receipts need. */
export function inboxView(m: InboxMessageRow, receiptKeys: readonly SigningKey[] = []): InboxItemView {
  return {
    messageId: m.id,
    notificationId: m.notificationId,
    orderId: m.orderId,
    category: m.category,
    title: m.title,
    body: m.body,
    data: m.data,
    createdAt: m.createdAt,
    readAt: m.readAt,
    receiptToken: m.notificationId && receiptKeys.length > 0 ? receiptToken(receiptKeys, m.notificationId) : null,
  };
}

/** A position in the list: unread messages come first, then read ones, each newest first. */
interface InboxCursor {
  unread: boolean;
  createdAt: Date;
  id: string;
}

const encodeCursor = (m: InboxMessageRow) =>
  Buffer.from(JSON.stringify([m.readAt === null ? 1 : 0, m.createdAt.toISOString(), m.id])).toString('base64url');

function decodeCursor(cursor: string): InboxCursor {
  try {
    const [unread, createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown, unknown];
    const date = new Date(createdAt as string);
    if ((unread !== 0 && unread !== 1) || typeof createdAt !== 'string' || typeof id !== 'string' || id.includes('\u0000') || Number.isNaN(date.getTime())) {
      throw new Error('bad cursor');
    }
    return { unread: unread === 1, createdAt: date, id };
  } catch {
    throw invalidCursor();
  }
}


const newestFirst = [{ createdAt: 'desc' }, { id: 'desc' }] satisfies Prisma.InboxMessageOrderByWithRelationInput[];
const olderThan = (c: InboxCursor): Prisma.InboxMessageWhereInput => ({
  OR: [{ createdAt: { lt: c.createdAt } }, { createdAt: c.createdAt, id: { lt: c.id } }],
});

/** Interval of the `: keep-alive` comment on open streams. */
const KEEP_ALIVE_MS = 15_000;

/** The in-app inbox: the list (unread first), marking read, and a Server-Sent Events stream of changes. */
export const inboxRoutes: Route[] = [
  defineRoute({
    method: 'get',
    path: '/v1/customers/{customerId}/inbox',
    operationId: 'listInbox',
    tag: 'Inbox',
    summary: 'The in-app inbox: unread first, then newest',
    scope: 'read',
    customer: { param: 'customerId' },
    params: customerPath,
    query: inboxQuerySchema,
    responses: { 200: { description: 'A page of messages, and how many are unread.', body: inboxPageResponse } },
    handler: async ({ params: { customerId }, query: { limit, cursor, unread } }, { db, receiptKeys }) => {
      const after = cursor ? decodeCursor(cursor) : null;
      const take = limit + 1;

      const unreadCount = db.inboxMessage.count({ where: { customerId, readAt: null } });
      // Two ranges, each served by the (customerId, readAt, createdAt, id) index: unread, then read.
      const rows: InboxMessageRow[] = [];
      if (unread !== 'false' && (!after || after.unread)) {
        rows.push(
          ...(await db.inboxMessage.findMany({
            where: { customerId, readAt: null, ...(after ? olderThan(after) : {}) },
            orderBy: newestFirst,
            take,
          })),
        );
      }
      if (unread !== 'true' && rows.length < take) {
        const seen = new Set(rows.map((r) => r.id)); // one marked read between the two queries is listed once
        const read = await db.inboxMessage.findMany({
          where: { customerId, readAt: { not: null }, ...(after && !after.unread ? olderThan(after) : {}) },
          orderBy: newestFirst,
          take: take - rows.length,
        });
        rows.push(...read.filter((r) => !seen.has(r.id)));
      }
      const items = rows.slice(0, limit);
      return {
        status: 200,
        body: {
          items: items.map((m) => inboxView(m, receiptKeys)),
          nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]!) : null,
          unreadCount: await unreadCount,
        },
      };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/customers/{customerId}/inbox/read-all',
    operationId: 'readAllInbox',
    tag: 'Inbox',
    summary: "Mark all of a customer's messages read",
    scope: 'ingest',
    customer: { param: 'customerId' },
    params: customerPath,
    responses: { 200: { description: 'How many messages this marked read.', body: inboxReadAllResponse } },
    handler: async ({ params: { customerId } }, { db }) => {
      const [result] = await db.$queryRaw<Array<{ updated: number }>>`
        WITH updated AS (
          UPDATE "InboxMessage" SET "readAt" = now() WHERE "customerId" = ${customerId} AND "readAt" IS NULL RETURNING id
        )
        SELECT count(*)::int AS updated,
          CASE WHEN count(*) > 0 THEN pg_notify(${INBOX_CHANNEL},
            json_build_object('kind', 'read', 'customerId', ${customerId}::text, 'all', true)::text)::text END AS notified
        FROM updated`;
      return { status: 200, body: { updated: result?.updated ?? 0 } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/customers/{customerId}/inbox/{messageId}/read',
    operationId: 'readInboxMessage',
    tag: 'Inbox',
    summary: 'Mark one message read',
    description: 'Marking a message read again has no further effect, and answers the same readAt.',
    scope: 'ingest',
    customer: { param: 'customerId' },
    params: inboxMessagePath,
    responses: { 200: { description: 'The message.', body: inboxItemResponse } },
    errors: { 404: 'The customer has no such message.' },
    handler: async ({ params: { customerId, messageId } }, { db, receiptKeys }) => {
      // Only an unread message changes (and is announced); reading it again answers the same readAt.
      await db.$queryRaw`
        WITH updated AS (
          UPDATE "InboxMessage" SET "readAt" = now()
          WHERE id = ${messageId} AND "customerId" = ${customerId} AND "readAt" IS NULL
          RETURNING id, "customerId"
        )
        SELECT id, pg_notify(${INBOX_CHANNEL},
          json_build_object('kind', 'read', 'customerId', "customerId", 'messageId', id)::text)::text AS notified
        FROM updated`;
      const message = await db.inboxMessage.findFirst({ where: { id: messageId, customerId } });
      if (!message) throw new HttpError(404, 'not_found', `no inbox message ${messageId} for customer ${customerId}`);
      return { status: 200, body: inboxView(message, receiptKeys) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/customers/{customerId}/inbox/stream',
    operationId: 'streamInbox',
    tag: 'Inbox',
    summary: 'Server-sent events of inbox changes',
    description:
      '`message` events (data: an InboxItem, id: its messageId) when a message arrives, `read` events when messages are read. ' +
      'Send `Last-Event-ID` to replay what was missed. The stream stays open; a `: keep-alive` comment comes every 15 s. ' +
      'It ends when its customer token expires or its API key is revoked, and when it is the oldest of its customer\'s ' +
      'streams and one beyond `HERALD_INBOX_STREAMS_PER_CUSTOMER` (5) opens.',
    scope: 'read',
    // A browser's EventSource cannot send an Authorization header: its token may come as ?access_token=.
    customer: { param: 'customerId', tokenInQuery: true },
    params: customerPath,
    headers: [
      {
        name: 'Last-Event-ID',
        description: 'The id of the last `message` event received: the stream starts with the messages created after it.',
        required: false,
        schema: { type: 'string', maxLength: 200 },
      },
    ],
    responses: { 200: { description: 'The event stream.', content: { mediaType: 'text/event-stream', schema: { type: 'string' } } } },
    errors: {
      503:
        'The server is stopping (`unavailable`), or this API instance has `HERALD_INBOX_STREAMS_MAX` (10,000) streams open ' +
        '(`too_many_streams`, with `Retry-After`); reconnect in a moment.',
    },
    errorHeaders: {
      503: { 'Retry-After': { description: 'With `too_many_streams`: whole seconds to wait before reconnecting.', schema: { type: 'integer', minimum: 1 } } },
    },
    handler: async ({ params: { customerId }, req, res }, { db, inbox, inboxStreams, logger, receiptKeys }) => {
      await openStream({ db, hub: inbox, streams: inboxStreams, logger, keepAliveMs: KEEP_ALIVE_MS, receiptKeys }, customerId, req, res);
    },
  }),
];

/** Most messages one catch-up sends (a client further behind reloads the list). */
const MAX_CATCH_UP = 500;
const CATCH_UP_PAGE = 100;
/** A client this far behind in reading is cut off; it reconnects with Last-Event-ID. */
const MAX_BUFFERED_BYTES = 1 << 20;
/** Message ids a stream remembers having sent, so a catch-up does not repeat them. */
const MAX_REMEMBERED = 1000;

/**
 * One customer's stream. Every step (the Last-Event-ID replay, live changes, catch-ups after the hub
 * reconnects) runs in order on one chain, and message ids already sent are skipped.
 */
async function openStream(
  { db, hub, streams, logger, keepAliveMs, receiptKeys }: { db: Db; hub: InboxHub; streams: InboxStreams; logger: Logger; keepAliveMs: number; receiptKeys?: readonly SigningKey[] },
  customerId: string,
  req: Request,
  res: Response,
): Promise<void> {
  const full = () => {
    res.set('Retry-After', String(STREAMS_FULL_RETRY_AFTER_SECONDS));
    return tooManyStreams();
  };
  // Refused before it costs a subscription and a query; counted (and checked again) once it is about to start.
  if (streams.full) throw full();
  const log = logger.child({ component: 'inbox-stream', customerId });
  const lastEventId = req.header('last-event-id')?.trim() || null;
  let open = true;
  let started!: () => void;
  let chain = new Promise<void>((resolve) => (started = resolve));
  const enqueue = (step: () => Promise<void>) => {
    chain = chain.then(() => (open ? step() : undefined)).catch((err: unknown) => {
      log.error({ err }, 'inbox stream failed; closing it (the client reconnects with Last-Event-ID)');
      end();
    });
  };
  // Subscribe before reading the starting point, so nothing committed in between is missed.
  const unsubscribe = hub.subscribe(customerId, (event) => enqueue(() => handle(event)), () => end());
  let keepAlive: NodeJS.Timeout | undefined;
  // A customer token's stream ends when the token does: the client reconnects with a fresh one.
  const principal = req.principal;
  const expiry = principal?.kind === 'customer' ? setTimeout(() => end(), Math.max(0, principal.expiresAt.getTime() - Date.now())) : undefined;
  let release: (() => void) | null = null;
  function end(): void {
    if (!open) return;
    open = false;
    release?.();
    unsubscribe();
    clearInterval(keepAlive);
    clearTimeout(expiry);
    if (res.headersSent && !res.writableEnded) res.end();
  }
  res.on('close', end);

  /** Newest message sent; catch-ups send what was created since (and not sent yet). */
  let since: Date;
  const sent = new Set<string>();
  try {
    const [start] = await db.$queryRaw<Array<{ now: Date; lastCreatedAt: Date | null }>>`
      SELECT now() AS now,
        (SELECT "createdAt" FROM "InboxMessage" WHERE id = ${lastEventId ?? ''} AND "customerId" = ${customerId}) AS "lastCreatedAt"`;
    since = start!.lastCreatedAt ?? start!.now;
    if (start!.lastCreatedAt && lastEventId) sent.add(lastEventId);
  } catch (err) {
    end();
    throw err;
  }
  if (!open) {
    if (res.destroyed) return; // the client went away meanwhile
    throw new HttpError(503, 'unavailable', 'the server is stopping; reconnect in a moment');
  }
  // A server key's stream ends when the key is revoked: it is looked up again by the hash of the header that brought it.
  const keyHash = principal && principal.kind !== 'customer' ? bearerHash(req) : undefined;
  release = streams.add({ customerId, key: principal && keyHash ? { keyId: principal.keyId, hash: keyHash } : null }, end);
  if (!release) {
    end();
    throw full();
  }

  res.status(200);
  res.set({
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    // Not reused after the stream: ending the stream (or the server closing) closes the connection.
    connection: 'close',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
  write('retry: 3000\n\n');
  keepAlive = setInterval(() => write(': keep-alive\n\n'), keepAliveMs);
  if (sent.size > 0) enqueue(catchUp); // Last-Event-ID: replay what was created after it
  started();

  function write(chunk: string): void {
    if (!open || res.writableEnded) return;
    res.write(chunk);
    if (res.writableLength > MAX_BUFFERED_BYTES) {
      log.warn('inbox stream client is not reading; closing the stream');
      end();
    }
  }

  function sendMessage(m: InboxMessageRow): void {
    if (sent.has(m.id)) return;
    sent.add(m.id);
    if (sent.size > MAX_REMEMBERED) sent.delete(sent.values().next().value!);
    if (m.createdAt > since) since = m.createdAt;
    write(`id: ${m.id}\nevent: message\ndata: ${JSON.stringify(inboxView(m, receiptKeys))}\n\n`);
  }

  async function catchUp(): Promise<void> {
    const from = since;
    let after: { createdAt: Date; id: string } | null = null;
    for (let total = 0; total < MAX_CATCH_UP; ) {
      const page: InboxMessageRow[] = await db.inboxMessage.findMany({
        where: after
          ? { customerId, OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }] }
          : { customerId, createdAt: { gte: from } },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        take: Math.min(CATCH_UP_PAGE, MAX_CATCH_UP - total),
      });
      for (const m of page) if (open) sendMessage(m);
      total += page.length;
      if (page.length < CATCH_UP_PAGE || !open) return;
      after = page[page.length - 1]!;
    }
  }

  async function handle(event: InboxHubEvent): Promise<void> {
    switch (event.kind) {
      case 'resync':
        return catchUp();
      case 'created': {
        if (sent.has(event.messageId)) return;
        const message = await db.inboxMessage.findFirst({ where: { id: event.messageId, customerId } });
        if (message && open) sendMessage(message);
        return;
      }
      case 'read':
        write(`event: read\ndata: ${JSON.stringify('all' in event ? { all: true } : { messageId: event.messageId })}\n\n`);
        return;
    }
  }
}
