// Campaigns: a message to a segment, run by the workflow `campaign:<campaignId>` (workflows/campaign.ts). Drafts
// are edited with PUT; start, pause, resume and cancel go to the workflow; GET shows its progress.
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { campaignWorkflowId, type CampaignCounts, type CampaignStatus, type ExperimentVariant } from '../../domain';
import { isCampaignTemplateKey } from '../../domain/template-variables';
import type { Db } from '../../lib/db';
import { Prisma } from '../../lib/db';
import { countCampaignRecipients } from '../../store/campaigns';
import { campaignProgressQuery, cancelCampaignSignal, pauseCampaignSignal, resumeCampaignSignal } from '../../workflows/definitions';
import type { campaignWorkflow } from '../../workflows/campaign';
import {
  campaignActionResponse,
  campaignListQuerySchema,
  campaignListResponse,
  campaignPath,
  campaignResponse,
  campaignSchema,
  campaignSummaryResponse,
  type CampaignInput,
  type CampaignView,
} from '../campaign-schemas';
import { HttpError } from '../errors';
import { decodeTimeCursor, encodeTimeCursor, olderThan } from '../paging';
import { defineRoute, type Route } from '../route';
import type { z } from 'zod';

/** How long GET waits for the workflow's own counters before counting the rows instead. */
const QUERY_DEADLINE_MS = 2000;

type CampaignRow = NonNullable<Awaited<ReturnType<Db['campaign']['findUnique']>>>;

