// Experiments (README, "Experiments"): the request schema of PUT /v1/experiments/{experimentId}, shared with the
// campaigns (a campaign names its experiment), and the answers of the experiment routes. The rules a field alone
// cannot state (unique variant ids, a control that exists, what each kind needs, no holdout on order updates) are
// checked here too, each as a 400 naming its field.
import ms from 'ms';
import { z } from 'zod';
import { CHANNELS, EXPERIMENT_KINDS, HOLDOUT, ORDER_STATUSES, type ExperimentVariant } from '../domain';
import { baseTemplateKey, VARIANT_TEMPLATE_NAME } from '../domain/template-variables';
import { dateTime, nextCursor, nullableDateTime } from './response-schemas';
import { pageQuerySchema, pathIdSchema } from './schemas';

/** The attribution window when none is given: orders within 7 days of the send count. */
export const DEFAULT_ATTRIBUTION_WINDOW_SECONDS = 7 * 24 * 3600;
const MIN_WINDOW_SECONDS = 60;
const MAX_WINDOW_SECONDS = 90 * 24 * 3600;
const MAX_VARIANTS = 20;

const VARIANT_ID = new RegExp(`^${VARIANT_TEMPLATE_NAME}$`);
const CAMPAIGN_TEMPLATE_KEY = /^[a-z0-9][a-z0-9._-]{0,99}$/;
const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;
// ms 2 answers undefined for text it cannot read (and ms 3 NaN); the check below refuses both.
const parseMs = ms as unknown as (value: string) => number | undefined;
/** What ms reads the text as, or undefined: it throws for an empty string. */
function readMs(value: string): number | undefined {
  try {
    return parseMs(value);
  } catch {
    return undefined;
  }
}

const sendAtSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('schedule') }),
    z.strictObject({ type: z.literal('local'), localTime: z.string().regex(CLOCK, 'must be a local time HH:MM (24-hour)') }),
    z.strictObject({
      type: z.literal('delay'),
      minutes: z.number().int('must be a whole number of minutes').min(1, 'must be at least 1').max(10_080, 'must be at most 10080 (7 days)'),
    }),
  ],
  { error: 'must be {"type":"schedule"}, {"type":"local","localTime":"HH:MM"} or {"type":"delay","minutes":N}' },
);

const variantSchema = z.strictObject({
  id: z
    .string({ error: 'is required' })
    .regex(VARIANT_ID, "must be a short name: lower-case letters, digits, '_' and '-', starting with a letter or digit, at most 40")
    .meta({ description: 'The variant\'s name: `control`, `b`, `evening`... (`holdout` is reserved).' }),
  weight: z
    .number({ error: 'must be a number' })
    .positive('must be more than 0')
    .max(1_000_000, 'must be at most 1000000')
    .meta({ description: 'Relative weight among the variants (after the holdout share is taken).' }),
  templates: z
    .partialRecord(z.enum(CHANNELS, { error: `must be one of ${CHANNELS.join(', ')}` }), z.string().regex(CAMPAIGN_TEMPLATE_KEY, 'must be a template key'))
    .optional()
    .meta({
      description:
        'kind `content`: the template key per channel this variant sends instead of the default. In an order-update experiment each key is the ' +
        "notification's own (`order.shipped`) or a variant of it (`order.shipped.<name>`); a channel not listed sends the default.",
    }),
  sendAt: sendAtSchema.optional().meta({ description: 'kind `send_time`: when this variant\'s recipients are due, relative to the campaign\'s schedule.' }),
  channel: z
    .enum(CHANNELS, { error: `must be one of ${CHANNELS.join(', ')}` })
    .optional()
    .meta({ description: 'kind `channel`: the channel this variant sends on first.' }),
});

/** "7d", "48h", "90m", "7 days" (as the `ms` package reads them) or a number of seconds. */
const attributionWindowSchema = z
  .union([z.string().max(40, 'must be at most 40 characters'), z.number()], { error: 'must be a duration such as "7d" or "48h", or a number of seconds' })
  .transform((value, ctx) => {
    const seconds = typeof value === 'number' ? value : (readMs(value) ?? NaN) / 1000;
    if (!Number.isFinite(seconds) || !Number.isInteger(seconds)) {
      ctx.addIssue({ code: 'custom', message: 'must be a duration such as "7d", "48h" or "90m", or a whole number of seconds' });
      return z.NEVER;
    }
    if (seconds < MIN_WINDOW_SECONDS || seconds > MAX_WINDOW_SECONDS) {
      ctx.addIssue({ code: 'custom', message: 'must be between 1 minute and 90 days' });
      return z.NEVER;
    }
    return seconds;
  })
  .meta({ description: 'Orders placed within this time after the send count as conversions: "7d", "48h", "90m" or seconds (1 minute to 90 days); 7 days when not given.' });

