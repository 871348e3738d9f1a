// Order sources: each configured once (its adapter, secret, validation profile, status words), then posting its events
// in its own format to POST /v1/sources/{sourceId}/events, which the intake pipeline (api/sources/pipeline.ts) reads.
import type { Request, Response } from 'express';
import type { Db } from '../../lib/db';
import { Prisma } from '../../lib/db';
import { HERALD_SIGNATURE_HEADER, WEBHOOK_TOLERANCE_SECONDS } from '../email-webhooks';
import { HttpError, type FieldError } from '../errors';
import { tooDeep, tooDeepError } from '../json-depth';
import { defineRoute, type Route } from '../route';
import type { AdapterName, RawSourceEvent, SourceConfig } from '../sources/adapter';
import { loadSource, type SourceRow } from '../sources/config';
import { adapterOf, ADAPTERS } from '../sources/index';
import { parseShopifyJson } from '../sources/shopify';
import {
  keyIdOf,
  secretProblem,
  sourceEventAnswer,
  sourceEventBodySchema,
  sourceEventErrorResponse,
  sourceInputSchema,
  sourceListResponse,
  sourcePath,
  sourceResponse,
  type SourceView,
} from '../sources/schemas';

/** The header each adapter's signature comes in (the 401's field). */
const SIGNATURE_HEADERS: Record<AdapterName, string> = { canonical: HERALD_SIGNATURE_HEADER, mapping: HERALD_SIGNATURE_HEADER, shopify: 'X-Shopify-Hmac-Sha256' };

type Counts = SourceView['counts'];

/** Each source's counts, by indexed aggregates over the events themselves: no counter row for a burst to queue on. */
async function countsOf(db: Db, sourceIds: string[]): Promise<Map<string, Counts>> {
  const counts = new Map(sourceIds.map((id): [string, Counts] => [id, { accepted: 0, ignored: 0, rejected: 0 }]));
  if (sourceIds.length === 0) return counts;
  type Row = { id: string; n: bigint };
  const [accepted, ignored, rejected] = await Promise.all([
    db.$queryRaw<Row[]>`SELECT source AS id, count(*) AS n FROM "OrderEvent" WHERE source = ANY(${sourceIds}::text[]) GROUP BY source`,
    db.$queryRaw<Row[]>`SELECT "sourceId" AS id, count(*) AS n FROM "IgnoredEvent" WHERE "sourceId" = ANY(${sourceIds}::text[]) GROUP BY "sourceId"`,
    db.$queryRaw<Row[]>`SELECT "sourceId" AS id, count(*) AS n FROM "RejectedEvent" WHERE "sourceId" = ANY(${sourceIds}::text[]) GROUP BY "sourceId"`,
  ]);
  for (const [kind, rows] of [['accepted', accepted], ['ignored', ignored], ['rejected', rejected]] as const) {
    for (const row of rows) counts.get(row.id)![kind] = Number(row.n);
  }
  return counts;
}

function sourceView(row: SourceRow, counts: Counts): SourceView {
  const adapter = row.adapter as AdapterName;
  return {
    sourceId: row.sourceId,
    adapter,
    secretSet: row.secret !== null,
    keyId: keyIdOf(adapter, row.secret),
    profile: row.profile as SourceView['profile'],
    statusMap: row.statusMap as SourceView['statusMap'],
    mapping: (row.mapping as SourceView['mapping']) ?? null,
    enabled: row.enabled,
    counts,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

const notFound = (sourceId: string) => new HttpError(404, 'not_found', `no source ${sourceId}; configure it with PUT /v1/sources/${sourceId}`);

/** The request as the adapter reads it: the bytes as sent, the JSON they hold (undefined when none), lower-case headers. */
function rawEvent(req: Request, text: string | undefined): RawSourceEvent {
  const body = req.rawBody ?? Buffer.from(text ?? '');
  let payload: unknown;
  try {
    // Integers past 2^53 (Shopify's 64-bit ids) are kept as strings: a number would round them to another order's id.
    payload = body.length ? parseShopifyJson(body) : undefined;
  } catch {
    payload = undefined;
  }
  const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name.toLowerCase(), Array.isArray(value) ? value.join(', ') : value]));
  return { body, payload, headers };
}

/** The source loaded by the keyless check of this request, so the handler does not read it twice. */
const loaded = (res: Response, sourceId: string): SourceConfig | null | undefined => {
  const found = res.locals.source as { sourceId: string; config: SourceConfig | null } | undefined;
  return found?.sourceId === sourceId ? found.config : undefined;
};

