// The side effects of a campaign run (workflows/campaign.ts): enrolling the segment's customers as recipients,
// finding the recipients due by the workflow's clock, and one batch of them carried out. A batch decides every
// recipient (the first of the campaign's channels they can be reached and are permitted on, quiet hours in their
// zone, frequency caps), records each decision as a Notification with the recipient's status in one transaction
// before anything is sent, then sends (FCM sendEach and concurrent APNs streams through activities/bulk-push.ts,
// pooled SMTP, Twilio) and settles. A retried or restarted batch skips what an earlier attempt settled, so nobody
// gets a campaign twice. Everything is set-wise SQL: a few statements per batch, never one per recipient.
import { ApplicationFailure, Context } from '@temporalio/activity';
import ms from 'ms';
import {
  assignVariant,
  CAMPAIGN_NOTIFICATION_TYPE,
  campaignNotificationId,
  capRulesFor,
  classOf,
  decideChannels,
  describeCapRule,
  E164_NUMBER,
  HOLDOUT,
  isPreferenceCategory,
  quietHoursEnd,
  recipientDueAt,
  type CampaignCounts,
  type CampaignSchedule,
  type Channel,
  type DeliveryChannel,
  type ExperimentDesign,
  type ExperimentVariant,
  type FrequencyCapRule,
  type NotificationKind,
  type PreferenceState,
  type PushMessage,
  type SegmentRule,
  type SuppressionReason,
  type Topic,
} from '../domain';
import { Prisma, type Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import type { TrackingSettings } from '../lib/tracking';
import { countCampaignRecipients } from '../store/campaigns';
import { preferenceStateColumns } from '../store/preferences';
import { pageSegment } from '../store/segments';
import { activityAbandoned, createBulkPusher, stopIfAbandoned, type BulkPushDevice } from './bulk-push';
import { sendSlot, type SendRate } from './send-rate';
import { claimFrequencySlots } from './frequency-caps';
import type { MessageProviders } from './providers/message-provider';
import { ProviderError, type PushProviders } from './providers/push-provider';
import { isValidAddress } from './providers/smtp';
import { emailHtml, type createRenderer, type RenderedMessage } from './render';

type Render = ReturnType<typeof createRenderer>;
// ms 2's types lag its runtime: it answers undefined for text it cannot read (lib/config.ts checked the rules).
const parseMs = ms as unknown as (value: string) => number | undefined;

/** Concurrent email and SMS handed to their providers by one batch (SMTP pools its connections). */
const MESSAGE_CONCURRENCY = 16;
/** How often the answered sends of a batch in progress are written down. */
const ATTEMPT_FLUSH_MS = 200;

/** A campaign as its run reads it. */
export interface CampaignPlan {
  campaignId: string;
  status: string;
  schedule: CampaignSchedule;
  maxPerMinute: number | null;
  /** When the campaign started (ISO), by the workflow's clock; null before its run began. */
  startedAt: string | null;
  /** Null until enrolment finished. */
  targeted: number | null;
}

export interface EnrolPage {
  /** The cursor of the next page; null after the last. */
  next: string | null;
  enrolled: number;
}

export interface DueRecipient {
  dueAt: string;
  customerId: string;
}

export interface CampaignWork {
  /** Pending recipients due by `dueBy`, after the cursor, in (dueAt, customerId) order. */
  customerIds: string[];
  /** The cursor after this page; null when it is empty. */
  last: DueRecipient | null;
  /** When nothing is due after the cursor: the earliest due time of any pending recipient (ISO); null when none is pending. */
  nextDueAt: string | null;
}

/** What one batch's recipients came to, over every attempt. */
export interface CampaignBatchOutcome {
  sent: number;
  failed: number;
  suppressed: Record<string, number>;
  /** Still pending: their quiet hours moved their due time. */
  deferred: number;
  /** Already cancelled or settled some other way. */
  cancelled: number;
}

export interface CampaignSettings {
  frequencyCaps: FrequencyCapRule[];
  statusCallbackBaseUrl?: string | null;
  tracking?: TrackingSettings | null;
}

interface CampaignConfig {
  id: string;
  name: string;
  kind: NotificationKind;
  channels: DeliveryChannel[];
  templates: Partial<Record<Channel, string>>;
  schedule: CampaignSchedule;
  experiment: (ExperimentDesign & { variants: ExperimentVariant[] }) | null;
}

interface RecipientRow {
  customerId: string;
  variant: string | null;
  status: string;
  known: boolean;
  name: string | null;
  email: string | null;
  phone: string | null;
  locale: string | null;
  timeZone: string | null;
  quietHoursStart: string | null;
  quietHoursEnd: string | null;
  notificationStatus: string | null;
  notificationChannel: DeliveryChannel | null;
  devices: BulkPushDevice[];
  preferences: PreferenceState['preferences'];
  consents: PreferenceState['consents'];
}

/** A recipient decided by this attempt. */
type Decision =
  | { customerId: string; action: 'send'; channel: DeliveryChannel; record: Prisma.NotificationCreateManyInput }
  | { customerId: string; action: 'suppress'; channel: DeliveryChannel; reason: string; record: Prisma.NotificationCreateManyInput }
  | { customerId: string; action: 'fail'; channel: DeliveryChannel; reason: string; record: Prisma.NotificationCreateManyInput }
  | { customerId: string; action: 'defer'; until: Date };

const validZone = (zone: string | null): string => {
  if (!zone) return 'UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone;
  } catch {
    return 'UTC';
  }
};

