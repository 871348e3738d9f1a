// The schemas of the source operations (api/routes/sources.ts): the configuration PUT takes, what GET answers,
// and the answers of POST /v1/sources/{sourceId}/events.
import { z } from 'zod';
import { ORDER_STATUSES } from '../../domain';
import { parseSigningKeys, SIGNING_KEYS_REASON } from '../../lib/signing-keys';
import { dateTime, errorResponse } from '../response-schemas';
import { jsonValueSchema, pathIdSchema } from '../schemas';
import type { AdapterName } from './adapter';
import { ADAPTER_NAMES } from './index';
import { mappingProblems, MAX_EXPRESSION_LENGTH, MAX_MAPPING_FIELDS } from './mapping';
import { DEFAULTABLE_FIELD, DEFAULTABLE_REASON, RECEIVED_AT, REQUIRABLE_FIELD, REQUIRABLE_REASON, TIME_FORMATS } from './profile';
import { REJECTION_REASONS } from './rejections';

export const MAX_STATUS_MAP_ENTRIES = 200;

export const sourcePath = z.object({
  sourceId: pathIdSchema.max(100, 'must be at most 100 characters').meta({ description: 'The source id: its events carry it as their `source`, and are counted by it.' }),
});

const ADAPTER_REASON = `must be one of ${ADAPTER_NAMES.join(', ')}`;
const STATUS_REASON = `must be one of ${ORDER_STATUSES.join(', ')}, or null (ignored)`;

export const validationProfileSchema = z
  .strictObject({
    required: z
      .array(z.string().regex(REQUIRABLE_FIELD, REQUIRABLE_REASON))
      .max(32, 'must name at most 32 fields')
      .default([])
      .meta({ description: `Fields the source must send beyond eventId, orderId, customerId and status (always required): ${REQUIRABLE_REASON.replace('must be ', '')}. A missing one is rejected (\`missing_field\`).` }),
    optional: z
      .record(z.string().regex(DEFAULTABLE_FIELD, DEFAULTABLE_REASON), jsonValueSchema)
      .refine((o) => Object.keys(o).length <= 32, 'must name at most 32 fields')
      .default({})
      .meta({
        description: `Fields the source may leave out, with the value used instead; \`"${RECEIVED_AT}"\` is the time Herald received the event (\`{ "occurredAt": "${RECEIVED_AT}" }\`).`,
      }),
    timeFormats: z
      .array(z.enum(TIME_FORMATS, { error: `must be one of ${TIME_FORMATS.join(', ')}` }))
      .max(TIME_FORMATS.length)
      .default(['iso8601'])
      .meta({
        description:
          'The formats occurredAt may come in, normalised to ISO-8601 before validation. `iso8601` (with a zone) is always taken; `iso8601-local` ' +
          '(no zone) is taken as UTC; `epoch-seconds` and `epoch-millis` are numbers or digits (with both, values from 1e11 are milliseconds); ' +
          '`rfc2822` is `Tue, 01 Dec 2026 09:30:00 +0000`.',
      }),
  })
  .meta({ description: 'Which fields the source must send, which it may leave out, and the time formats it may use.' });

/** Why a secret cannot be this adapter's; null when it can. */
export function secretProblem(adapter: AdapterName, secret: string): string | null {
  // Shopify's client secret alone, or several as `<keyId>:<secret>,...` while one is rotated: the format of every other secret.
  void adapter;
  try {
    parseSigningKeys(secret);
    return null;
  } catch (err) {
    return `${SIGNING_KEYS_REASON}: ${(err as Error).message}`;
  }
}

/** The id of the key that signs (the first), as the source shows it; null without a secret. */
export function keyIdOf(adapter: AdapterName, secret: string | null): string | null {
  if (!secret) return null;
  void adapter;
  return parseSigningKeys(secret)[0]!.id;
}

