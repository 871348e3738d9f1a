import { Prisma } from '../../lib/db';
import { countSegment, sampleSegment } from '../../store/segments';
import { HttpError } from '../errors';
import { decodeTimeCursor, encodeTimeCursor, olderThan } from '../paging';
import { defineRoute, type Route } from '../route';
import {
  asSegmentRule,
  segmentInputSchema,
  segmentListQuerySchema,
  segmentPageResponse,
  segmentPath,
  segmentPreviewQuerySchema,
  segmentPreviewResponse,
  sizedSegmentResponse,
  type SegmentView,
} from '../segment-schemas';

type SegmentRow = Prisma.SegmentGetPayload<object>;

function segmentView(s: SegmentRow): SegmentView {
  return { segmentId: s.id, name: s.name, description: s.description, rule: s.rule as SegmentView['rule'], createdAt: s.createdAt, updatedAt: s.updatedAt };
}

const noSegment = (segmentId: string) => new HttpError(404, 'not_found', `no segment ${segmentId}`);

const inUse = (segmentId: string, campaignIds: string[]) =>
  new HttpError(
    409,
    'segment_in_use',
    `segment ${segmentId} is the segment of campaign ${campaignIds.join(', ')}; delete or change the campaign first`,
    campaignIds.map((id) => ({ field: 'campaignId', reason: `${id} targets this segment` })),
  );

