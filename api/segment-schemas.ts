// Segments at the API edge: the rule tree of domain/segments.ts as a zod schema (the body of PUT /v1/segments/:id,
// and what a campaign names), and the answers of the segment routes. A rule node is one object holding exactly
// one kind of rule (`{ attribute, in }` is the one kind with two keys); the limits of SEGMENT_LIMITS are checked
// before the tree is walked, so a tree nested thousands deep is a 400, not a stack overflow.
import { z } from 'zod';
import {
  CHANNELS,
  MARKETING_CATEGORIES,
  ORDER_STATUSES,
  PREFERENCE_CATEGORIES,
  SEGMENT_ATTRIBUTES,
  SEGMENT_LIMITS,
  WATCH_KINDS,
  type OrdersCondition,
  type SegmentCondition,
  type SegmentRule,
} from '../domain';
import { isTimeZone, localeSchema, pageQuerySchema, pathIdSchema } from './schemas';

const NO_NUL = /^[^\u0000]*$/;
const text = (max: number) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .max(max, `must be at most ${max} characters`)
    .regex(NO_NUL, 'must not contain the character U+0000 (NUL)');

const oneOf = <T extends readonly [string, ...string[]]>(values: T) => z.enum(values, { error: `must be one of ${values.join(', ')}` });
const bool = (what: string) => z.boolean({ error: `must be true or false (${what})` });
const whole = (min: number, max: number) =>
  z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

/** A list of 1 to `max` values of `item`. */
const list = <T extends z.ZodType>(item: T, max: number = SEGMENT_LIMITS.values) =>
  z.array(item, { error: 'must be a list' }).min(1, 'must list at least one value').max(max, `must list at most ${max} values`);

/** `{ min?, max? }`, at least one bound, min <= max (the error names `max`). */
const range = (bound: z.ZodNumber, description: string) =>
  z
    .strictObject({ min: bound.optional().meta({ description: 'At least this (inclusive).' }), max: bound.optional().meta({ description: 'At most this (inclusive).' }) })
    .superRefine((r, ctx) => {
      if (r.min === undefined && r.max === undefined) ctx.addIssue({ code: 'custom', message: 'must give min, max or both' });
      else if (r.min !== undefined && r.max !== undefined && r.min > r.max) ctx.addIssue({ code: 'custom', path: ['max'], message: `must be at least min (${r.min})` });
    })
    .meta({ description, minProperties: 1 });

const COUNTRY = /^[A-Za-z]{2}$/;
const COUNTRY_REASON = 'must be an ISO 3166-1 alpha-2 country code such as FR';
const orders = z
  .strictObject({
    status: list(oneOf(ORDER_STATUSES), ORDER_STATUSES.length)
      .optional()
      .meta({ description: 'Orders that reached one of these statuses (an accepted event with it, in or out of order).' }),
    currentStatus: list(oneOf(ORDER_STATUSES), ORDER_STATUSES.length).optional().meta({ description: 'Orders in one of these statuses now.' }),
    withinDays: whole(1, 36_500)
      .optional()
      .meta({ description: 'The qualifying event happened (its occurredAt) within the last N days; with `status: ["confirmed"]`, an order placed within N days.' }),
    count: range(whole(0, 1_000_000), 'How many distinct qualifying orders (0 included: a customer without any has 0).').optional(),
    totalSpent: range(
      z.number({ error: 'must be a number' }).min(0, 'must be at least 0').max(1e12, 'must be at most 1e12'),
      "The sum of the qualifying orders' totals: each order's last `data.total` (a number or a decimal string), whichever event gave it.",
    ).optional(),
  })
  .meta({ description: 'Order history: the orders that pass every filter given, and what they must come to. With neither count nor totalSpent, at least one.' });