/** What every variant of a kind must carry, and what no other kind may. */
const KIND_FIELD = { content: 'templates', send_time: 'sendAt', channel: 'channel' } as const;

/**
 * PUT /v1/experiments/{experimentId}: an experiment, as created or replaced. Changing the variants (ids, weights,
 * what they send), the control or the holdout once anyone is assigned is a 409; the name and the status may change.
 */
export const experimentSchema = z
  .strictObject({
    name: z.string({ error: 'is required' }).min(1, 'must not be empty').max(200, 'must be at most 200 characters').regex(/^[^\u0000]*$/, 'must not contain U+0000'),
    kind: z.enum(EXPERIMENT_KINDS, { error: `must be one of ${EXPERIMENT_KINDS.join(', ')}` }).meta({
      description: '`content`: each variant sends other templates; `send_time`: at another time; `channel`: on another channel. Order-update experiments are `content`.',
    }),
    variants: z
      .array(variantSchema, { error: 'must be a list of variants' })
      .min(2, 'must have at least 2 variants')
      .max(MAX_VARIANTS, `must have at most ${MAX_VARIANTS} variants`),
    control: z.string({ error: 'is required' }).meta({ description: 'The variant lift is measured against: a variant id, or `holdout` when there is a holdout.' }),
    holdout: z
      .number({ error: 'must be a number' })
      .min(0, 'must be at least 0')
      .max(0.5, 'must be at most 0.5')
      .default(0)
      .meta({ description: 'The share of customers held out (sent nothing), 0 to 0.5; 0 when not given. Never on an order-update experiment.' }),
    attributionWindow: attributionWindowSchema.optional(),
    notificationType: z
      .enum(ORDER_STATUSES, { error: `must be an order status whose update is varied: ${ORDER_STATUSES.join(', ')}` })
      .nullable()
      .optional()
      .meta({ description: "An order-update experiment: the order status whose notification it varies (`shipped`); null or absent for a campaign's." }),
    status: z.enum(['active', 'stopped'], { error: 'must be active or stopped' }).default('active').meta({
      description: '`active` assigns customers; `stopped` assigns nobody new (the assigned keep their variant, and results still count).',
    }),
  })
  .superRefine((input, ctx) => {
    const issue = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path, message });
    const ids = input.variants.map((v) => v.id);
    input.variants.forEach((v, i) => {
      if (v.id === HOLDOUT) issue(['variants', i, 'id'], `"${HOLDOUT}" is reserved for the holdout group; set holdout instead`);
      else if (ids.indexOf(v.id) !== i) issue(['variants', i, 'id'], `is the id of variant ${ids.indexOf(v.id)} too; variant ids must be unique`);
      const needed = KIND_FIELD[input.kind];
      if (v[needed] === undefined || (needed === 'templates' && Object.keys(v.templates ?? {}).length === 0)) {
        issue(['variants', i, needed], `is required for kind ${input.kind}`);
      }
      for (const [kind, field] of Object.entries(KIND_FIELD)) {
        if (kind !== input.kind && v[field] !== undefined) issue(['variants', i, field], `only ${kind} experiments have it (this one is ${input.kind})`);
      }
    });
    if (input.notificationType) {
      const own = `order.${input.notificationType}`;
      if (input.kind !== 'content') issue(['kind'], 'an order-update experiment varies the content: it must be kind content');
      if (input.holdout > 0) {
        issue(['holdout'], 'order updates are transactional and never withheld: an order-update experiment cannot have a holdout (use 0)');
      }
      input.variants.forEach((v, i) => {
        for (const [channel, key] of Object.entries(v.templates ?? {})) {
          if (baseTemplateKey(key) !== own) issue(['variants', i, 'templates', channel], `must be ${own} or a variant of it, ${own}.<name>`);
        }
      });
    }
    if (input.control === HOLDOUT) {
      if (input.holdout <= 0) issue(['control'], 'is the holdout, but there is no holdout group (set holdout above 0, or name a variant)');
    } else if (!ids.includes(input.control)) {
      issue(['control'], `must be one of the variant ids (${ids.join(', ')})${input.holdout > 0 ? ' or holdout' : ''}`);
    }
  });

export type ExperimentInput = z.output<typeof experimentSchema>;

/** The variants as the domain reads them (domain/experiments.ts), without the fields zod leaves undefined. */
export const variantsOf = (input: Pick<ExperimentInput, 'variants'>): ExperimentVariant[] =>
  input.variants.map((v) => ({
    id: v.id,
    weight: v.weight,
    ...(v.templates ? { templates: v.templates } : {}),
    ...(v.sendAt ? { sendAt: v.sendAt } : {}),
    ...(v.channel ? { channel: v.channel } : {}),
  }));

export const experimentPath = z.object({ experimentId: pathIdSchema.meta({ description: 'The experiment id, chosen by the caller.' }) });