function summaryOf(c: CampaignRow): z.output<typeof campaignSummaryResponse> {
  return {
    campaignId: c.id,
    name: c.name,
    segmentId: c.segmentId,
    category: c.category,
    channels: c.channels.filter((ch): ch is 'push' | 'email' | 'sms' => ch !== 'inapp'),
    templates: c.templates as Record<string, string>,
    schedule: c.schedule as Record<string, string>,
    maxPerMinute: c.maxPerMinute,
    experimentId: c.experimentId,
    status: c.status,
    targeted: c.targeted,
    workflowId: campaignWorkflowId(c.id),
    startedAt: c.startedAt?.toISOString() ?? null,
    finishedAt: c.finishedAt?.toISOString() ?? null,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

const withRemaining = (counts: CampaignCounts) => ({ ...counts, remaining: counts.pending });

/** Progress from the workflow while it runs (its counters), else from the recipients' rows. */
async function viewOf(c: CampaignRow, db: Db, temporal: Client): Promise<CampaignView> {
  const summary = summaryOf(c);
  if (c.status === 'draft') return { ...summary, progress: null, progressSource: null };
  if (c.status !== 'completed' && c.status !== 'cancelled') {
    try {
      const p = await temporal.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => temporal.workflow.getHandle(campaignWorkflowId(c.id)).query(campaignProgressQuery));
      const { campaignId: _id, status: _status, inFlight: _inFlight, ...counts } = p;
      return { ...summary, progress: { ...counts, remaining: p.remaining }, progressSource: 'workflow' };
    } catch {
      // The workflow is not there yet, or Temporal did not answer in time: the rows say where things stand.
    }
  }
  return { ...summary, progress: withRemaining(await countCampaignRecipients(db, c.id)), progressSource: 'database' };
}

async function loadCampaign(db: Db, campaignId: string): Promise<CampaignRow> {
  const c = await db.campaign.findUnique({ where: { id: campaignId } });
  if (!c) throw new HttpError(404, 'not_found', `no campaign ${campaignId}`);
  return c;
}

const invalidBody = (field: string, reason: string) => new HttpError(400, 'validation_failed', `invalid body: ${field}: ${reason}`, [{ field, reason }]);

/** What the body names must exist: the segment, a template per channel (a draft is enough), an experiment for campaigns. */
async function checkReferences(db: Db, campaignId: string, body: CampaignInput): Promise<void> {
  if (!(await db.segment.findUnique({ where: { id: body.segmentId }, select: { id: true } }))) throw invalidBody('segmentId', `no segment ${body.segmentId}`);
  for (const [channel, key] of Object.entries(body.templates)) {
    const template = await db.template.findFirst({ where: { key: key!, channel: channel as 'push' | 'email' | 'sms' }, select: { id: true } });
    if (!template) throw invalidBody(`templates.${channel}`, `no ${channel} template ${key}: create one with POST /v1/templates/${key}/versions`);
  }
  if (body.experimentId) {
    const experiment = await db.experiment.findUnique({ where: { id: body.experimentId }, include: { campaign: { select: { id: true } } } });
    if (!experiment) throw invalidBody('experimentId', `no experiment ${body.experimentId}`);
    if (experiment.notificationType) throw invalidBody('experimentId', `experiment ${body.experimentId} varies ${experiment.notificationType} order updates, not a campaign`);
    if (experiment.campaign && experiment.campaign.id !== campaignId) throw invalidBody('experimentId', `experiment ${body.experimentId} belongs to campaign ${experiment.campaign.id}`);
    if (experiment.status !== 'active') throw invalidBody('experimentId', `experiment ${body.experimentId} is ${experiment.status}: it assigns nobody`);
    // Each variant must be sendable by this campaign: its channel one of the campaign's, its templates campaign keys that exist.
    const variants = experiment.variants as unknown as ExperimentVariant[];
    for (const [i, v] of variants.entries()) {
      if (v.channel && !body.channels.includes(v.channel as (typeof body.channels)[number])) {
        throw invalidBody('experimentId', `variant ${v.id} of experiment ${body.experimentId} sends on ${v.channel}, which is not one of the campaign's channels (${body.channels.join(', ')})`);
      }
      for (const [channel, key] of Object.entries(v.templates ?? {})) {
        const field = `experimentId`;
        if (!isCampaignTemplateKey(key)) throw invalidBody(field, `variant ${v.id} (variants.${i}) names template ${key} for ${channel}: a campaign's templates are campaign.<name> keys`);
        if (!body.channels.includes(channel as (typeof body.channels)[number])) throw invalidBody(field, `variant ${v.id} (variants.${i}) has a ${channel} template, but the campaign does not send on ${channel}`);
        const template = await db.template.findFirst({ where: { key, channel: channel as 'push' | 'email' | 'sms' }, select: { id: true } });
        if (!template) throw invalidBody(field, `variant ${v.id} (variants.${i}): no ${channel} template ${key}: create one with POST /v1/templates/${key}/versions`);
      }
    }
  }
}

const PAST = { pause: 'paused', resume: 'resumed', cancel: 'cancelled' } as const;
const notAllowed = (c: CampaignRow, action: string) => new HttpError(409, 'campaign_status_conflict', `campaign ${c.id} is ${c.status}: it cannot be ${action}`);

/** Signals the running campaign; a workflow gone (or never started) leaves the recorded status as it is. */
async function signal(temporal: Client, c: CampaignRow, which: 'pause' | 'resume' | 'cancel'): Promise<void> {
  const handle = temporal.workflow.getHandle(campaignWorkflowId(c.id));
  const definition = which === 'pause' ? pauseCampaignSignal : which === 'resume' ? resumeCampaignSignal : cancelCampaignSignal;
  try {
    await handle.signal(definition);
  } catch (err) {
    // Recorded as started, but its workflow is not running (its start failed, or it finished meanwhile).
    if (err instanceof WorkflowNotFoundError) throw new HttpError(409, 'campaign_status_conflict', `campaign ${c.id} has no running workflow: start it again, or read its status`);
    throw err;
  }
}

const action = (which: 'pause' | 'resume' | 'cancel', allowed: CampaignStatus[], summary: string, description: string): Route =>
  defineRoute({
    method: 'post',
    path: `/v1/campaigns/{campaignId}/${which}`,
    operationId: `${which}Campaign`,
    tag: 'Campaigns',
    summary,
    description,
    scope: 'admin',
    params: campaignPath,
    responses: { 202: { description: 'Taken: the workflow was signalled.', body: campaignActionResponse } },
    errors: { 404: 'No such campaign.', 409: `\`campaign_status_conflict\`: the campaign is not ${allowed.join(', ')}.` },
    handler: async ({ params: { campaignId } }, { db, temporal }) => {
      const c = await loadCampaign(db, campaignId);
      if (!allowed.includes(c.status)) throw notAllowed(c, PAST[which]);
      await signal(temporal, c, which);
      return { status: 202, body: { campaignId, workflowId: campaignWorkflowId(campaignId), status: c.status, requested: which } };
    },
  });

export const campaignRoutes: Route[] = [
  defineRoute({
    method: 'put',
    path: '/v1/campaigns/{campaignId}',
    operationId: 'putCampaign',
    tag: 'Campaigns',
    summary: 'Create or edit a draft campaign',
    description:
      'A campaign sends one marketing message to each customer of a segment: the first of its `channels` each can be reached and is permitted on ' +
      '(consent and preferences for its `category`), outside their quiet hours (a recipient in them waits for the window to end, in their zone), ' +
      'within the frequency caps, rendered from the channel\u2019s template in their locale. The segment, each template (a draft is enough) and the ' +
      'experiment must exist. A campaign is editable while it is a draft; once started it is a 409.',
    scope: 'admin',
    params: campaignPath,
    body: campaignSchema,
    responses: { 200: { description: 'Updated.', body: campaignResponse }, 201: { description: 'Created (a draft).', body: campaignResponse } },
    errors: { 409: '`campaign_started`: the campaign has started; only a draft is edited.' },
    handler: async ({ params: { campaignId }, body }, { db, temporal }) => {
      const existing = await db.campaign.findUnique({ where: { id: campaignId } });
      if (existing && existing.status !== 'draft') throw new HttpError(409, 'campaign_started', `campaign ${campaignId} is ${existing.status}: only a draft campaign is edited`);
      await checkReferences(db, campaignId, body);
      const values = {
        name: body.name,
        segmentId: body.segmentId,
        category: body.category,
        channels: body.channels,
        templates: body.templates as Prisma.InputJsonValue,
        schedule: body.schedule as Prisma.InputJsonValue,
        maxPerMinute: body.maxPerMinute ?? null,
        experimentId: body.experimentId ?? null,
      };
      let row: CampaignRow;
      try {
        // Still a draft when written: a start racing this edit wins, and the edit is the 409.
        row = existing
          ? await db.campaign.update({ where: { id: campaignId, status: 'draft' }, data: values })
          : await db.campaign.create({ data: { id: campaignId, ...values } });
      } catch (err) {
        if (err instanceof Prisma.PrismaClientKnownRequestError && (err.code === 'P2025' || err.code === 'P2002')) {
          throw new HttpError(409, 'campaign_started', `campaign ${campaignId} changed meanwhile: only a draft campaign is edited`);
        }
        throw err;
      }
      return { status: existing ? 200 : 201, body: await viewOf(row, db, temporal) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/campaigns/{campaignId}',
    operationId: 'getCampaign',
    tag: 'Campaigns',
    summary: 'A campaign and its progress',
    description:
      'Progress: targeted, pending, sent, suppressed by reason, failed, holdout, cancelled and remaining. While the campaign runs it comes from its ' +
      'workflow (`progressSource: workflow`); otherwise, or when the workflow does not answer within 2 seconds, it is counted from the recipients (`database`).',
    scope: 'read',
    params: campaignPath,
    responses: { 200: { description: 'The campaign.', body: campaignResponse } },
    errors: { 404: 'No such campaign.' },
    handler: async ({ params: { campaignId } }, { db, temporal }) => {
      return { status: 200, body: await viewOf(await loadCampaign(db, campaignId), db, temporal) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/campaigns',
    operationId: 'listCampaigns',
    tag: 'Campaigns',
    summary: 'Campaigns, newest first',
    scope: 'read',
    query: campaignListQuerySchema,
    responses: { 200: { description: 'A page of campaigns; `nextCursor` for the next.', body: campaignListResponse } },
    handler: async ({ query }, { db }) => {
      const after = query.cursor ? decodeTimeCursor(query.cursor) : null;
      const rows = await db.campaign.findMany({
        where: { ...(query.status ? { status: query.status } : {}), ...(after ? olderThan(after) : {}) },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: query.limit + 1,
      });
      const items = rows.slice(0, query.limit);
      return { status: 200, body: { items: items.map(summaryOf), nextCursor: rows.length > query.limit ? encodeTimeCursor(items.at(-1)!) : null } };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/campaigns/{campaignId}/start',
    operationId: 'startCampaign',
    tag: 'Campaigns',
    summary: 'Start a campaign',
    description:
      'Starts the workflow `campaign:<campaignId>`: it enrols the segment as it stands now, then sends to each recipient when due. ' +
      'Starting again answers the same workflow; a campaign starts once.',
    scope: 'admin',
    params: campaignPath,
    responses: { 202: { description: 'Started (or already started).', body: campaignActionResponse } },
    errors: { 404: 'No such campaign.' },
    handler: async ({ params: { campaignId } }, { db, temporal, replay }) => {
      let c = await loadCampaign(db, campaignId);
      if (c.status === 'draft') {
        await db.campaign.updateMany({ where: { id: campaignId, status: 'draft' }, data: { status: 'scheduled' } });
        c = await loadCampaign(db, campaignId);
      }
      if (c.status === 'scheduled' && !c.startedAt) {
        try {
          await temporal.workflow.start<typeof campaignWorkflow>('campaignWorkflow', {
            workflowId: campaignWorkflowId(campaignId),
            taskQueue: replay.taskQueue,
            args: [{ campaignId }],
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
          });
        } catch (err) {
          // Started already (a retried request): the same workflow answers.
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
      }
      return { status: 202, body: { campaignId, workflowId: campaignWorkflowId(campaignId), status: c.status, requested: 'start' as const } };
    },
  }),
  action('pause', ['scheduled', 'running', 'paused'], 'Pause a campaign', 'No new batches start; those in flight finish, then the campaign is `paused`. Pausing a paused campaign changes nothing.'),
  action('resume', ['scheduled', 'running', 'paused'], 'Resume a paused campaign', 'The campaign carries on where it stopped: nobody it reached is sent it again. Resuming a campaign that is not paused changes nothing.'),
  action(
    'cancel',
    ['scheduled', 'running', 'paused'],
    'Cancel a campaign',
    'No new batches start; once those in flight finish, every recipient still pending is `cancelled` and so is the campaign. Nobody reached is affected.',
  ),
];