const created = z
  .strictObject({
    withinDays: whole(0, 36_500).optional().meta({ description: 'Created within the last N days.' }),
    olderThanDays: whole(0, 36_500).optional().meta({ description: 'Created more than N days ago.' }),
  })
  .superRefine((c, ctx) => {
    if (c.withinDays === undefined && c.olderThanDays === undefined) ctx.addIssue({ code: 'custom', message: 'must give withinDays, olderThanDays or both' });
  })
  .meta({ description: 'When the profile was created.', minProperties: 1 });

/** The kinds of rule node, by the key that names each: a node holds exactly one. */
export const RULE_KINDS = ['all', 'any', 'not', 'attribute', 'customerIds', 'created', 'consent', 'preference', 'reachable', 'orders', 'openCart', 'watches'] as const;
const KINDS_REASON = `must hold exactly one of ${RULE_KINDS.join(', ')} (attribute goes with in)`;

const ATTRIBUTE_VALUE: Record<(typeof SEGMENT_ATTRIBUTES)[number], (value: string) => string | null> = {
  locale: (v) => (localeSchema.safeParse(v).success ? null : 'must be a BCP 47 locale such as fr or fr-CA'),
  country: (v) => (COUNTRY.test(v) ? null : COUNTRY_REASON),
  timeZone: (v) => (isTimeZone(v) ? null : 'must be an IANA time zone such as Europe/Paris'),
};

type KeysOf<T> = T extends unknown ? keyof T : never;
type Of<K extends KeysOf<SegmentCondition>> = Extract<SegmentCondition, Record<K, unknown>>[K];

/**
 * A node as the wire has it: every kind's key optional, exactly one present (the schema checks it). Each kind's
 * value is the domain's type for it, so the schema below cannot drift from domain/segments.ts without tsc noticing.
 */
export interface RuleNode {
  all?: RuleNode[];
  any?: RuleNode[];
  not?: RuleNode;
  attribute?: Of<'attribute'>;
  in?: string[];
  customerIds?: string[];
  created?: Of<'created'>;
  consent?: Of<'consent'>;
  preference?: Of<'preference'>;
  reachable?: Of<'reachable'>;
  orders?: OrdersCondition;
  openCart?: Of<'openCart'>;
  watches?: Of<'watches'>;
}
// ...and a kind the domain adds is a kind the node must have.
const everyKind: [Exclude<KeysOf<SegmentRule>, keyof RuleNode>] extends [never] ? true : false = true;
void everyKind;