export const sourceInputSchema = z
  .strictObject({
    adapter: z.enum(ADAPTER_NAMES as [AdapterName, ...AdapterName[]], { error: ADAPTER_REASON }).meta({
      description: "How its events are read: `canonical` (Herald's own event, as POST /v1/order-events takes it), `shopify` (Shopify's order and fulfilment webhooks), `mapping` (any other format, through `mapping`).",
    }),
    secret: z
      .string()
      .max(2000, 'must be at most 2000 characters')
      .nullish()
      .meta({
        description:
          'What its requests are signed with; never shown again (the source shows `secretSet` and `keyId`). canonical and mapping: `<secret>` or ' +
          '`<keyId>:<secret>,<keyId>:<secret>` newest first (each at least 16 characters); every request must then carry `X-Herald-Signature: ' +
          't=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` besides the API key. shopify (required): the app\'s client secret as it is, ' +
          'which signs `X-Shopify-Hmac-Sha256`. Left out: the stored secret is kept; null: removed.',
      }),
    profile: validationProfileSchema.default({ required: [], optional: {}, timeFormats: ['iso8601'] }),
    statusMap: z
      .record(
        z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
        z.enum(ORDER_STATUSES, { error: STATUS_REASON }).nullable(),
      )
      .refine((m) => Object.keys(m).length <= MAX_STATUS_MAP_ENTRIES, `must map at most ${MAX_STATUS_MAP_ENTRIES} words`)
      .default({})
      .meta({
        description:
          "The source's own status words to Herald's statuses, over its adapter's defaults (canonical: each Herald status to itself; shopify: its topics " +
          'and fulfilment events). A word mapped to null, or not mapped at all, is recorded as an ignored event (answered 202 `ignored`), never rejected.',
      }),
    mapping: z
      .record(z.string(), z.string().max(MAX_EXPRESSION_LENGTH, `must be at most ${MAX_EXPRESSION_LENGTH} characters`))
      // Checked here rather than with the adapter, so its problems are named beside those of the other fields.
      .superRefine((mapping, ctx) => {
        for (const p of mappingProblems(mapping)) ctx.addIssue({ code: 'custom', path: p.field === 'mapping' ? [] : [p.field.slice('mapping.'.length)], message: p.reason });
      })
      .nullish()
      .meta({
        description:
          'adapter mapping only (and required there): a JSONata expression (https://jsonata.org) per canonical field, evaluated on the payload: eventId, orderId, ' +
          `status (the source's word, through statusMap), customerId, occurredAt, data or data.<key>, customer or customer.<name|email|phone|locale|country>. At most ${MAX_MAPPING_FIELDS}.`,
      }),
    enabled: z.boolean().default(true).meta({ description: 'A disabled source refuses its events (403 `source_disabled`) and stores nothing.' }),
  })
  .superRefine((source, ctx) => {
    const issue = (path: string[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    if (source.adapter === 'mapping') {
      if (!source.mapping) issue(['mapping'], 'is required with the mapping adapter');
    } else if (source.mapping) {
      issue(['mapping'], 'is only for the mapping adapter');
    }
    const problem = source.secret ? secretProblem(source.adapter, source.secret) : null;
    if (problem) issue(['secret'], problem);
  });
export type SourceInput = z.output<typeof sourceInputSchema>;

const count = z.number().int().min(0);

export const sourceResponse = z.strictObject({
  sourceId: z.string(),
  adapter: z.enum(ADAPTER_NAMES as [AdapterName, ...AdapterName[]]),
  secretSet: z.boolean().meta({ description: 'Whether requests must be signed with a secret (never shown).' }),
  keyId: z.string().nullable().meta({ description: "The id of the secret's newest key (`k0` for a secret given without one); null without a secret." }),
  profile: z.strictObject({ required: z.array(z.string()), optional: z.record(z.string(), jsonValueSchema), timeFormats: z.array(z.enum(TIME_FORMATS)) }),
  statusMap: z.record(z.string(), z.enum(ORDER_STATUSES).nullable()),
  mapping: z.record(z.string(), z.string()).nullable(),
  enabled: z.boolean(),
  counts: z
    .strictObject({
      accepted: count.meta({ description: 'Order events stored with this source (duplicates once).' }),
      ignored: count.meta({ description: 'Events with nothing to notify: an unmapped status, or a topic the adapter does not read.' }),
      rejected: count.meta({ description: 'Events refused and kept as rejected events.' }),
    })
    .meta({ description: 'Events this source sent, counted when asked (no counter to contend on).' }),
  createdAt: dateTime,
  updatedAt: dateTime,
});
export type SourceView = z.output<typeof sourceResponse>;

export const sourceListResponse = z.strictObject({ sources: z.array(sourceResponse) });

export const sourceEventBodySchema = z.looseObject({}).meta({
  description:
    "The event in the source's own format: canonical, Herald's order event (optionally with `customer`); shopify, the webhook's body; mapping, whatever the mapping reads.",
});

export const sourceEventAnswer = z.discriminatedUnion('outcome', [
  z.strictObject({
    outcome: z.literal('accepted'),
    eventId: z.string(),
    workflowId: z.string().meta({ description: 'The order workflow, `order:<orderId>`.' }),
    duplicate: z.boolean().meta({ description: 'True when this eventId was accepted before; nothing is sent again.' }),
  }),
  z.strictObject({
    outcome: z.literal('ignored'),
    ignoredEventId: z.uuid().meta({ description: 'The kept ignored event (a retry of it answers the same id).' }),
    reason: z.string().meta({ description: '`status_not_mapped` (the status map has no entry for the word), `status_ignored` (mapped to null), or the adapter\'s own reason.' }),
  }),
]);

export const sourceEventErrorResponse = z
  .strictObject({
    error: errorResponse.shape.error,
    rejectedEventId: z.uuid().optional().meta({ description: 'The id under which the payload was kept as a rejected event.' }),
    reason: z.enum(REJECTION_REASONS).optional().meta({ description: `Why it was rejected: ${REJECTION_REASONS.join(', ')}.` }),
  })
  .meta({ description: 'The error shape, with the rejected event id and the reason when the payload was kept.' });