const notSent = (message: string, type: string) => ApplicationFailure.nonRetryable(message, type);

/** Campaign notifications in one INSERT of column arrays (a batch's worth; Prisma's createMany binds every field of every row). */
async function insertNotifications(tx: Prisma.TransactionClient, records: Prisma.NotificationCreateManyInput[]): Promise<void> {
  const col = <T>(pick: (r: Prisma.NotificationCreateManyInput) => T | null | undefined) => records.map((r) => pick(r) ?? null);
  const now = new Date();
  await tx.$executeRaw`
    INSERT INTO "Notification" (id, "customerId", type, priority, category, channel, status, "suppressionReason", "failureReason", "templateId",
      "templateVersion", locale, title, body, address, "campaignId", "experimentId", variant, "createdAt", "updatedAt")
    SELECT v.id, v.customer, v.type, v.priority::"Priority", v.category::"Category", v.channel::"Channel", v.status::"NotificationStatus", v.suppression, v.failure,
      v.template, v.version, v.locale, v.title, v.body, v.address, v.campaign, v.experiment, v.variant, ${now}, ${now}
    FROM unnest(${col((r) => r.id)}::text[], ${col((r) => r.customerId)}::text[], ${col((r) => r.type)}::text[], ${col((r) => r.priority)}::text[],
      ${col((r) => r.category)}::text[], ${col((r) => r.channel)}::text[], ${col((r) => r.status)}::text[], ${col((r) => r.suppressionReason)}::text[],
      ${col((r) => r.failureReason)}::text[], ${col((r) => r.templateId)}::text[], ${col((r) => r.templateVersion)}::int[], ${col((r) => r.locale)}::text[],
      ${col((r) => r.title)}::text[], ${col((r) => r.body)}::text[], ${col((r) => r.address)}::text[], ${col((r) => r.campaignId)}::text[],
      ${col((r) => r.experimentId)}::text[], ${col((r) => r.variant)}::text[])
      AS v(id, customer, type, priority, category, channel, status, suppression, failure, template, version, locale, title, body, address, campaign, experiment, variant)
    ON CONFLICT (id) DO NOTHING`;
}