/** One node of the rule tree, recursive (no limits checked here: segmentRuleSchema checks them first). */
export const segmentNodeSchema: z.ZodType<RuleNode, RuleNode> = z
  .strictObject({
    get all() {
      return z
        .array(segmentNodeSchema, { error: 'must be a list of rules' })
        .max(SEGMENT_LIMITS.conditions, `must list at most ${SEGMENT_LIMITS.conditions} rules`)
        .optional()
        .meta({ description: 'Every rule holds (`[]`: every customer).' });
    },
    get any() {
      return z
        .array(segmentNodeSchema, { error: 'must be a list of rules' })
        .min(1, 'must list at least one rule')
        .max(SEGMENT_LIMITS.conditions, `must list at most ${SEGMENT_LIMITS.conditions} rules`)
        .optional()
        .meta({ description: 'At least one rule holds.' });
    },
    get not() {
      return segmentNodeSchema.optional().meta({ description: 'The rule does not hold.' });
    },
    attribute: oneOf(SEGMENT_ATTRIBUTES)
      .optional()
      .meta({ description: 'With `in`: the attribute is one of the values. A locale also matches its regional forms (`fr` matches `fr-CA`); a country is ISO 3166-1 alpha-2.' }),
    in: list(z.string({ error: 'must be a string' }).max(100, 'must be at most 100 characters'))
      .optional()
      .meta({ description: "With `attribute`: the values (locales, country codes or IANA zones)." }),
    customerIds: list(pathIdSchema, SEGMENT_LIMITS.customerIds).optional().meta({ description: `These customers, by id (at most ${SEGMENT_LIMITS.customerIds}).` }),
    created: created.optional(),
    consent: z
      .strictObject({ channel: oneOf(CHANNELS), category: oneOf(MARKETING_CATEGORIES), granted: bool('granted or withdrawn') })
      .optional()
      .meta({ description: 'The latest consent record covering the category on the channel (its own or its class `marketing`) is granted, or withdrawn. No record: neither.' }),
    preference: z
      .strictObject({ channel: oneOf(CHANNELS), category: oneOf(PREFERENCE_CATEGORIES), optedIn: bool('opted in or out') })
      .optional()
      .meta({ description: 'The customer has set this preference row (a default is not a row).' }),
    reachable: oneOf(['push', 'email', 'sms'] as const)
      .optional()
      .meta({ description: 'The customer can be reached on the channel: an active device (push), an email address, a phone number (sms).' }),
    orders: orders.optional(),
    openCart: z
      .strictObject({ olderThanHours: whole(0, 87_600).meta({ description: 'The cart has not changed (its last update) for at least N hours.' }) })
      .optional()
      .meta({ description: 'An open cart (not bought, emptied or abandoned).' }),
    watches: z
      .strictObject({ sku: pathIdSchema.optional().meta({ description: 'This product only.' }), kind: oneOf(WATCH_KINDS).optional() })
      .optional()
      .meta({ description: 'An active watch: a restock watch not yet fired, or a price-drop watch; of a product, or any.' }),
  }, { error: (issue) => (issue.code === 'invalid_type' ? 'must be a rule: an object such as { "orders": { "status": ["delivered"] } }' : undefined) })
  .superRefine((node, ctx) => {
    const kinds = RULE_KINDS.filter((k) => node[k] !== undefined);
    if (kinds.length === 0) ctx.addIssue({ code: 'custom', message: node.in !== undefined ? 'in goes with attribute' : KINDS_REASON });
    else if (kinds.length > 1) ctx.addIssue({ code: 'custom', message: `holds ${kinds.join(' and ')}: a rule holds one (combine rules with all or any)` });
    if (node.attribute !== undefined && node.in === undefined) ctx.addIssue({ code: 'custom', path: ['in'], message: 'is required with attribute' });
    if (node.in !== undefined && node.attribute === undefined && kinds.length > 0) ctx.addIssue({ code: 'custom', path: ['in'], message: 'is only for an attribute rule' });
    if (node.attribute !== undefined && node.in !== undefined) {
      node.in.forEach((value, i) => {
        const reason = ATTRIBUTE_VALUE[node.attribute!](value);
        if (reason) ctx.addIssue({ code: 'custom', path: ['in', i], message: reason });
      });
    }
  })
  .meta({
    description:
      'A segment rule: a group (`all`, `any`, `not`) of rules, or one condition. Exactly one kind per object (`attribute` goes with `in`). ' +
      `At most ${SEGMENT_LIMITS.depth} levels deep and ${SEGMENT_LIMITS.conditions} conditions in all.`,
    oneOf: RULE_KINDS.map((k) => (k === 'attribute' ? { required: ['attribute', 'in'] } : { required: [k], not: { required: ['in'] } })),
  });

/** The depth (in nodes) and the conditions of a tree, walked without recursion; the first node past the depth limit. */
function measure(root: unknown): { tooDeep: Array<string | number> | null; conditions: number } {
  const stack: Array<{ node: unknown; depth: number; path: Array<string | number> }> = [{ node: root, depth: 1, path: [] }];
  let conditions = 0;
  while (stack.length) {
    const { node, depth, path } = stack.pop()!;
    if (depth > SEGMENT_LIMITS.depth) return { tooDeep: path, conditions };
    if (typeof node !== 'object' || node === null) continue;
    const n = node as Record<string, unknown>;
    const children: Array<{ node: unknown; path: Array<string | number> }> = [];
    if (Array.isArray(n.all)) n.all.forEach((c, i) => children.push({ node: c, path: [...path, 'all', i] }));
    if (Array.isArray(n.any)) n.any.forEach((c, i) => children.push({ node: c, path: [...path, 'any', i] }));
    if (n.not !== undefined) children.push({ node: n.not, path: [...path, 'not'] });
    if (children.length === 0) conditions++;
    for (const child of children.reverse()) stack.push({ ...child, depth: depth + 1 });
  }
  return { tooDeep: null, conditions };
}

