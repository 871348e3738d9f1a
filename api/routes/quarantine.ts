import { CRITICAL_STATUSES } from '../../domain';
import { Prisma } from '../../lib/db';
import type { ApiServices } from '../app';
import { HttpError } from '../errors';
import { invalidCursor } from '../paging';
import { loadSource } from '../sources/config';
import { parseShopifyJson } from '../sources/shopify';
import { bulkReplay, filterWhere, notOpen, replayRejected, rejectedColumns, BULK_REPLAY_MAX, type RejectedRow, type ReplayIngest } from '../quarantine';
import { bulkFilter, bulkReplaySchema, listFilter, rejectedEventListQuerySchema, rejectedEventPatchSchema, rejectedEventPath } from '../quarantine-schemas';
import {
  bulkReplayResponse,
  rejectedEventPageResponse,
  rejectedEventReplayRefusedResponse,
  rejectedEventReplayResponse,
  rejectedEventResponse,
  type RejectedEventView,
} from '../response-schemas';
import { defineRoute, type Route } from '../route';
import { REJECTION_REASONS, type RejectionReason } from '../sources/rejections';
import { storableTime } from '../timeline';

const TAG = 'Quarantine';

/**
 * How replays reach intake: through the pipeline that took the event first (its 'replay' keeps no second rejected row).
 * A row of POST /v1/order-events (or the canonical Kafka topic) as the canonical format; a row of a configured source
 * through its adapter, status map and profile again, with the headers kept from the request and without the signature
 * (it was checked when the payload came; a fix is the operator's word).
 */
const replayIngest = ({ pipeline, db }: ApiServices): ReplayIngest => {
  return async (row) => {
    const source = row.sourceId ? await loadSource(db, row.sourceId) : null;
    if (row.sourceId && !source) {
      const fields = [{ field: 'sourceId', reason: `source ${row.sourceId} is no longer configured` }];
      return { outcome: 'rejected', code: 'source_not_found', message: `no source ${row.sourceId}: configure it again to replay its events`, fields, reason: 'invalid_field' };
    }
    // A payload kept as text (it was not JSON) replays as that text; a fixed one as its JSON.
    const text = typeof row.payload === 'string' ? row.payload : JSON.stringify(row.payload ?? null);
    let payload: unknown;
    try {
      payload = parseShopifyJson(text);
    } catch {
      payload = undefined;
    }
    const headers = (row.headers && typeof row.headers === 'object' ? row.headers : {}) as Record<string, string | undefined>;
    try {
      const outcome = await pipeline.ingest(source, { body: Buffer.from(text), payload, headers }, 'replay');
      if (outcome.outcome === 'accepted') return outcome;
      if (outcome.outcome === 'ignored') return { outcome: 'ignored', reason: outcome.reason };
      return { outcome: 'rejected', code: outcome.code, message: outcome.message, fields: outcome.fields, reason: outcome.reason };
    } catch (err) {
      if (err instanceof HttpError && err.status === 409) return { outcome: 'rejected', code: err.code, message: err.message, fields: err.fields ?? [], reason: 'invalid_field' };
      throw err;
    }
  };
};

export function rejectedView(r: RejectedRow): RejectedEventView {
  return {
    rejectedEventId: r.id,
    source: r.source,
    sourceId: r.sourceId,
    eventId: r.eventId,
    orderId: r.orderId,
    status: r.status,
    critical: r.critical,
    reason: (REJECTION_REASONS as readonly string[]).includes(r.reason) ? (r.reason as RejectionReason) : 'invalid_field',
    state: r.state === 'replayed' || r.state === 'discarded' ? r.state : 'open',
    // Kept as the 400 named them; anything else in the column is shown as text rather than dropped.
    errors: (Array.isArray(r.errors) ? r.errors : []).map((e) => {
      const f = (e && typeof e === 'object' ? e : {}) as { field?: unknown; reason?: unknown };
      return { field: String(f.field ?? '(body)'), reason: String(f.reason ?? JSON.stringify(e)) };
    }),
    payload: r.payload,
    originalPayload: r.originalPayload,
    headers: r.headers && typeof r.headers === 'object' && !Array.isArray(r.headers) ? (r.headers as Record<string, unknown>) : null,
    receivedAt: r.receivedAt,
    updatedAt: r.updatedAt,
    replayCount: r.replayCount,
    lastReplayAt: r.lastReplayAt,
    replayedAt: r.replayedAt,
    replayedEventId: r.replayedEventId,
  };
}