export const sourceRoutes: Route[] = [
  defineRoute({
    method: 'put',
    path: '/v1/sources/{sourceId}',
    operationId: 'putSource',
    tag: 'Sources',
    summary: 'Configure an order source',
    description:
      'Creates or replaces the source: its adapter, validation profile, status map, mapping and whether it is enabled. The secret is write-only: ' +
      'left out, the stored one is kept; null removes it. The answer shows `secretSet` and `keyId`, never the secret. Its events then go to ' +
      '`POST /v1/sources/{sourceId}/events`.',
    scope: 'admin',
    params: sourcePath,
    body: sourceInputSchema,
    responses: { 200: { description: 'Replaced.', body: sourceResponse }, 201: { description: 'Created.', body: sourceResponse } },
    handler: async ({ params: { sourceId }, body: input }, { db }) => {
      const fields: FieldError[] = [];
      if (!ADAPTERS[input.adapter]) fields.push({ field: 'adapter', reason: `the ${input.adapter} adapter is not in this build; available: ${Object.keys(ADAPTERS).join(', ')}` });
      const existing = await db.source.findUnique({ where: { sourceId } });
      const secret = input.secret === undefined ? (existing?.secret ?? null) : input.secret;
      if (input.adapter === 'shopify' && !secret) fields.push({ field: 'secret', reason: "is required with the shopify adapter: Shopify signs every webhook with the app's client secret" });
      // A kept secret must suit a changed adapter too.
      const kept = input.secret === undefined && secret ? secretProblem(input.adapter, secret) : null;
      if (kept) fields.push({ field: 'secret', reason: `the stored secret ${kept}; send a new one` });
      if (fields.length) throw new HttpError(400, 'validation_failed', `invalid body: ${fields.map((f) => `${f.field}: ${f.reason}`).join('; ')}`, fields);
      const values = {
        adapter: input.adapter,
        secret,
        profile: input.profile as Prisma.InputJsonValue,
        statusMap: input.statusMap as Prisma.InputJsonValue,
        mapping: input.mapping ? (input.mapping as Prisma.InputJsonValue) : Prisma.DbNull,
        enabled: input.enabled,
      };
      const row = await db.source.upsert({ where: { sourceId }, create: { sourceId, ...values }, update: values });
      const counts = (await countsOf(db, [sourceId])).get(sourceId)!;
      return { status: existing ? 200 : 201, body: sourceView(row, counts) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/sources',
    operationId: 'listSources',
    tag: 'Sources',
    summary: 'Every configured source, with its counts',
    description: 'Each source as configured (never its secret), with its counts of accepted, ignored and rejected events, by source id.',
    scope: 'read',
    responses: { 200: { description: 'The sources.', body: sourceListResponse } },
    handler: async (_request, { db }) => {
      const rows = await db.source.findMany({ orderBy: { sourceId: 'asc' } });
      const counts = await countsOf(db, rows.map((r) => r.sourceId));
      return { status: 200, body: { sources: rows.map((row) => sourceView(row, counts.get(row.sourceId)!)) } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/sources/{sourceId}',
    operationId: 'getSource',
    tag: 'Sources',
    summary: 'One source, with its counts',
    scope: 'read',
    params: sourcePath,
    responses: { 200: { description: 'The source.', body: sourceResponse } },
    errors: { 404: 'No such source.' },
    handler: async ({ params: { sourceId } }, { db }) => {
      const row = await db.source.findUnique({ where: { sourceId } });
      if (!row) throw notFound(sourceId);
      return { status: 200, body: sourceView(row, (await countsOf(db, [sourceId])).get(sourceId)!) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/sources/{sourceId}/events',
    operationId: 'postSourceEvent',
    tag: 'Sources',
    summary: "Take an event in a source's own format",
    description:
      "The source's adapter reads the event onto Herald's order event, its status map turns the source's status word into a Herald status, its " +
      'validation profile fills what it may leave out and reads its time formats, and the event is then checked and taken as `POST /v1/order-events` ' +
      "takes it (its `source` is the source id; the same eventId again notifies once). A customer profile the event carries is created, or refreshed in " +
      'the fields it gives (never cleared, never its preferences). A status the source does not map, or maps to null, is kept as an ignored event ' +
      '(202 `ignored`). An event that fails is kept as a rejected event and answered 400 with its id and reason.\n\n' +
      '**Authentication.** A `canonical` or `mapping` source takes an API key with the `ingest` scope; when the source has a secret, each request must ' +
      `also carry \`${HERALD_SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">\` (within ${WEBHOOK_TOLERANCE_SECONDS} s of the API's clock). ` +
      'A `shopify` source needs no key (Shopify cannot send one): its `X-Shopify-Hmac-Sha256` signature over the raw body authenticates it, and its ' +
      "requests spend the source's intake budget. A missing or wrong signature is a 401 and nothing is stored.",
    scope: 'ingest',
    budget: 'intake',
    async keyless(req, res, { db, limits }) {
      const params = sourcePath.safeParse(req.params);
      if (!params.success) return null;
      const config = await loadSource(db, params.data.sourceId);
      res.locals.source = { sourceId: params.data.sourceId, config };
      if (config?.adapter !== 'shopify') return null;
      // Only a signed request spends its source's budget: a flood of forgeries spends its address's and is refused here,
      // so it can never starve Shopify's own deliveries into 429s.
      const verified = adapterOf('shopify').verify(config, rawEvent(req, undefined));
      if (!verified.ok) {
        limits.spend('address', req, res);
        throw new HttpError(401, 'invalid_signature', `${verified.reason}; nothing was stored`, [{ field: SIGNATURE_HEADERS.shopify, reason: verified.reason }]);
      }
      return `source:${config.sourceId}`;
    },
    params: sourcePath,
    // Read as bytes: the signature covers the body as sent.
    body: { mediaType: 'application/json', limit: '256kb', schema: sourceEventBodySchema },
    headers: [
      { name: HERALD_SIGNATURE_HEADER, required: false, description: 'canonical and mapping sources with a secret: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`; v1 may repeat while a secret rotates.', schema: { type: 'string' } },
      { name: 'X-Shopify-Hmac-Sha256', required: false, description: "shopify sources: Shopify's base64 HMAC-SHA256 of the raw body under the app's client secret.", schema: { type: 'string' } },
    ],
    responses: { 202: { description: 'Accepted (stored; its workflow is signalled), or ignored (kept; nothing to notify).', body: sourceEventAnswer } },
    errors: {
      401: '`unauthenticated`: no valid key (canonical and mapping sources). `invalid_signature`: the signature is missing or does not verify; nothing is stored.',
      403: '`forbidden`: the key lacks the `ingest` scope. `source_disabled`: the source is disabled; nothing is stored.',
      404: 'No such source.',
      409: '`event_id_conflict` or `order_customer_mismatch`, as for `POST /v1/order-events`; nothing is stored.',
    },
    // The handler answers a rejected event's 400 itself, with its id and reason.
    invalidBody: { body: sourceEventErrorResponse },
    handler: async ({ params: { sourceId }, body: text, req, res }, { db, pipeline }) => {
      const found = loaded(res, sourceId);
      const source = found === undefined ? await loadSource(db, sourceId) : found;
      if (!source) throw notFound(sourceId);
      if (!req.is('application/json')) {
        throw new HttpError(415, 'unsupported_media_type', "a source's event is application/json", [{ field: '(body)', reason: 'must be application/json' }]);
      }
      const raw = rawEvent(req, text);
      const verified = adapterOf(source.adapter).verify(source, raw);
      if (!verified.ok) {
        const header = SIGNATURE_HEADERS[source.adapter];
        throw new HttpError(401, 'invalid_signature', `${verified.reason}; nothing was stored`, [{ field: header, reason: verified.reason }]);
      }
      if (!source.enabled) throw new HttpError(403, 'source_disabled', `source ${sourceId} is disabled; nothing was stored`);
      const deep = tooDeep(raw.payload);
      if (deep) throw tooDeepError(deep);
      const outcome = await pipeline.ingest(source, raw, 'http');
      if (outcome.outcome === 'accepted') {
        const { eventId, workflowId, duplicate } = outcome.accepted;
        return { status: 202, body: { outcome: 'accepted' as const, eventId, workflowId, duplicate } };
      }
      if (outcome.outcome === 'ignored') return { status: 202, body: { outcome: 'ignored' as const, ignoredEventId: outcome.ignoredEventId, reason: outcome.reason } };
      res.status(400).json({ error: { code: outcome.code, message: outcome.message, fields: outcome.fields }, rejectedEventId: outcome.rejectedEventId, reason: outcome.reason });
    },
  }),
];
