// Request and response schemas of the campaign operations (api/routes/campaigns.ts), from which the OpenAPI
// document describes them too.
import { z } from 'zod';
import { CAMPAIGN_STATUSES, CATEGORY_TREE, MARKETING_CATEGORIES } from '../domain';
import { CAMPAIGN_TEMPLATE_KEY_PATTERN } from '../domain/template-variables';
import { isoDateTime, pageQuerySchema, pathIdSchema } from './schemas';

const NO_NUL = /^[^\u0000]*$/;
const required = (what: string) => ({ error: (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}`) });

/** The channels a campaign may send on (the in-app inbox is not one yet). */
export const CAMPAIGN_CHANNELS = ['push', 'email', 'sms'] as const;
const CHANNEL_REASON = `must be one of ${CAMPAIGN_CHANNELS.join(', ')} (campaigns do not write the in-app inbox)`;
const CATEGORY_REASON = `must be marketing or one of its topics: ${MARKETING_CATEGORIES.join(', ')}`;
const TRANSACTIONAL = new Set<string>(['transactional', ...CATEGORY_TREE.transactional]);
const TEMPLATE_REASON = 'must be a campaign template key, campaign.<name> (lower-case letters, digits, ".", "_", "-")';

const campaignTemplateKey = z
  .string(required('a campaign template key'))
  .regex(new RegExp(`^${CAMPAIGN_TEMPLATE_KEY_PATTERN}$`), TEMPLATE_REASON)
  .meta({ description: "A campaign template's key, `campaign.<name>`: its versions are managed under `/v1/templates/{key}`." });

const channel = z.enum(CAMPAIGN_CHANNELS, { error: CHANNEL_REASON });

export const campaignScheduleSchema = z
  .discriminatedUnion(
    'type',
    [
      z.strictObject({ type: z.literal('now') }).meta({ description: 'As soon as the campaign starts.' }),
      z
        .strictObject({
          type: z.literal('at'),
          at: isoDateTime('must be an ISO 8601 date-time with its time zone, such as 2026-12-04T09:00:00Z').meta({ description: 'When, for everyone (a time past when started: at once).' }),
        })
        .meta({ description: 'At one instant for everyone.' }),
      z
        .strictObject({
          type: z.literal('local'),
          localTime: z
            .string(required('a local time HH:MM (24-hour)'))
            .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:MM (24-hour)')
            .meta({ description: 'The wall-clock time in each recipient\u2019s own zone, such as `10:00`.' }),
          date: z
            .string(required('a date YYYY-MM-DD'))
            .regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'must be a date YYYY-MM-DD')
            .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'must be a date that exists')
            .optional()
            .meta({ description: 'On this local date in each zone; without it, the first such time after the start in each zone.' }),
        })
        .meta({ description: "At a local time in each recipient's zone: 10:00 in Paris, then 10:00 in New York." }),
    ],
    { error: (issue) => (issue.input === undefined ? 'is required' : 'must be { type: now }, { type: at, at } or { type: local, localTime, date? }') },
  )
  .meta({ description: 'When recipients are due: `now`, `at` an instant, or `local` time in each recipient\u2019s zone. An experiment variant\u2019s send time moves its recipients on top of it.' });

export const campaignSchema = z
  .object({
    name: z
      .string(required('a string'))
      .min(1, 'must not be empty')
      .max(200, 'must be at most 200 characters')
      .regex(NO_NUL, 'must not contain the character U+0000 (NUL)')
      .meta({ description: 'What operators call it.' }),
    segmentId: pathIdSchema.meta({ description: 'The segment (`PUT /v1/segments/{segmentId}`) whose customers it goes to, as the segment stands when it starts.' }),
    category: z
      .string(required(CATEGORY_REASON))
      .refine((c) => !TRANSACTIONAL.has(c), 'must be a marketing category: a campaign is marketing, and transactional messages go with order events')
      .refine((c) => TRANSACTIONAL.has(c) || (MARKETING_CATEGORIES as readonly string[]).includes(c), CATEGORY_REASON)
      .meta({ description: `What consent and preferences are checked against: ${MARKETING_CATEGORIES.join(', ')}.` }),
    channels: z
      .array(channel, required('a list of channels'))
      .min(1, 'must name at least one channel')
      .refine((cs) => new Set(cs).size === cs.length, 'must not name a channel twice')
      .meta({ description: 'In order of preference: each recipient gets the first they can be reached and are permitted on.' }),
    templates: z
      .record(z.string(), campaignTemplateKey, required('an object of template keys by channel'))
      .meta({ description: 'The template key per channel, e.g. `{ "push": "campaign.black-friday" }`: one for every channel named. A draft is enough here; a published version must exist when it sends.' }),
    schedule: campaignScheduleSchema,
    maxPerMinute: z
      .number(required('a whole number, 1 or more'))
      .int('must be a whole number, 1 or more')
      .min(1, 'must be a whole number, 1 or more')
      .max(1_000_000, 'must be at most 1000000')
      .nullable()
      .optional()
      .meta({ description: 'A ceiling: never more recipients than this handed to the providers in any minute. None: as fast as they take them.' }),
    experimentId: pathIdSchema.nullable().optional().meta({ description: 'An experiment (`PUT /v1/experiments/{experimentId}`) splitting the recipients into variants and a holdout.' }),
  })
  .superRefine((c, ctx) => {
    // Without channels there is nothing to hold the templates to (the channels' own reason says so).
    if (c.channels.length === 0) return;
    for (const ch of c.channels ?? []) if (!c.templates?.[ch]) ctx.addIssue({ code: 'custom', path: ['templates', ch], message: `is required: ${ch} is one of the channels` });
    for (const ch of Object.keys(c.templates ?? {})) {
      if (!(c.channels as string[]).includes(ch)) ctx.addIssue({ code: 'custom', path: ['templates', ch], message: `is not one of the channels (${c.channels.join(', ')})` });
    }
  });
export type CampaignInput = z.output<typeof campaignSchema>;

export const campaignPath = z.object({ campaignId: pathIdSchema });

export const campaignListQuerySchema = pageQuerySchema.extend({
  status: z
    .enum(CAMPAIGN_STATUSES, { error: `must be one of ${CAMPAIGN_STATUSES.join(', ')}` })
    .optional()
    .meta({ description: 'Only campaigns in this status.' }),
});

const counts = {
  targeted: z.number().nullable().meta({ description: 'Customers enrolled from the segment when it started (the holdout included); null before.' }),
  pending: z.number().meta({ description: 'Waiting for their due time (the schedule in their zone, their quiet hours) or being sent.' }),
  sent: z.number(),
  suppressed: z.record(z.string(), z.number()).meta({ description: 'Not sent, by reason: preference, no_consent, no_device, no_address, frequency_cap...' }),
  failed: z.number(),
  holdout: z.number().meta({ description: "In the experiment's holdout: enrolled, never sent." }),
  cancelled: z.number().meta({ description: 'Still pending when the campaign was cancelled.' }),
  remaining: z.number().meta({ description: 'Pending recipients: who the campaign may still send to.' }),
  nextDueAt: z.string().nullable().meta({ description: 'When the next pending recipient is due; null when none is.' }),
};

const campaignFields = {
  campaignId: z.string(),
  name: z.string(),
  segmentId: z.string(),
  category: z.string(),
  channels: z.array(z.enum(CAMPAIGN_CHANNELS)),
  templates: z.record(z.string(), z.string()),
  schedule: z.record(z.string(), z.string()).meta({ description: 'As given: `{ type, at? , localTime?, date? }`.' }),
  maxPerMinute: z.number().nullable(),
  experimentId: z.string().nullable(),
  status: z.enum(CAMPAIGN_STATUSES).meta({
    description: '`draft` (editable), `scheduled` (started, waiting for its first due recipient), `running`, `paused`, `completed`, `cancelled`.',
  }),
  targeted: z.number().nullable(),
  workflowId: z.string().meta({ description: 'The campaign workflow, `campaign:<campaignId>` (running once started).' }),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
};

export const campaignSummaryResponse = z.strictObject(campaignFields);

export const campaignResponse = z.strictObject({
  ...campaignFields,
  progress: z.strictObject(counts).nullable().meta({ description: 'Where the recipients stand; null for a draft.' }),
  progressSource: z
    .enum(['workflow', 'database'])
    .nullable()
    .meta({ description: "`workflow`: the campaign workflow's own counters (its `progress` query); `database`: counted from the recipients' rows (the workflow did not answer, or has finished)." }),
});
export type CampaignView = z.output<typeof campaignResponse>;

export const campaignListResponse = z.strictObject({
  items: z.array(campaignSummaryResponse),
  nextCursor: z.string().nullable().meta({ description: 'The cursor of the next page; null on the last.' }),
});

export const campaignActionResponse = z.strictObject({
  campaignId: z.string(),
  workflowId: z.string(),
  status: z.enum(CAMPAIGN_STATUSES).meta({ description: 'The status as recorded when the request was taken; the workflow moves it (paused once the batches in flight finish).' }),
  requested: z.enum(['start', 'pause', 'resume', 'cancel']),
});