export const experimentListQuerySchema = pageQuerySchema.extend({
  status: z.enum(['active', 'stopped'], { error: 'must be active or stopped' }).optional().meta({ description: 'Only active or only stopped experiments.' }),
});

// -------------------------------------------------------------------------------------------- answers

const variantResponse = z.object({
  id: z.string(),
  weight: z.number(),
  templates: z.partialRecord(z.enum(CHANNELS), z.string()).optional(),
  sendAt: z
    .union([
      z.object({ type: z.literal('schedule') }),
      z.object({ type: z.literal('local'), localTime: z.string() }),
      z.object({ type: z.literal('delay'), minutes: z.number() }),
    ])
    .optional(),
  channel: z.enum(CHANNELS).optional(),
});

export const experimentResponse = z.strictObject({
  experimentId: z.string(),
  name: z.string(),
  kind: z.enum(EXPERIMENT_KINDS),
  variants: z.array(variantResponse),
  control: z.string(),
  holdout: z.number(),
  attributionWindowSeconds: z.int().meta({ description: 'Orders within this many seconds after the send count as conversions.' }),
  notificationType: z.enum(ORDER_STATUSES).nullable(),
  status: z.enum(['active', 'stopped']),
  campaignId: z.string().nullable().meta({ description: 'The campaign that runs it; null for an order-update experiment or one no campaign names yet.' }),
  assigned: z.int().min(0).meta({ description: 'Customers assigned so far (every variant and the holdout).' }),
  createdAt: dateTime,
  updatedAt: dateTime,
});

export const experimentPageResponse = z.object({ items: z.array(experimentResponse), nextCursor });

const comparisonResponse = z
  .strictObject({
    baseline: z.string().meta({ description: 'What this variant is compared with: the control, or `holdout`.' }),
    difference: z.number().meta({ description: "The variant's conversion rate minus the baseline's." }),
    lift: z.number().nullable().meta({ description: '(rate - baseline rate) / baseline rate; null when the baseline converted nobody.' }),
    z: z.number().nullable().meta({ description: 'The pooled two-proportion z statistic; null when it is undefined (no variance).' }),
    pValue: z.number().nullable().meta({ description: 'Two-sided p-value of the z-test; null with z.' }),
    confidenceInterval: z
      .array(z.number())
      .length(2)
      .nullable()
      .meta({ description: 'The 95% confidence interval (Wald) of the difference in conversion rate, [low, high]; null when a group is empty.' }),
  })
  .meta({ description: "A variant's conversion rate against a baseline's." });

export const variantResultResponse = z.strictObject({
  variant: z.string().meta({ description: 'The variant id, or `holdout`.' }),
  isControl: z.boolean(),
  assigned: z.int().min(0).meta({ description: 'Customers assigned: the denominator of every rate (intent to treat).' }),
  exposed: z.int().min(0).meta({ description: "Customers who got the variant's message (for the holdout: who would have)." }),
  sent: z.int().min(0).meta({ description: 'Customers a message of the experiment was sent to.' }),
  delivered: z.int().min(0),
  opened: z.int().min(0),
  clicked: z.int().min(0),
  unsubscribed: z.int().min(0).meta({ description: "Customers who withdrew consent to, or opted out of, the messages' category within the window after exposure." }),
  conversions: z.int().min(0).meta({ description: 'Customers with an order confirmed within the attribution window after exposure.' }),
  conversionRate: z.number().nullable().meta({ description: 'conversions / assigned; null when nobody is assigned.' }),
  conversionRateInterval: z
    .array(z.number())
    .length(2)
    .nullable()
    .meta({ description: 'The 95% confidence interval (Wilson score) of the conversion rate, [low, high]; null when nobody is assigned.' }),
  maturing: z.int().min(0).meta({ description: 'Assigned customers whose attribution window is still open: their conversion may yet come.' }),
  vsControl: comparisonResponse.nullable().meta({ description: 'Against the control; null for the control itself.' }),
  vsHoldout: comparisonResponse.nullable().meta({ description: 'Against the holdout, when there is one; null otherwise and for the holdout itself.' }),
});

export const experimentResultsResponse = z.strictObject({
  experimentId: z.string(),
  name: z.string(),
  kind: z.enum(EXPERIMENT_KINDS),
  status: z.enum(['active', 'stopped']),
  control: z.string(),
  attributionWindowSeconds: z.int(),
  confidence: z.number().meta({ description: 'The confidence level of the intervals (0.95).' }),
  computedAt: dateTime,
  firstExposedAt: nullableDateTime.meta({ description: 'The first exposure (or assignment) of anyone; null before any.' }),
  variants: z.array(variantResultResponse).meta({ description: 'Each variant in the order declared, then the holdout when there is one.' }),
});

export type ExperimentView = z.output<typeof experimentResponse>;
export type ExperimentResultsView = z.output<typeof experimentResultsResponse>;
export type VariantResultView = z.output<typeof variantResultResponse>;