/** Opaque cursor of the critical-first, newest-first list: (critical, receivedAt, id); a position, so valid whatever the filters. */
const encodeRejectedCursor = (r: RejectedRow): string => Buffer.from(JSON.stringify([r.critical, r.receivedAt.toISOString(), r.id])).toString('base64url');

function decodeRejectedCursor(cursor: string): { critical: boolean; receivedAt: Date; id: string } {
  try {
    const [critical, at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown, unknown];
    const receivedAt = new Date(at as string);
    const bad = typeof critical !== 'boolean' || typeof at !== 'string' || typeof id !== 'string' || id.includes('\u0000') || Number.isNaN(receivedAt.getTime());
    if (bad || !storableTime(receivedAt)) throw new Error('bad cursor');
    return { critical, receivedAt, id };
  } catch {
    throw invalidCursor();
  }
}

/** Rows after the cursor in (critical desc, receivedAt desc, id desc) order. */
function afterRejected(c: { critical: boolean; receivedAt: Date; id: string }): Prisma.RejectedEventWhereInput {
  const older: Prisma.RejectedEventWhereInput = {
    critical: c.critical,
    OR: [{ receivedAt: { lt: c.receivedAt } }, { receivedAt: c.receivedAt, id: { lt: c.id } }],
  };
  return c.critical ? { OR: [older, { critical: false }] } : older;
}

async function findRejected(db: ApiServices['db'], id: string): Promise<RejectedRow> {
  const row = await db.rejectedEvent.findUnique({ where: { id } });
  if (!row) throw new HttpError(404, 'not_found', `no rejected event ${id}`);
  return row;
}

const REPLAYED_409 = '`already_replayed`: a replay of it was accepted already (nothing is sent twice). `rejected_event_discarded`: it is discarded; PATCH its state to open first.';