export function createCampaignActivities(db: Db, push: PushProviders, messages: MessageProviders, render: Render, logger: Logger, settings: CampaignSettings, sendRate?: SendRate) {
  // Every provider call of a batch takes a slot of the worker's share of its channel's limit (activities/send-rate.ts).
  const pusher = createBulkPusher(db, push, sendRate);
  // A started campaign's settings never change (only drafts are edited), so a worker keeps them.
  const configs = new Map<string, CampaignConfig>();

  async function configOf(campaignId: string): Promise<CampaignConfig> {
    const known = configs.get(campaignId);
    if (known) return known;
    const c = await db.campaign.findUnique({ where: { id: campaignId }, include: { experiment: true } });
    if (!c) throw notSent(`no campaign ${campaignId}`, 'CampaignNotFound');
    const topic = isPreferenceCategory(c.category) && classOf(c.category) === 'marketing' && c.category !== 'marketing' ? (c.category as Topic) : undefined;
    const config: CampaignConfig = {
      id: c.id,
      name: c.name,
      kind: { type: CAMPAIGN_NOTIFICATION_TYPE, priority: 'routine', category: 'marketing', ...(topic ? { topic } : {}) },
      channels: c.channels.filter((ch): ch is DeliveryChannel => ch !== 'inapp'),
      templates: c.templates as Partial<Record<Channel, string>>,
      schedule: c.schedule as unknown as CampaignSchedule,
      // A stopped experiment assigns nobody new: the campaign then sends its own templates to everyone.
      experiment: c.experiment && c.experiment.status === 'active' ? { id: c.experiment.id, variants: c.experiment.variants as unknown as ExperimentVariant[], holdout: c.experiment.holdout } : null,
    };
    if (c.status !== 'draft') configs.set(campaignId, config);
    return config;
  }

  async function loadRecipients(campaignId: string, customerIds: string[]): Promise<RecipientRow[]> {
    return db.$queryRaw<RecipientRow[]>`
      SELECT r."customerId", r.variant, r.status::text AS status, c.id IS NOT NULL AS known, c.name, c.email, c.phone, c.locale, c."timeZone",
        c."quietHoursStart", c."quietHoursEnd", n.status::text AS "notificationStatus", n.channel::text AS "notificationChannel",
        COALESCE((SELECT json_agg(json_build_object('deviceId', d.id, 'platform', d.platform, 'token', d.token, 'app', d.app, 'locale', d.locale)
                  ORDER BY d."lastSeenAt" DESC)
                  FROM "Device" d WHERE d."customerId" = r."customerId" AND d.active AND d.platform IN ('ios', 'android')), '[]'::json) AS devices,
        ${preferenceStateColumns(Prisma.sql`r."customerId"`)}
      FROM "CampaignRecipient" r
      LEFT JOIN "Customer" c ON c.id = r."customerId"
      LEFT JOIN "Notification" n ON n.id = ${campaignNotificationId(campaignId, '')} || r."customerId"
      WHERE r."campaignId" = ${campaignId} AND r."customerId" = ANY(${customerIds})`;
  }

  /** The channels in the order this recipient's variant prefers them. */
  function channelsFor(config: CampaignConfig, variant: ExperimentVariant | undefined): DeliveryChannel[] {
    const first = variant?.channel;
    if (!first || first === 'inapp') return config.channels;
    return [first, ...config.channels.filter((c) => c !== first)];
  }

  function unreachable(r: RecipientRow, channel: DeliveryChannel): SuppressionReason | null {
    if (channel === 'push') return r.devices.length > 0 ? null : 'no_device';
    const address = channel === 'email' ? r.email : r.phone;
    if (!address) return 'no_address';
    return (channel === 'email' ? isValidAddress(address) : E164_NUMBER.test(address)) ? null : 'invalid_address';
  }

  /**
   * One recipient's decision at `dueBy`: suppressed (unreachable, preference or consent), deferred (quiet hours in
   * their zone), or to send on the first channel that may carry it (caps are claimed for the batch afterwards).
   */
  function decide(config: CampaignConfig, r: RecipientRow, dueBy: number): Decision | { customerId: string; action: 'pass'; channel: DeliveryChannel; variant: ExperimentVariant | undefined } {
    const variant = config.experiment?.variants.find((v) => v.id === r.variant);
    const channels = channelsFor(config, variant);
    const base = {
      id: campaignNotificationId(config.id, r.customerId),
      customerId: r.customerId,
      type: config.kind.type,
      priority: config.kind.priority,
      category: config.kind.category,
      campaignId: config.id,
      experimentId: config.experiment?.id ?? null,
      variant: r.variant,
    };
    const suppress = (channel: DeliveryChannel, reason: string): Decision => ({
      customerId: r.customerId,
      action: 'suppress',
      channel,
      reason,
      record: { ...base, channel, status: 'suppressed', suppressionReason: reason },
    });
    if (!r.known) return suppress(channels[0]!, 'unknown_customer');
    const reachable = channels.filter((c) => unreachable(r, c) === null);
    if (reachable.length === 0) return suppress(channels[0]!, unreachable(r, channels[0]!)!);
    const decision = decideChannels({ preferences: r.preferences, consents: r.consents }, config.kind, reachable);
    const channel = decision.permitted.find((c): c is DeliveryChannel => c !== 'inapp');
    if (!channel) {
      // The reason of the most preferred channel: why the campaign's first choice did not go.
      const first = channels[0]!;
      return suppress(first, unreachable(r, first) ?? decision.refused.find((x) => x.channel === first)?.reason ?? decision.refused[0]!.reason);
    }
    if (r.quietHoursStart && r.quietHoursEnd) {
      const end = quietHoursEnd(dueBy, { start: r.quietHoursStart, end: r.quietHoursEnd }, validZone(r.timeZone));
      if (end) return { customerId: r.customerId, action: 'defer', until: end };
    }
    return { customerId: r.customerId, action: 'pass', channel, variant };
  }

  async function renderFor(config: CampaignConfig, r: RecipientRow, channel: DeliveryChannel, variant: ExperimentVariant | undefined): Promise<RenderedMessage> {
    const key = variant?.templates?.[channel] ?? config.templates[channel];
    if (!key) throw notSent(`campaign ${config.id} has no template for ${channel}`, 'TemplateMissing');
    const locale = channel === 'push' ? (r.devices[0]?.locale ?? r.locale) : r.locale;
    return render({
      key,
      channel,
      locale,
      timeZone: validZone(r.timeZone),
      variables: { customerName: r.name, campaignId: config.id, campaignName: config.name, variant: r.variant ?? '' },
    });
  }

  /** Email and SMS notifications among `ids` still queued, each to its address once (an attempt row per try). */
  async function sendMessagesQueued(channel: 'email' | 'sms', config: CampaignConfig, ids: string[], rows: Map<string, RecipientRow>, rendered: Map<string, RenderedMessage>, attempt: number): Promise<number> {
    if (ids.length === 0) return 0;
    const queued = await db.notification.findMany({ where: { id: { in: ids }, status: 'queued', channel }, select: { id: true, customerId: true, address: true, title: true, body: true } });
    if (queued.length === 0) return 0;
    const queuedIds = queued.map((n) => n.id);
    const settled = new Set(
      (await db.deliveryAttempt.findMany({ where: { notificationId: { in: queuedIds }, OR: [{ status: 'sent' }, { status: 'failed', retryable: false }] }, select: { notificationId: true } })).map((a) => a.notificationId),
    );
    if (attempt > 1) {
      await db.deliveryAttempt.updateMany({
        where: { notificationId: { in: queuedIds }, status: 'sending', attemptNumber: { lt: attempt } },
        data: { status: 'failed', errorCode: 'abandoned', errorMessage: 'the worker stopped before the provider answered', retryable: true, finishedAt: new Date() },
      });
    }
    const provider = channel === 'email' ? messages.email : messages.sms;
    const todo = queued.filter((n) => !settled.has(n.id) && n.address);
    await db.deliveryAttempt.createMany({
      data: todo.map((n) => ({ id: `${n.id}:${attempt}`, notificationId: n.id, channel, address: n.address, provider: provider.name, status: 'sending' as const, attemptNumber: attempt })),
      skipDuplicates: true,
    });
    type Outcome = { id: string; ok: boolean; messageId: string | null; code: string | null; text: string | null; retryable: boolean | null };
    const outcomes: Outcome[] = [];
    // Each attempt is closed soon after the provider answers (as pushes are), so a worker lost mid-batch leaves only unanswered sends to retry.
    let unflushed: Outcome[] = [];
    let flushing: Promise<void> = Promise.resolve();
    let flushError: unknown = null;
    const close = async (chunk: Outcome[]) => {
      await db.$executeRaw`
        UPDATE "DeliveryAttempt" a SET status = (CASE WHEN v.ok THEN 'sent' ELSE 'failed' END)::"AttemptStatus", "providerMessageId" = v.message_id,
          "errorCode" = v.code, "errorMessage" = v.text, retryable = v.retryable, "finishedAt" = ${new Date()}
        FROM unnest(${chunk.map((o) => `${o.id}:${attempt}`)}::text[], ${chunk.map((o) => o.ok)}::boolean[], ${chunk.map((o) => o.messageId)}::text[],
          ${chunk.map((o) => o.code)}::text[], ${chunk.map((o) => o.text)}::text[], ${chunk.map((o) => o.retryable)}::boolean[])
          AS v(id, ok, message_id, code, text, retryable)
        WHERE a.id = v.id`;
    };
    const flush = (): Promise<void> => {
      const chunk = unflushed;
      unflushed = [];
      if (chunk.length > 0) flushing = flushing.then(() => close(chunk)).catch((err: unknown) => void (flushError ??= err));
      return flushing;
    };
    const record = (o: Outcome) => {
      outcomes.push(o);
      unflushed.push(o);
    };
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < todo.length; i = next++) {
        if (activityAbandoned()) return;
        try {
          await sendSlot(sendRate, channel);
        } catch (err) {
          // Given up on while waiting: what it sent is recorded, the rest is the retry's.
          if (activityAbandoned()) return;
          throw err;
        }
        const n = todo[i]!;
        const metadata = { notificationId: n.id, campaignId: config.id, type: CAMPAIGN_NOTIFICATION_TYPE };
        try {
          let receipt;
          if (channel === 'email') {
            let r = rendered.get(n.id);
            if (!r) {
              // Recorded by an earlier attempt: the HTML part is rendered again (the text is as recorded).
              const row = rows.get(n.customerId)!;
              const variant = config.experiment?.variants.find((v) => v.id === row.variant);
              r = await renderFor(config, row, 'email', variant);
            }
            const html = emailHtml(settings.tracking, n.id, r);
            receipt = await messages.email.send({ to: n.address!, subject: n.title ?? r.subject, text: n.body ?? r.body, ...(html ? { html } : {}), metadata }, n.id);
          } else {
            const callbackBase = settings.statusCallbackBaseUrl;
            receipt = await messages.sms.send({ to: n.address!, body: n.body ?? '', ...(callbackBase ? { statusCallbackUrl: `${callbackBase}/v1/webhooks/twilio/status` } : {}), metadata }, n.id);
          }
          metrics.deliveryAttempts.inc({ channel, provider: provider.name, outcome: 'sent', error_kind: '' });
          record({ id: n.id, ok: true, messageId: receipt.providerMessageId, code: null, text: null, retryable: null });
        } catch (err) {
          const e = err instanceof ProviderError ? err : new ProviderError(provider.name, 'transient', 'error', String(err));
          metrics.deliveryAttempts.inc({ channel, provider: provider.name, outcome: 'failed', error_kind: e.kind });
          record({ id: n.id, ok: false, messageId: null, code: e.code, text: e.message.slice(0, 1000), retryable: e.kind === 'transient' });
        }
      }
    };
    const timer = setInterval(() => void flush(), ATTEMPT_FLUSH_MS);
    try {
      await Promise.all(Array.from({ length: Math.min(MESSAGE_CONCURRENCY, todo.length) }, worker));
    } finally {
      clearInterval(timer);
    }
    await flush();
    if (flushError) throw flushError;
    stopIfAbandoned();
    // Settle from what every attempt so far left: sent once one went, failed once the provider refused it for good.
    const attempts = await db.deliveryAttempt.groupBy({ by: ['notificationId', 'status', 'retryable'], where: { notificationId: { in: queuedIds } }, _count: true });
    const sentIds = new Set(attempts.filter((a) => a.status === 'sent').map((a) => a.notificationId));
    const deadIds = [...new Set(attempts.filter((a) => a.status === 'failed' && a.retryable === false).map((a) => a.notificationId))].filter((id) => !sentIds.has(id));
    await db.$transaction([
      db.notification.updateMany({ where: { id: { in: [...sentIds] }, status: 'queued' }, data: { status: 'sent', sentAt: new Date() } }),
      db.notification.updateMany({ where: { id: { in: deadIds }, status: 'queued' }, data: { status: 'failed', failureReason: `${provider.name} refused the message` } }),
    ]);
    for (const o of outcomes) if (o.ok) metrics.notifications.inc({ channel, priority: 'routine', outcome: 'sent', reason: '' });
    return outcomes.filter((o) => !o.ok && o.retryable).length;
  }

  /** What the batch's recipients came to, from their rows (so a retry reports the earlier attempts' work too). */
  async function outcomeOf(campaignId: string, customerIds: string[]): Promise<CampaignBatchOutcome> {
    const rows = await db.$queryRaw<Array<{ status: string; reason: string | null; n: bigint }>>`
      SELECT status::text AS status, reason, count(*) AS n FROM "CampaignRecipient"
      WHERE "campaignId" = ${campaignId} AND "customerId" = ANY(${customerIds}) GROUP BY 1, 2`;
    const outcome: CampaignBatchOutcome = { sent: 0, failed: 0, suppressed: {}, deferred: 0, cancelled: 0 };
    for (const row of rows) {
      const n = Number(row.n);
      if (row.status === 'sent') outcome.sent += n;
      else if (row.status === 'failed') outcome.failed += n;
      else if (row.status === 'pending') outcome.deferred += n;
      else if (row.status === 'suppressed') outcome.suppressed[row.reason ?? 'suppressed'] = (outcome.suppressed[row.reason ?? 'suppressed'] ?? 0) + n;
      else outcome.cancelled += n;
    }
    return outcome;
  }

  /** Recipients whose notification is settled take its outcome; `at` is the workflow's clock. */
  async function settleRecipients(campaignId: string, customerIds: string[], at: Date, experimentId: string | null): Promise<void> {
    await db.$executeRaw`
      UPDATE "CampaignRecipient" r SET
        status = (CASE WHEN n.status = 'failed' THEN 'failed' WHEN n.status = 'suppressed' THEN 'suppressed' ELSE 'sent' END)::"RecipientStatus",
        reason = CASE WHEN n.status = 'failed' THEN n."failureReason" WHEN n.status = 'suppressed' THEN n."suppressionReason" END,
        channel = n.channel, "notificationId" = n.id, "settledAt" = ${at}
      FROM "Notification" n
      WHERE r."campaignId" = ${campaignId} AND r."customerId" = ANY(${customerIds}) AND r.status = 'pending'
        AND n.id = ${campaignNotificationId(campaignId, '')} || r."customerId" AND n.status <> 'queued'`;
    if (experimentId) {
      // Attribution starts when the variant's message went out.
      await db.$executeRaw`
        UPDATE "ExperimentAssignment" a SET "exposedAt" = ${at}
        FROM "CampaignRecipient" r
        WHERE r."campaignId" = ${campaignId} AND r."customerId" = ANY(${customerIds}) AND r.status = 'sent'
          AND a."experimentId" = ${experimentId} AND a."customerId" = r."customerId" AND a."exposedAt" IS NULL`;
    }
  }

  async function carryOutBatch(input: { campaignId: string; customerIds: string[]; dueBy: string }): Promise<CampaignBatchOutcome> {
    const info = Context.current().info;
    const attempt = info.attempt;
    const began = performance.now();
    const config = await configOf(input.campaignId);
    const dueBy = Date.parse(input.dueBy);
    const rows = await loadRecipients(input.campaignId, input.customerIds);
    const byCustomer = new Map(rows.map((r) => [r.customerId, r]));

    // 1. Decide every pending recipient no earlier attempt recorded.
    const decisions: Decision[] = [];
    const passing: Array<{ row: RecipientRow; channel: DeliveryChannel; variant: ExperimentVariant | undefined }> = [];
    for (const r of rows) {
      if (r.status !== 'pending' || r.notificationStatus !== null) continue;
      const d = decide(config, r, dueBy);
      if (d.action === 'pass') passing.push({ row: r, channel: d.channel, variant: d.variant });
      else decisions.push(d);
    }
    // Frequency caps, claimed for the whole batch per channel.
    const capped = new Map<string, string>();
    for (const channel of new Set(passing.map((p) => p.channel))) {
      const rules = capRulesFor(settings.frequencyCaps, channel, config.kind).map((r) => ({
        category: r.category,
        limit: r.limit,
        windowSeconds: Math.round((parseMs(r.window) ?? 0) / 1000),
        description: describeCapRule(r),
      }));
      const claims = passing.filter((p) => p.channel === channel).map((p) => ({ notificationId: campaignNotificationId(config.id, p.row.customerId), customerId: p.row.customerId }));
      const slots = await claimFrequencySlots(db, { channel, rules, claims }, dueBy);
      for (const c of claims) {
        const slot = slots.get(c.notificationId);
        if (slot && !slot.allowed) capped.set(c.customerId, slot.rule ?? 'frequency cap');
      }
    }
    const rendered = new Map<string, RenderedMessage>();
    for (const p of passing) {
      const id = campaignNotificationId(config.id, p.row.customerId);
      const base = { id, customerId: p.row.customerId, type: config.kind.type, priority: config.kind.priority, category: config.kind.category, channel: p.channel, campaignId: config.id, experimentId: config.experiment?.id ?? null, variant: p.row.variant };
      const rule = capped.get(p.row.customerId);
      if (rule) {
        decisions.push({ customerId: p.row.customerId, action: 'suppress', channel: p.channel, reason: 'frequency_cap', record: { ...base, status: 'suppressed', suppressionReason: 'frequency_cap', failureReason: rule } });
        continue;
      }
      try {
        const r = await renderFor(config, p.row, p.channel, p.variant);
        rendered.set(id, r);
        const address = p.channel === 'email' ? p.row.email : p.channel === 'sms' ? p.row.phone : null;
        decisions.push({
          customerId: p.row.customerId,
          action: 'send',
          channel: p.channel,
          record: { ...base, status: 'queued', templateId: r.templateId, templateVersion: r.templateVersion, locale: r.locale, title: r.subject, body: r.body, address },
        });
      } catch (err) {
        if (!(err instanceof ApplicationFailure) || !err.nonRetryable) throw err;
        const reason = err.type ?? 'TemplateRenderFailed';
        decisions.push({ customerId: p.row.customerId, action: 'fail', channel: p.channel, reason, record: { ...base, status: 'failed', failureReason: `${reason}: ${err.message}` } });
      }
    }

    // 2. Record every decision, with the recipients' status, before anything is sent.
    const decided = performance.now();
    const at = new Date(dueBy);
    if (decisions.length > 0) {
      const records = decisions.flatMap((d) => (d.action === 'defer' ? [] : [d.record]));
      const settled = decisions.filter((d): d is Extract<Decision, { action: 'suppress' | 'fail' }> => d.action === 'suppress' || d.action === 'fail');
      const claimed = decisions.filter((d): d is Extract<Decision, { action: 'send' }> => d.action === 'send');
      const deferred = decisions.filter((d): d is Extract<Decision, { action: 'defer' }> => d.action === 'defer');
      await db.$transaction(async (tx) => {
        if (records.length > 0) await insertNotifications(tx, records);
        if (settled.length > 0) {
          await tx.$executeRaw`
            UPDATE "CampaignRecipient" r SET status = v.status::"RecipientStatus", reason = v.reason, channel = v.channel::"Channel",
              "notificationId" = ${campaignNotificationId(config.id, '')} || r."customerId", "settledAt" = ${at}
            FROM unnest(${settled.map((d) => d.customerId)}::text[], ${settled.map((d) => (d.action === 'fail' ? 'failed' : 'suppressed'))}::text[],
              ${settled.map((d) => d.reason)}::text[], ${settled.map((d) => d.channel)}::text[]) AS v(id, status, reason, channel)
            WHERE r."campaignId" = ${config.id} AND r."customerId" = v.id AND r.status = 'pending'`;
        }
        if (claimed.length > 0) {
          await tx.$executeRaw`
            UPDATE "CampaignRecipient" r SET channel = v.channel::"Channel", "notificationId" = ${campaignNotificationId(config.id, '')} || r."customerId"
            FROM unnest(${claimed.map((d) => d.customerId)}::text[], ${claimed.map((d) => d.channel)}::text[]) AS v(id, channel)
            WHERE r."campaignId" = ${config.id} AND r."customerId" = v.id AND r.status = 'pending'`;
        }
        if (deferred.length > 0) {
          // Quiet hours in their zone: due again when the window ends.
          await tx.$executeRaw`
            UPDATE "CampaignRecipient" r SET "dueAt" = v.until::timestamp(3)
            FROM unnest(${deferred.map((d) => d.customerId)}::text[], ${deferred.map((d) => d.until.toISOString())}::text[]) AS v(id, until)
            WHERE r."campaignId" = ${config.id} AND r."customerId" = v.id AND r.status = 'pending'`;
        }
      });
      for (const d of settled) metrics.notifications.inc({ channel: d.channel, priority: 'routine', outcome: d.action === 'fail' ? 'failed' : 'suppressed', reason: d.reason });
    }

    const recorded = performance.now();
    // A retry may already be sending this batch if Temporal gave up on this attempt while it decided.
    stopIfAbandoned();
    // 3. Send what is queued (recorded now or by an earlier attempt), each channel its own way.
    const queuedByChannel: Record<DeliveryChannel, string[]> = { push: [], email: [], sms: [] };
    for (const d of decisions) if (d.action === 'send') queuedByChannel[d.channel].push(campaignNotificationId(config.id, d.customerId));
    for (const r of rows) {
      if (r.status === 'pending' && r.notificationStatus === 'queued' && r.notificationChannel) queuedByChannel[r.notificationChannel].push(campaignNotificationId(config.id, r.customerId));
    }
    const [pushed, emailTransient, smsTransient] = await Promise.all([
      pusher.pushQueued({
        ids: queuedByChannel.push,
        attempt,
        devicesOf: (customerId) => byCustomer.get(customerId)?.devices ?? [],
        messageOf: (n): PushMessage => ({
          notificationId: n.id,
          orderId: '',
          title: n.title ?? '',
          body: n.body ?? '',
          priority: n.priority,
          collapseKey: `campaign-${config.id}`,
          data: { notificationId: n.id, campaignId: config.id, type: CAMPAIGN_NOTIFICATION_TYPE },
          ...(rendered.get(n.id)?.rich ? { rich: rendered.get(n.id)!.rich } : {}),
        }),
      }),
      sendMessagesQueued('email', config, queuedByChannel.email, byCustomer, rendered, attempt),
      sendMessagesQueued('sms', config, queuedByChannel.sms, byCustomer, rendered, attempt),
    ]);

    // 4. Settle the recipients from their notifications.
    const sentAt = performance.now();
    await settleRecipients(config.id, input.customerIds, at, config.experiment?.id ?? null);
    const transient = pushed.transient + emailTransient + smsTransient;
    logger.info(
      {
        campaignId: config.id,
        attempt,
        recipients: input.customerIds.length,
        recorded: decisions.length,
        pushes: pushed.pushes,
        transient,
        workflowId: info.workflowExecution?.workflowId,
        // Where the batch's time went (ms): loading and deciding, recording, sending, settling.
        ms: { decide: Math.round(decided - began), record: Math.round(recorded - decided), send: Math.round(sentAt - recorded), settle: Math.round(performance.now() - sentAt) },
      },
      'campaign batch done',
    );
    if (transient > 0) {
      // Recorded above; the retry sends only what is still owed.
      throw ApplicationFailure.create({ message: `providers unavailable for ${transient} sends of campaign ${config.id}`, type: 'TransientProviderError' });
    }
    return outcomeOf(config.id, input.customerIds);
  }

  return {
    /** The campaign as its run needs it. */
    async loadCampaignPlan(campaignId: string): Promise<CampaignPlan> {
      const c = await db.campaign.findUnique({ where: { id: campaignId } });
      if (!c) throw notSent(`no campaign ${campaignId}`, 'CampaignNotFound');
      return {
        campaignId,
        status: c.status,
        schedule: c.schedule as unknown as CampaignSchedule,
        maxPerMinute: c.maxPerMinute,
        startedAt: c.startedAt?.toISOString() ?? null,
        targeted: c.targeted,
      };
    },

    /**
     * Records where the run stands. startedAt is set once (the workflow's clock at its start) and finishedAt when it
     * ends; a finished campaign's status never changes again.
     */
    async markCampaign(input: { campaignId: string; status: 'scheduled' | 'running' | 'paused' | 'completed' | 'cancelled'; at: string }): Promise<void> {
      const at = new Date(input.at);
      const finished = input.status === 'completed' || input.status === 'cancelled';
      await db.$executeRaw`
        UPDATE "Campaign" SET status = ${input.status}::"CampaignStatus", "startedAt" = COALESCE("startedAt", ${at}),
          "finishedAt" = CASE WHEN ${finished} THEN COALESCE("finishedAt", ${at}) ELSE "finishedAt" END, "updatedAt" = ${new Date()}
        WHERE id = ${input.campaignId} AND status NOT IN ('completed', 'cancelled')`;
    },

    /**
     * One page of the segment (by customer id, after `after`) enrolled: a recipient row each, with its variant (the
     * holdout as such) and its due time in its own zone, and the experiment assignment. Re-running a page adds nothing.
     */
    async enrolCampaignPage(input: { campaignId: string; startedAt: string; after: string | null; limit: number }): Promise<EnrolPage> {
      const config = await configOf(input.campaignId);
      const campaign = await db.campaign.findUnique({ where: { id: input.campaignId }, select: { segment: { select: { rule: true } } } });
      if (!campaign) throw notSent(`no campaign ${input.campaignId}`, 'CampaignNotFound');
      const startedAt = Date.parse(input.startedAt);
      const ids = await pageSegment(db, campaign.segment.rule as unknown as SegmentRule, input.after, input.limit, new Date(startedAt));
      if (ids.length === 0) return { next: null, enrolled: 0 };
      const zones = await db.$queryRaw<Array<{ id: string; timeZone: string }>>`SELECT id, "timeZone" FROM "Customer" WHERE id = ANY(${ids})`;
      const zoneOf = new Map(zones.map((z) => [z.id, validZone(z.timeZone)]));
      // Due times depend only on the zone and the variant: computed once each, not per customer.
      const dueTimes = new Map<string, string>();
      const variants: Array<string | null> = [];
      const statuses: string[] = [];
      const dues: string[] = [];
      for (const id of ids) {
        const variant = config.experiment ? assignVariant(config.experiment, id) : null;
        const zone = zoneOf.get(id) ?? 'UTC';
        const key = `${zone}|${variant}`;
        let due = dueTimes.get(key);
        if (!due) {
          const sendAt = config.experiment?.variants.find((v) => v.id === variant)?.sendAt;
          due = new Date(recipientDueAt(config.schedule, startedAt, zone, sendAt)).toISOString();
          dueTimes.set(key, due);
        }
        variants.push(variant);
        statuses.push(variant === HOLDOUT ? 'holdout' : 'pending');
        dues.push(due);
      }
      const enrolled = await db.$executeRaw`
        INSERT INTO "CampaignRecipient" ("campaignId", "customerId", variant, status, "dueAt")
        SELECT ${input.campaignId}, v.id, v.variant, v.status::"RecipientStatus", v.due::timestamp(3)
        FROM unnest(${ids}::text[], ${variants}::text[], ${statuses}::text[], ${dues}::text[]) AS v(id, variant, status, due)
        ON CONFLICT ("campaignId", "customerId") DO NOTHING`;
      if (config.experiment) {
        // Every arm's attribution starts at its planned send: the holdout is "exposed" when it would have got the
        // message, and a recipient never sent (suppressed, failed, cancelled) counts from its due time (assignedAt),
        // not from the enrolment, which may be days before a scheduled send.
        await db.$executeRaw`
          INSERT INTO "ExperimentAssignment" ("experimentId", "customerId", variant, "assignedAt", "exposedAt")
          SELECT ${config.experiment.id}, v.id, v.variant, v.due::timestamp(3), CASE WHEN v.variant = ${HOLDOUT} THEN v.due::timestamp(3) END
          FROM unnest(${ids}::text[], ${variants}::text[], ${dues}::text[]) AS v(id, variant, due)
          ON CONFLICT ("experimentId", "customerId") DO NOTHING`;
      }
      return { next: ids.length === input.limit ? ids.at(-1)! : null, enrolled };
    },

    /** Enrolment done: the campaign's size is recorded, and the counts the run starts from are returned. */
    async finishEnrolment(input: { campaignId: string }): Promise<CampaignCounts> {
      await db.$executeRaw`
        UPDATE "Campaign" SET targeted = (SELECT count(*) FROM "CampaignRecipient" WHERE "campaignId" = ${input.campaignId})::int, "updatedAt" = ${new Date()}
        WHERE id = ${input.campaignId}`;
      return countCampaignRecipients(db, input.campaignId);
    },

    /** Where the campaign's recipients stand, counted from their rows. */
    async countCampaign(input: { campaignId: string }): Promise<CampaignCounts> {
      return countCampaignRecipients(db, input.campaignId);
    },

    /**
     * The next pending recipients due by `dueBy` (the workflow's clock), after the cursor. With none, when the next
     * one is due.
     */
    async nextCampaignWork(input: { campaignId: string; dueBy: string; after: DueRecipient | null; limit: number }): Promise<CampaignWork> {
      const dueBy = new Date(input.dueBy);
      const after = input.after ? Prisma.sql`AND ("dueAt", "customerId") > (${new Date(input.after.dueAt)}, ${input.after.customerId})` : Prisma.empty;
      const rows = await db.$queryRaw<Array<{ customerId: string; dueAt: Date }>>`
        SELECT "customerId", "dueAt" FROM "CampaignRecipient"
        WHERE "campaignId" = ${input.campaignId} AND status = 'pending' AND "dueAt" <= ${dueBy} ${after}
        ORDER BY "dueAt", "customerId" LIMIT ${input.limit}`;
      if (rows.length > 0) {
        const last = rows.at(-1)!;
        return { customerIds: rows.map((r) => r.customerId), last: { dueAt: last.dueAt.toISOString(), customerId: last.customerId }, nextDueAt: null };
      }
      const [next] = await db.$queryRaw<Array<{ dueAt: Date | null }>>`
        SELECT min("dueAt") AS "dueAt" FROM "CampaignRecipient" WHERE "campaignId" = ${input.campaignId} AND status = 'pending'`;
      return { customerIds: [], last: null, nextDueAt: next?.dueAt?.toISOString() ?? null };
    },

    /**
     * One batch of recipients at `dueBy` (the workflow's clock): decided, recorded (the notifications and the
     * recipients' status in one transaction), sent, settled. A retry skips the recipients and the devices an
     * earlier attempt settled; a transient provider failure fails the attempt after everything is recorded.
     */
    async sendCampaignBatch(input: { campaignId: string; customerIds: string[]; dueBy: string }): Promise<CampaignBatchOutcome> {
      const context = Context.current();
      // Alive while it works: a batch lost with its worker is retried after the heartbeat timeout, not the start-to-close one.
      const beat = setInterval(() => context.heartbeat(), 2000);
      try {
        return await carryOutBatch(input);
      } finally {
        clearInterval(beat);
      }
    },

    /** A batch that could not be carried out after every retry: its recipients still pending fail, with why. */
    async failCampaignBatch(input: { campaignId: string; customerIds: string[]; reason: string; at: string; dueBy?: string }): Promise<CampaignBatchOutcome> {
      // Only who was due when the batch began: someone it moved to the end of their quiet hours is still to come.
      const dueBy = input.dueBy ? new Date(input.dueBy) : new Date(8.64e15);
      const prefix = campaignNotificationId(input.campaignId, '');
      await db.$transaction([
        db.$executeRaw`
          UPDATE "Notification" SET status = 'failed', "failureReason" = ${input.reason.slice(0, 1000)}, "updatedAt" = ${new Date()}
          WHERE id = ANY(${input.customerIds.map((c) => prefix + c)}) AND status = 'queued'`,
        db.$executeRaw`
          UPDATE "CampaignRecipient" SET status = 'failed', reason = ${input.reason.slice(0, 1000)}, "settledAt" = ${new Date(input.at)}
          WHERE "campaignId" = ${input.campaignId} AND "customerId" = ANY(${input.customerIds}) AND status = 'pending'
            AND ("dueAt" <= ${dueBy} OR "notificationId" IS NOT NULL)`,
      ]);
      return outcomeOf(input.campaignId, input.customerIds);
    },

    /** A cancelled campaign's recipients still pending are cancelled (none is in a batch: the run waited for them). */
    async cancelCampaignRecipients(input: { campaignId: string; at: string }): Promise<{ cancelled: number }> {
      const prefix = campaignNotificationId(input.campaignId, '');
      const [, cancelled] = await db.$transaction([
        // A recipient recorded but never sent (its batch failed before the provider call) is withdrawn with it.
        db.$executeRaw`
          UPDATE "Notification" n SET status = 'suppressed', "suppressionReason" = 'campaign_cancelled', "updatedAt" = ${new Date()}
          FROM "CampaignRecipient" r
          WHERE r."campaignId" = ${input.campaignId} AND r.status = 'pending' AND n.id = ${prefix} || r."customerId" AND n.status = 'queued'`,
        db.$executeRaw`
          UPDATE "CampaignRecipient" SET status = 'cancelled', reason = 'campaign_cancelled', "settledAt" = ${new Date(input.at)}
          WHERE "campaignId" = ${input.campaignId} AND status = 'pending'`,
      ]);
      return { cancelled };
    },
  };
}

export type CampaignActivities = ReturnType<typeof createCampaignActivities>;