/** Segments: rule trees over customers, evaluated as one SQL query whenever they are used (store/segments.ts). */
export const segmentRoutes: Route[] = [
  defineRoute({
    method: 'put',
    path: '/v1/segments/{segmentId}',
    operationId: 'putSegment',
    tag: 'Segments',
    summary: 'Create or replace a segment',
    description:
      'A segment is a rule tree over customers: their attributes (locale, country, time zone, created date), consent and preferences, order history ' +
      '(an order in a status, within N days, how many, how much spent), open carts and watches, combined with `all`, `any` and `not`. ' +
      'It is evaluated as one SQL query each time it is used (a preview, a campaign start), so it always means the customers who match then. ' +
      'The answer carries its size now.',
    scope: 'admin',
    params: segmentPath,
    body: segmentInputSchema,
    responses: {
      200: { description: 'Replaced.', body: sizedSegmentResponse },
      201: { description: 'Created.', body: sizedSegmentResponse },
    },
    errors: { 409: '`segment_in_use`: a campaign that has started and not finished targets it (it enrols the segment as it stood at its start); `error.fields` names each.' },
    handler: async ({ params: { segmentId }, body }, { db }) => {
      // A campaign enrols its segment page by page: a rule changed halfway would mix two segments in one campaign.
      const running = await db.campaign.findMany({ where: { segmentId, status: { in: ['scheduled', 'running', 'paused'] } }, select: { id: true }, orderBy: { id: 'asc' }, take: 20 });
      if (running.length) {
        throw new HttpError(
          409,
          'segment_in_use',
          `segment ${segmentId} is the segment of running campaign ${running.map((c) => c.id).join(', ')}; save the new rule under another id`,
          running.map((c) => ({ field: 'campaignId', reason: `${c.id} is running on this segment` })),
        );
      }
      const values = { name: body.name, description: body.description ?? null, rule: body.rule as Prisma.InputJsonValue };
      const existed = await db.segment.findUnique({ where: { id: segmentId }, select: { id: true } });
      const saved = await db.segment.upsert({ where: { id: segmentId }, create: { id: segmentId, ...values }, update: values });
      const evaluatedAt = new Date();
      const size = await countSegment(db, asSegmentRule(body.rule), evaluatedAt);
      return { status: existed ? 200 : 201, body: { ...segmentView(saved), size, evaluatedAt } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/segments/{segmentId}',
    operationId: 'getSegment',
    tag: 'Segments',
    summary: 'A segment, and how many customers it matches now',
    scope: 'read',
    params: segmentPath,
    responses: { 200: { description: 'The segment.', body: sizedSegmentResponse } },
    errors: { 404: 'No such segment.' },
    handler: async ({ params: { segmentId } }, { db }) => {
      const segment = await db.segment.findUnique({ where: { id: segmentId } });
      if (!segment) throw noSegment(segmentId);
      const evaluatedAt = new Date();
      const size = await countSegment(db, asSegmentRule(segment.rule as SegmentView['rule']), evaluatedAt);
      return { status: 200, body: { ...segmentView(segment), size, evaluatedAt } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/segments',
    operationId: 'listSegments',
    tag: 'Segments',
    summary: 'The segments, newest first',
    description: 'Without their sizes: `GET /v1/segments/{segmentId}` or its preview counts one.',
    scope: 'read',
    query: segmentListQuerySchema,
    responses: { 200: { description: 'A page of segments.', body: segmentPageResponse } },
    handler: async ({ query: { limit, cursor } }, { db }) => {
      const after = cursor ? decodeTimeCursor(cursor) : null;
      const rows = await db.segment.findMany({ where: after ? olderThan(after) : {}, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit + 1 });
      const items = rows.slice(0, limit);
      return { status: 200, body: { items: items.map(segmentView), nextCursor: rows.length > limit ? encodeTimeCursor(items[items.length - 1]!) : null } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/segments/{segmentId}/preview',
    operationId: 'previewSegment',
    tag: 'Segments',
    summary: 'How many customers a segment matches now, and the first of them',
    description: 'The count and the sample come from one snapshot of the database, at the same instant (`evaluatedAt`).',
    scope: 'read',
    params: segmentPath,
    query: segmentPreviewQuerySchema,
    responses: { 200: { description: 'The count and a sample.', body: segmentPreviewResponse } },
    errors: { 404: 'No such segment.' },
    handler: async ({ params: { segmentId }, query: { sample } }, { db }) => {
      const segment = await db.segment.findUnique({ where: { id: segmentId } });
      if (!segment) throw noSegment(segmentId);
      const rule = asSegmentRule(segment.rule as SegmentView['rule']);
      const evaluatedAt = new Date();
      // One snapshot: a customer who changes between the two statements is in both or in neither.
      const { count, customers } = await db.$transaction(
        async (tx) => ({ count: await countSegment(tx, rule, evaluatedAt), customers: await sampleSegment(tx, rule, sample, evaluatedAt) }),
        { isolationLevel: Prisma.TransactionIsolationLevel.RepeatableRead },
      );
      return { status: 200, body: { segmentId, count, sample: customers, evaluatedAt } };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/segments/{segmentId}',
    operationId: 'deleteSegment',
    tag: 'Segments',
    summary: 'Delete a segment',
    description: 'A segment a campaign targets cannot be deleted (409 naming the campaigns); delete or change those first.',
    scope: 'admin',
    params: segmentPath,
    responses: { 204: { description: 'Deleted.' } },
    errors: { 404: 'No such segment.', 409: '`segment_in_use`: a campaign targets it (`error.fields` names each).' },
    handler: async ({ params: { segmentId } }, { db }) => {
      const campaigns = await db.campaign.findMany({ where: { segmentId }, select: { id: true }, orderBy: { id: 'asc' }, take: 20 });
      if (campaigns.length) throw inUse(segmentId, campaigns.map((c) => c.id));
      try {
        const result = await db.segment.deleteMany({ where: { id: segmentId } });
        if (result.count === 0) throw noSegment(segmentId);
      } catch (err) {
        // A campaign made meanwhile: the foreign key refuses the delete.
        if (!(err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2003')) throw err;
        const now = await db.campaign.findMany({ where: { segmentId }, select: { id: true }, orderBy: { id: 'asc' }, take: 20 });
        throw inUse(segmentId, now.map((c) => c.id));
      }
      return { status: 204 };
    },
  }),
];