/** Rejected events kept to be fixed and replayed: list, read, fix or discard, replay one, replay many. */
export const quarantineRoutes: Route[] = [
  defineRoute({
    method: 'get',
    path: '/v1/rejected-events',
    operationId: 'listRejectedEvents',
    tag: TAG,
    summary: 'Order events that failed validation: critical first, then newest',
    description:
      'What intake refused (400), kept with every field error, its reason and the payload as it came. Those whose status is a critical ' +
      `one (${[...CRITICAL_STATUSES].join(', ')}) come first: a customer is waiting to hear. Open ones only unless \`?status=\` says ` +
      'otherwise; filtered by source, reason, the status sent, criticality and time received; cursor-paginated (the cursor holds whatever ' +
      'the filters), with the `total` that match.',
    scope: 'read',
    query: rejectedEventListQuerySchema,
    responses: { 200: { description: 'A page of rejected events.', body: rejectedEventPageResponse } },
    handler: async ({ query }, { db }) => {
      const after = query.cursor ? decodeRejectedCursor(query.cursor) : null;
      const where = filterWhere(listFilter(query));
      const [rows, total] = await Promise.all([
        db.rejectedEvent.findMany({
          where: after ? { AND: [where, afterRejected(after)] } : where,
          orderBy: [{ critical: 'desc' }, { receivedAt: 'desc' }, { id: 'desc' }],
          take: query.limit + 1,
        }),
        db.rejectedEvent.count({ where }),
      ]);
      const items = rows.slice(0, query.limit);
      return {
        status: 200,
        body: { items: items.map(rejectedView), nextCursor: rows.length > query.limit ? encodeRejectedCursor(items[items.length - 1]!) : null, total },
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/rejected-events/{id}',
    operationId: 'getRejectedEvent',
    tag: TAG,
    summary: 'One rejected event: its errors, payload, state and replays',
    scope: 'read',
    params: rejectedEventPath,
    responses: { 200: { description: 'The rejected event.', body: rejectedEventResponse } },
    errors: { 404: 'No such rejected event.' },
    handler: async ({ params: { id } }, { db }) => ({ status: 200, body: rejectedView(await findRejected(db, id)) }),
  }),
  defineRoute({
    method: 'patch',
    path: '/v1/rejected-events/{id}',
    operationId: 'updateRejectedEvent',
    tag: TAG,
    summary: 'Fix a rejected event’s payload, or discard it',
    description:
      '`{ payload }` replaces the payload a replay sends (the one that came is kept as `originalPayload`, once); for an event of ' +
      'POST /v1/order-events its eventId, orderId, status, source and criticality are read from the new payload. The errors stay those of ' +
      'the last validation until it is replayed. `{ state: "discarded" }` sets it aside (nothing is sent), `{ state: "open" }` takes it ' +
      'back. A fixed payload is what customers are then told, hence the admin scope.',
    scope: 'admin',
    params: rejectedEventPath,
    body: rejectedEventPatchSchema,
    responses: { 200: { description: 'The rejected event as it is now.', body: rejectedEventResponse } },
    errors: { 404: 'No such rejected event.', 409: '`already_replayed`: a replay of it was accepted; it cannot change any more.' },
    handler: async ({ params: { id }, body }, { db }) => {
      const row = await findRejected(db, id);
      if (row.state === 'replayed') throw notOpen(row);
      const data: Prisma.RejectedEventUpdateManyMutationInput = { updatedAt: new Date() };
      if (body.payload !== undefined) {
        data.payload = body.payload as Prisma.InputJsonValue;
        // The payload as it came, once: a second fix keeps the first original.
        if (row.originalPayload === null) data.originalPayload = row.payload === null ? Prisma.JsonNull : (row.payload as Prisma.InputJsonValue);
        // A source's payload is in its own format: its adapter reads it on the replay.
        if (row.sourceId === null) Object.assign(data, rejectedColumns(body.payload));
      }
      if (body.state) data.state = body.state;
      // Not on one a concurrent replay has just accepted.
      const { count } = await db.rejectedEvent.updateMany({ where: { id, state: { not: 'replayed' } }, data });
      const now = await findRejected(db, id);
      if (count === 0) throw notOpen(now);
      return { status: 200, body: rejectedView(now) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/rejected-events/{id}/replay',
    operationId: 'replayRejectedEvent',
    tag: TAG,
    summary: 'Send a rejected event through intake again',
    description:
      'The payload goes through the same validation as when it came, then intake: accepted, it is `replayed` and the answer is the ' +
      "accepted event (the same eventId again is a duplicate: nothing is sent twice); refused again, the answer is a 422 with the new " +
      'field errors, and it stays open with them.',
    scope: 'admin',
    params: rejectedEventPath,
    responses: {
      200: { description: 'Accepted (or ignored by its source): it is replayed.', body: rejectedEventReplayResponse },
      422: { description: 'Refused again: the field errors of the payload; it stays open with them.', body: rejectedEventReplayRefusedResponse },
    },
    errors: { 404: 'No such rejected event.', 409: REPLAYED_409 },
    handler: async ({ params: { id } }, services) => {
      const { result, row } = await replayRejected(services.db, replayIngest(services), await findRejected(services.db, id));
      const rejectedEvent = rejectedView(row);
      if (result.outcome === 'rejected') {
        return { status: 422, body: { error: { code: result.code, message: result.message, fields: result.fields }, rejectedEvent } };
      }
      const accepted = result.outcome === 'accepted' ? { eventId: result.accepted.eventId, workflowId: result.accepted.workflowId, duplicate: result.accepted.duplicate } : null;
      return { status: 200, body: { outcome: result.outcome, accepted, ignoredReason: result.outcome === 'ignored' ? result.reason : null, rejectedEvent } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/rejected-event-replays',
    operationId: 'replayRejectedEvents',
    tag: TAG,
    summary: 'Replay the open rejected events a filter matches, oldest first',
    description:
      'Takes the filters of the list (source, reason, orderStatus, critical, from, to) and replays up to `limit` ' +
      `(at most ${BULK_REPLAY_MAX}) of the open ones in the order they came, each as POST /v1/rejected-events/{id}/replay does. ` +
      'One already replayed is not open any more, and one refused again is skipped until it is fixed (or `retryRejectedBefore` says), so ' +
      'calling again goes on where the last call stopped and sends nothing twice. Answers the counts.',
    scope: 'admin',
    body: bulkReplaySchema,
    responses: { 200: { description: 'What the replays made.', body: bulkReplayResponse } },
    handler: async ({ body }, services) => ({
      status: 200,
      body: await bulkReplay(services.db, replayIngest(services), bulkFilter(body), {
        limit: body.limit,
        retryRejectedBefore: body.retryRejectedBefore ? new Date(body.retryRejectedBefore) : undefined,
      }),
    }),
  }),
];
