// The examples of the source operations (api/examples.ts spreads them into OPERATION_EXAMPLES): the shop's warehouse
// system, Acme OMS, posts its own events; a mapping reads them onto Herald's, and Ada's second order (1002) ships.
import type { z } from 'zod';
import { ORDER_STATUSES } from '../../domain';
import type { Example, OperationExamples } from '../examples';
import * as res from '../response-schemas';
import * as s from './schemas';

const body = <S extends z.ZodType>(_schema: S, value: z.input<S>): z.input<S> => value;
const answer = <S extends z.ZodType>(_schema: S, summary: string, value: z.input<S>, description?: string): Example => ({ summary, ...(description ? { description } : {}), value });
const error = (summary: string, code: string, message: string, fields?: Array<{ field: string; reason: string }>): Example =>
  answer(res.errorResponse, summary, { error: { code, message, ...(fields ? { fields } : {}) } });

export const SOURCE_ID = 'acme-oms';
const PATH = { sourceId: SOURCE_ID };
const CREATED_AT = '2026-12-01T08:00:00.000Z';

const ACME_MAPPING = {
  eventId: 'id',
  orderId: 'order.number',
  customerId: 'order.customer.ref',
  status: 'state',
  occurredAt: 'updated',
  data: "{ 'carrier': parcel.carrier, 'trackingNumber': parcel.tracking }",
  'customer.email': 'order.customer.mail',
};

export const SOURCE_INPUT = body(s.sourceInputSchema, {
  adapter: 'mapping',
  mapping: ACME_MAPPING,
  statusMap: { SHIPPED: 'shipped', DELIVERED: 'delivered', PICKING: null },
  profile: { required: ['data.trackingNumber'], optional: {}, timeFormats: ['iso8601-local'] },
  enabled: true,
});

const SOURCE = {
  sourceId: SOURCE_ID,
  adapter: 'mapping' as const,
  secretSet: false,
  keyId: null,
  profile: { required: ['data.trackingNumber'], optional: {}, timeFormats: ['iso8601-local' as const] },
  statusMap: { SHIPPED: 'shipped' as const, DELIVERED: 'delivered' as const, PICKING: null },
  mapping: ACME_MAPPING,
  enabled: true,
  counts: { accepted: 0, ignored: 0, rejected: 0 },
  createdAt: CREATED_AT,
  updatedAt: CREATED_AT,
};
const COUNTED = { ...SOURCE, counts: { accepted: 1, ignored: 1, rejected: 1 }, updatedAt: CREATED_AT };

/** Acme's event for Ada's order 1002 leaving the warehouse, in Acme's own words (its time has no zone: UTC). */
export const ACME_EVENT = body(s.sourceEventBodySchema, {
  id: 'acme-evt-88412',
  order: { number: '1002', customer: { ref: 'c-42', mail: 'ada@example.com' } },
  state: 'SHIPPED',
  updated: '2026-12-02T08:15:00',
  parcel: { carrier: 'UPS', tracking: '1Z999AA10123456785' },
});

const STATUS_REASON = `must be one of ${ORDER_STATUSES.join(', ')}, or null (ignored)`;
const REJECTED_ID = '5b1d9e3a-7c2f-4a8e-9d6b-3f1a5c7e9b24';

export const SOURCE_EXAMPLES: Record<string, OperationExamples> = {
  putSource: {
    params: PATH,
    body: SOURCE_INPUT,
    responses: {
      200: { replaced: answer(s.sourceResponse, 'Replaced', { ...COUNTED, updatedAt: '2026-12-02T09:00:00.000Z' }) },
      201: { created: answer(s.sourceResponse, 'Created (no secret: its API key authenticates it)', SOURCE) },
      400: {
        invalidStatus: error('A status word mapped to no Herald status', 'validation_failed', `invalid body: statusMap.SHIPPED: ${STATUS_REASON}`, [{ field: 'statusMap.SHIPPED', reason: STATUS_REASON }]),
      },
    },
  },
  listSources: {
    responses: { 200: { sources: answer(s.sourceListResponse, 'Every source with its counts', { sources: [COUNTED] }) } },
  },
  getSource: {
    params: PATH,
    responses: {
      200: { source: answer(s.sourceResponse, 'The source', COUNTED) },
      400: {
        invalidPath: error('An id with a space', 'validation_failed', "invalid path: sourceId: may contain only letters, digits, '.', '_', ':' and '-'", [
          { field: 'sourceId', reason: "may contain only letters, digits, '.', '_', ':' and '-'" },
        ]),
      },
      404: { unknown: error('No such source', 'not_found', `no source shopify-eu; configure it with PUT /v1/sources/shopify-eu`) },
    },
  },
  postSourceEvent: {
    params: PATH,
    body: ACME_EVENT,
    responses: {
      202: {
        accepted: answer(s.sourceEventAnswer, 'Accepted', { outcome: 'accepted', eventId: 'acme-evt-88412', workflowId: 'order:1002', duplicate: false }),
        ignored: answer(s.sourceEventAnswer, 'A status the source maps to null (PICKING): kept, nothing to notify', {
          outcome: 'ignored',
          ignoredEventId: '2e8c4a6f-1b3d-4f5a-8c7e-9d0b2a4c6e81',
          reason: 'status_ignored',
        }),
      },
      400: {
        missingField: answer(s.sourceEventErrorResponse, "A field the source's profile requires, missing: kept as a rejected event", {
          error: {
            code: 'validation_failed',
            message: "invalid event: data.trackingNumber: is required by this source's profile",
            fields: [{ field: 'data.trackingNumber', reason: "is required by this source's profile" }],
          },
          rejectedEventId: REJECTED_ID,
          reason: 'missing_field',
        }),
      },
      401: {
        badSignature: error(
          'A source with a secret, and a signature that does not verify',
          'invalid_signature',
          `X-Herald-Signature no v1 is the HMAC-SHA256 of "<t>.<body>" under source ${SOURCE_ID}'s secret; nothing was stored`,
          [{ field: 'X-Herald-Signature', reason: `no v1 is the HMAC-SHA256 of "<t>.<body>" under source ${SOURCE_ID}'s secret` }],
        ),
      },
      403: { disabled: error('A disabled source', 'source_disabled', `source ${SOURCE_ID} is disabled; nothing was stored`) },
      404: { unknown: error('No such source', 'not_found', 'no source shopify-eu; configure it with PUT /v1/sources/shopify-eu') },
      409: {
        conflict: error('The eventId again, for another status', 'event_id_conflict', 'eventId acme-evt-88412 was already used for a different event (order 1002, status shipped)', [
          { field: 'eventId', reason: 'already used for a different event' },
        ]),
      },
    },
  },
};