/**
 * A whole rule tree: its limits (SEGMENT_LIMITS) first, then every node. Errors name the node's path
 * (`rule.all.1.orders.withinDays` in a body's `rule`).
 */
export const segmentRuleSchema = z.preprocess((raw, ctx) => {
  const { tooDeep, conditions } = measure(raw);
  if (tooDeep) ctx.addIssue({ code: 'custom', path: tooDeep, message: `nests deeper than ${SEGMENT_LIMITS.depth} levels` });
  else if (conditions > SEGMENT_LIMITS.conditions) ctx.addIssue({ code: 'custom', message: `holds ${conditions} conditions; at most ${SEGMENT_LIMITS.conditions}` });
  return raw;
}, segmentNodeSchema);

/** The rule as domain/segments.ts types it: the schema admits exactly one kind per node. */
export const asSegmentRule = (node: RuleNode): SegmentRule => node as SegmentRule;

// ------------------------------------------------------------------------------------------------ requests

export const segmentPath = z.object({ segmentId: pathIdSchema.meta({ description: 'The segment id, chosen by the caller (such as `lapsed-fr`).' }) });

export const segmentInputSchema = z
  .strictObject({
    name: text(200).min(1, 'must not be empty').meta({ description: 'What the segment is, for people.' }),
    description: text(2000).nullish().meta({ description: 'Notes; null or left out: none.' }),
    rule: segmentRuleSchema,
  })
  .meta({ description: 'A segment: a name and a rule tree over customers.' });
export type SegmentInput = z.output<typeof segmentInputSchema>;

export const segmentListQuerySchema = pageQuerySchema;

export const segmentPreviewQuerySchema = z.object({
  sample: z.coerce
    .number({ error: 'must be a number' })
    .int('must be an integer')
    .min(0, 'must be at least 0')
    .max(100, 'must be at most 100')
    .default(10)
    .meta({ description: 'How many matching customers to show (the first by id): 0 to 100, 10 when not given.' }),
});

// ------------------------------------------------------------------------------------------------ answers

const dateTime = z.codec(z.iso.datetime(), z.date(), { decode: (iso) => new Date(iso), encode: (date) => date.toISOString() });

export const segmentResponse = z.strictObject({
  segmentId: z.string().meta({ description: 'The segment id.' }),
  name: z.string(),
  description: z.string().nullable(),
  rule: segmentNodeSchema,
  createdAt: dateTime.meta({ description: 'When it was first put.' }),
  updatedAt: dateTime.meta({ description: 'When it was last put.' }),
});
export type SegmentView = z.output<typeof segmentResponse>;

export const sizedSegmentResponse = segmentResponse.extend({
  size: z.number().int().min(0).meta({ description: 'How many customers the rule matches now (one COUNT over the rule).' }),
  evaluatedAt: dateTime.meta({ description: 'The time "now" was for the relative conditions (within N days, older than N hours).' }),
});

export const segmentPageResponse = z.strictObject({
  items: z.array(segmentResponse),
  nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page.' }),
});

export const segmentPreviewResponse = z.strictObject({
  segmentId: z.string(),
  count: z.number().int().min(0).meta({ description: 'How many customers match now.' }),
  sample: z
    .array(
      z.strictObject({
        customerId: z.string(),
        name: z.string().nullable(),
        locale: z.string(),
        country: z.string().nullable(),
        timeZone: z.string(),
        createdAt: dateTime,
      }),
    )
    .meta({ description: 'The first matching customers by id, at most `sample`.' }),
  evaluatedAt: dateTime.meta({ description: 'When the count and the sample were taken (one snapshot).' }),
});
