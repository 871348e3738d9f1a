// Request schemas of the quarantine operations (api/routes/quarantine.ts), from which the OpenAPI document
// describes them too.
import { z } from 'zod';
import { BULK_REPLAY_MAX, QUARANTINE_STATES, type RejectedFilter } from './quarantine';
import { isoDateTime, jsonValueSchema, pageQuerySchema, pathIdSchema } from './schemas';
import { REJECTION_REASONS } from './sources/rejections';

const NO_NUL = /^[^\u0000]*$/;
const NO_NUL_REASON = 'must not contain the character U+0000 (NUL)';
const text = (max: number) =>
  z
    .string({ error: 'must be a string' })
    .min(1, { error: 'must not be empty', abort: true })
    .max(max, `must be at most ${max} characters`)
    .regex(NO_NUL, NO_NUL_REASON);

const REASON_REASON = `must be one of ${REJECTION_REASONS.join(', ')}`;
const STATUS_VALUES = [...QUARANTINE_STATES, 'all'] as const;

/** The filters of the list, also the bulk replay's (which replays open ones only). */
const filters = {
  source: text(100).optional().meta({ description: "Only those of this source: the configured source's id, or an event's `source` field for POST /v1/order-events." }),
  reason: z.enum(REJECTION_REASONS, { error: REASON_REASON }).optional().meta({ description: `Only those quarantined for this reason: ${REJECTION_REASONS.join(', ')}.` }),
  orderStatus: text(200).optional().meta({ description: 'Only those whose status was sent as this word (an invalid one too, such as `shiped`).' }),
  from: isoDateTime().optional().meta({ description: 'Only those received at or after this instant (inclusive).' }),
  to: isoDateTime().optional().meta({ description: 'Only those received before this instant (exclusive).' }),
};

export const rejectedEventListQuerySchema = pageQuerySchema.extend({
  ...filters,
  status: z
    .enum(STATUS_VALUES, { error: `must be one of ${STATUS_VALUES.join(', ')}` })
    .default('open')
    .meta({ description: 'The quarantine state: `open` (to fix; the default), `replayed`, `discarded`, or `all`.' }),
  critical: z.enum(['true', 'false'], { error: 'must be true or false' }).optional().meta({ description: '`true`: only critical statuses; `false`: only the others.' }),
});

export function listFilter(q: z.output<typeof rejectedEventListQuerySchema>): RejectedFilter {
  return {
    state: q.status === 'all' ? undefined : q.status,
    source: q.source,
    reason: q.reason,
    orderStatus: q.orderStatus,
    critical: q.critical === undefined ? undefined : q.critical === 'true',
    from: q.from ? new Date(q.from) : undefined,
    to: q.to ? new Date(q.to) : undefined,
  };
}

export const bulkReplaySchema = z.strictObject({
  ...filters,
  critical: z.boolean({ error: 'must be true or false' }).optional().meta({ description: '`true`: only critical statuses; `false`: only the others.' }),
  limit: z
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(1, 'must be at least 1')
    .max(BULK_REPLAY_MAX, `must be at most ${BULK_REPLAY_MAX}`)
    .default(100)
    .meta({ description: `How many to replay in this call: 1 to ${BULK_REPLAY_MAX}, 100 when not given.` }),
  retryRejectedBefore: isoDateTime()
    .optional()
    .meta({
      description:
        'Also retry those whose last replay was refused before this instant and that were not fixed since (after a change to their ' +
        "source's validation: pass the time you start, and call again until `remaining` is 0). Without it, a replay refused and not fixed since is skipped.",
    }),
});

export function bulkFilter(b: z.output<typeof bulkReplaySchema>): RejectedFilter {
  return {
    source: b.source,
    reason: b.reason,
    orderStatus: b.orderStatus,
    critical: b.critical,
    from: b.from ? new Date(b.from) : undefined,
    to: b.to ? new Date(b.to) : undefined,
  };
}

const PAYLOAD_REASON = 'must be a JSON object (the event as its source sends it)';
export const rejectedEventPatchSchema = z
  .strictObject({
    payload: z
      .record(z.string().regex(NO_NUL, NO_NUL_REASON), jsonValueSchema, { error: PAYLOAD_REASON })
      .optional()
      .meta({ description: 'The fixed payload, which a replay then sends: the one that came is kept (`originalPayload`) the first time.' }),
    state: z
      .enum(['open', 'discarded'], { error: 'must be open or discarded' })
      .optional()
      .meta({ description: '`discarded`: set it aside (the list hides it by default; nothing is sent); `open`: take a discarded one back.' }),
  })
  .refine((b) => b.payload !== undefined || b.state !== undefined, { message: 'must give payload or state', path: ['(body)'] })
  .meta({ minProperties: 1 });

export const rejectedEventPath = z.object({ id: pathIdSchema.meta({ description: 'The rejected event id (`rejectedEventId`).' }) });
