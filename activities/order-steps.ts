// One step of an order event's channel plan, made ready in one database round: load the recipient,
// decide each channel through the gates (domain/delivery-plan.ts), render what may go or must wait,
// record every notification (queued, held with its release time, suppressed or failed with its
// reason), write the inbox, and settle the event. Idempotent by notification id (`<eventId>/<channel>`).
import { ApplicationFailure } from '@temporalio/activity';
import {
  E164_NUMBER,
  type BackupReason,
  isFailureType,
  planStep,
  type Channel,
  type ChannelWindows,
  type ContactState,
  type DeliveryChannel,
  type FailureType,
  type FrequencyCapRule,
  type LifecyclePosition,
  type NotificationKind,
  type OrderEvent,
  type PlanRecipient,
  type PushMessage,
  type PushRichContent,
  type PushTarget,
  type StepDecision,
  type SuppressionReason,
} from '../domain';
import type { Db } from '../lib/db';
import { metrics } from '../lib/metrics';
import { createInboxActivities } from './inbox';
import type { EmailMessage, SmsMessage } from './providers/message-provider';
import { isValidAddress } from './providers/smtp';
import { emailHtml, type createRenderer, type RenderedMessage } from './render';
import type { TrackingSettings } from '../lib/tracking';
import { insertNotification, selectRecipient, settleEvent, customerOf, targetsOf, type RecipientRow } from '../store/notifications';
import { activeExperimentFor, assignCustomer, type ActiveExperiment } from '../store/experiments';

export interface PrepareStepInput {
  event: OrderEvent;
  kind: NotificationKind;
  /** 0 for the plan's first channels; a backup step otherwise. */
  step: number;
  /** Why a backup step goes (recorded on its notifications). */
  escalationReason?: BackupReason | null;
  channels: Channel[];
  /** Every channel of the plan (preferences weigh them together). */
  planChannels: Channel[];
  /** The first step settles the event: where the order stands once it is applied. */
  position: LifecyclePosition | null;
  /** The workflow run asking: a retry of its own first step carries on; an event another run settled is not sent again. */
  runId: string;
  /** The workflow's clock and what it knows of the order's recent messages. */
  now: string;
  digestWindowMs: number;
  windows: ChannelWindows;
  capRules: FrequencyCapRule[];
}

/** A message ready to go (now or when its hold ends). */
export type OutboundMessage =
  | { channel: 'push'; message: PushMessage; devices: PushTarget[]; localized: Record<string, LocalizedPush> }
  | { channel: 'email'; address: string; message: EmailMessage }
  | { channel: 'sms'; address: string; message: SmsMessage };

/** A push in another locale's template: its words, and its own rich fields (null: none, not the base locale's). */
export type LocalizedPush = Pick<PushMessage, 'title' | 'body'> & { rich?: PushRichContent | null };

export type PreparedDelivery =
  | { notificationId: string; channel: DeliveryChannel; decision: Extract<StepDecision, { action: 'send' | 'hold' }>; outbound: OutboundMessage }
  | { notificationId: string; channel: Channel; decision: Extract<StepDecision, { action: 'suppress' }> }
  /** The inbox message was written. */
  | { notificationId: string; channel: 'inapp'; decision: { channel: 'inapp'; action: 'written' } }
  /** A backup channel that an earlier attempt or run already sent: never twice on one channel. */
  | { notificationId: string; channel: Channel; decision: { channel: Channel; action: 'already_sent' } }
  | { notificationId: string; channel: Channel; decision: { channel: Channel; action: 'failed'; reason: string; failure: FailureType | 'error' } };

export type PreparedStep =
  | { outcome: 'already_processed' }
  | { outcome: 'planned'; customer: PlanRecipient['customer']; deliveries: PreparedDelivery[] };

export interface StepSettings {
  /** Base URL providers call back on (Twilio status callbacks); none means no callbacks are asked for. */
  statusCallbackBaseUrl?: string | null;
  /** Email open and click tracking (HERALD_EMAIL_TRACKING, HERALD_TRACKING_SECRET); none: emails go untracked. */
  tracking?: TrackingSettings | null;
  /** How long (ms) the active experiment of a notification type is remembered (HERALD_TEMPLATE_CACHE_MS); 0 when not given. */
  experimentCacheMs?: number;
}

/** The experiment an order notification takes part in for its customer: the recorded variant and what it sends. */
interface ExperimentArm {
  experimentId: string;
  variant: string;
  templates: Partial<Record<Channel, string>>;
}

const contactOf = (address: string | null, valid: (a: string) => boolean): ContactState => (!address ? 'no_address' : valid(address) ? 'ok' : 'invalid_address');

export function recipientOf(row: RecipientRow): PlanRecipient {
  return {
    customer: customerOf(row),
    devices: targetsOf(row),
    contacts: { email: contactOf(row.email, isValidAddress), sms: contactOf(row.phone, (a) => E164_NUMBER.test(a)) },
    preferences: { preferences: row.preferences, consents: row.consents },
  };
}

export function createOrderStepActivities(db: Db, render: ReturnType<typeof createRenderer>, settings: StepSettings = {}) {
  const { addToInbox } = createInboxActivities(db);
  const experiments = new Map<string, { experiment: ActiveExperiment | null; until: number }>();

  /** The customer's arm of the active experiment on this order notification (assigned now if new to it); null when none runs. */
  async function experimentArm(kind: NotificationKind, customerId: string): Promise<ExperimentArm | null> {
    const notificationType = kind.type.startsWith('order.') ? kind.type.slice('order.'.length) : null;
    if (!notificationType) return null;
    let entry = experiments.get(notificationType);
    if (!entry || entry.until < Date.now()) {
      entry = { experiment: await activeExperimentFor(db, notificationType), until: Date.now() + (settings.experimentCacheMs ?? 0) };
      experiments.set(notificationType, entry);
    }
    const experiment = entry.experiment;
    if (!experiment) return null;
    // The recorded variant wins over a recomputed one: a retried step, a later order or a replayed run keeps it.
    const variant = await assignCustomer(db, experiment, customerId);
    return { experimentId: experiment.id, variant, templates: experiment.variants.find((v) => v.id === variant)?.templates ?? {} };
  }

  async function tryRender(request: Parameters<typeof render>[0]): Promise<{ ok: true; rendered: RenderedMessage } | { ok: false; reason: string; failure: FailureType | 'error' }> {
    try {
      return { ok: true, rendered: await render(request) };
    } catch (err) {
      if (!(err instanceof ApplicationFailure) || !err.nonRetryable) throw err;
      return { ok: false, reason: `${err.type}: ${err.message}`, failure: isFailureType(err.type) ? err.type : 'error' };
    }
  }

  return {
    async prepareStep(input: PrepareStepInput): Promise<PreparedStep> {
      const { event, kind } = input;
      const row = await selectRecipient(db, event.customerId, event.eventId);
      // A local activity may run twice (its result lost with a worker): the run that settled the event carries on.
      if (input.step === 0 && row.eventProcessed && row.eventSettledByRun !== input.runId) return { outcome: 'already_processed' };
      const recipient = recipientOf(row);
      const decisions = planStep(
        kind,
        input.channels,
        recipient,
        { now: Date.parse(input.now), digestWindowMs: input.digestWindowMs, windows: input.windows, capRules: input.capRules },
        { planChannels: input.planChannels, firstStep: input.step === 0 },
      );
      const customer = recipient.customer;
      const idOf = (channel: Channel) => `${event.eventId}/${channel}`;
      const variables = customer
        ? { ...event.data, orderId: event.orderId, status: event.status, occurredAt: event.occurredAt, customerName: customer.name }
        : {};
      const arm = customer ? await experimentArm(kind, customer.id) : null;
      const experiment = arm ? { id: arm.experimentId, variant: arm.variant } : null;
      const renderFor = async (channel: Channel, locale: string) => {
        const request = { channel, locale, timeZone: customer?.timeZone ?? 'UTC', variables };
        const variantKey = arm?.templates[channel];
        if (variantKey && variantKey !== kind.type) {
          const attempt = await tryRender({ ...request, key: variantKey });
          // An order update always goes: without its variant's template (not published in a locale of the chain), the default's words.
          if (attempt.ok) return attempt;
        }
        return tryRender({ ...request, key: kind.type });
      };

      const writes: Array<ReturnType<typeof insertNotification>> = [];
      const escalation = input.step > 0 ? { step: input.step, reason: input.escalationReason ?? null } : null;
      const deliveries: PreparedDelivery[] = [];
      const recordSuppressed = (channel: Channel, reason: SuppressionReason, address: string | null = null) => {
        if (channel !== 'inapp') {
          writes.push(insertNotification(db, { id: idOf(channel), event, kind, channel, address, status: 'suppressed', suppressionReason: reason, escalation, experiment }));
          metrics.notifications.inc({ channel, priority: kind.priority, outcome: 'suppressed', reason });
        }
      };

      // Push may have two decisions (devices now, devices in their quiet hours): one notification for both.
      const byChannel = new Map<Channel, StepDecision[]>();
      for (const d of decisions) byChannel.set(d.channel, [...(byChannel.get(d.channel) ?? []), d]);

      // A backup repeats nothing that already went (a retried step, or a replayed dead letter that went meanwhile).
      const earlier =
        input.step > 0
          ? new Set(
              (
                await db.$queryRaw<Array<{ id: string }>>`
                  SELECT id FROM "Notification" WHERE id = ANY(${[...byChannel.keys()].map(idOf)})
                    AND status NOT IN ('queued'::"NotificationStatus", 'failed'::"NotificationStatus", 'suppressed'::"NotificationStatus")`
              ).map((r) => r.id),
            )
          : new Set<string>();

      for (const [channel, channelDecisions] of byChannel) {
        const notificationId = idOf(channel);
        const first = channelDecisions[0]!;
        if (earlier.has(notificationId)) {
          deliveries.push({ notificationId, channel, decision: { channel, action: 'already_sent' } });
          continue;
        }
        if (first.action === 'suppress') {
          recordSuppressed(channel, first.reason, channel === 'email' ? row.email : channel === 'sms' ? row.phone : null);
          deliveries.push({ notificationId, channel, decision: first });
          continue;
        }
        const attempt = await renderFor(channel, customer!.locale);
        if (!attempt.ok) {
          if (channel !== 'inapp') {
            writes.push(insertNotification(db, { id: notificationId, event, kind, channel, status: 'failed', failureReason: attempt.reason, escalation, experiment }));
            metrics.notifications.inc({ channel, priority: kind.priority, outcome: 'failed', reason: attempt.failure });
          }
          deliveries.push({ notificationId, channel, decision: { channel, action: 'failed', reason: attempt.reason, failure: attempt.failure } });
          continue;
        }
        const rendered = attempt.rendered;
        const template = { id: rendered.templateId, version: rendered.templateVersion, locale: rendered.locale, title: rendered.subject, body: rendered.body };
        if (channel === 'inapp') {
          await addToInbox({
            notificationId,
            customerId: customer!.id,
            orderId: event.orderId,
            category: kind.category,
            title: rendered.subject,
            body: rendered.body,
            data: { orderId: event.orderId, status: event.status, type: kind.type, eventId: event.eventId },
          });
          deliveries.push({ notificationId, channel, decision: { channel, action: 'written' } });
          continue;
        }
        const hold = channelDecisions.find((d) => d.action === 'hold');
        const address = channel === 'email' ? row.email : channel === 'sms' ? row.phone : null;
        writes.push(
          insertNotification(db, {
            id: notificationId,
            event,
            kind,
            channel,
            address,
            status: 'queued',
            template,
            escalation,
            experiment,
            ...(hold && hold.action === 'hold' ? { held: { reason: hold.reason, until: hold.until } } : {}),
          }),
        );
        const outbound = await outboundFor(channel, notificationId, rendered, address, channelDecisions);
        for (const decision of channelDecisions) {
          if (decision.action === 'send' || decision.action === 'hold') {
            deliveries.push({ notificationId, channel: channel as DeliveryChannel, decision, outbound: withDevices(outbound, decision.devices) });
          }
        }
      }

      if (input.step === 0) await db.$transaction([...writes, settleEvent(db, event, input.position, input.runId)]);
      else if (writes.length > 0) await db.$transaction(writes);
      return { outcome: 'planned', customer, deliveries };

      async function outboundFor(channel: Channel, notificationId: string, rendered: RenderedMessage, address: string | null, ds: StepDecision[]): Promise<OutboundMessage> {
        const metadata = { notificationId, orderId: event.orderId, eventId: event.eventId, type: kind.type };
        if (channel === 'email') {
          const html = emailHtml(settings.tracking, notificationId, rendered);
          return { channel, address: address!, message: { to: address!, subject: rendered.subject, text: rendered.body, ...(html ? { html } : {}), metadata } };
        }
        if (channel === 'sms') {
          const callbackBase = settings.statusCallbackBaseUrl;
          return {
            channel,
            address: address!,
            message: { to: address!, body: rendered.body, ...(callbackBase ? { statusCallbackUrl: `${callbackBase}/v1/webhooks/twilio/status` } : {}), metadata },
          };
        }
        const devices = ds.flatMap((d) => (d.action === 'send' || d.action === 'hold' ? (d.devices ?? []) : []));
        // A device that reports its own locale reads the push in it (with the usual fallback chain).
        const localized: Record<string, LocalizedPush> = {};
        for (const locale of new Set(devices.map((d) => d.locale).filter((l): l is string => !!l && l !== customer!.locale))) {
          const other = await renderFor('push', locale);
          if (other.ok && other.rendered.locale !== rendered.locale) localized[locale] = { title: other.rendered.subject, body: other.rendered.body, rich: other.rendered.rich ?? null };
        }
        return {
          channel: 'push',
          devices,
          localized,
          message: {
            notificationId,
            orderId: event.orderId,
            title: rendered.subject,
            body: rendered.body,
            priority: kind.priority,
            collapseKey: `order-${event.orderId}`,
            data: { notificationId, orderId: event.orderId, status: event.status, type: kind.type },
            ...(rendered.rich ? { rich: rendered.rich } : {}),
          },
        };
      }
    },
  };
}

const withDevices = (outbound: OutboundMessage, devices: PushTarget[] | undefined): OutboundMessage =>
  outbound.channel === 'push' && devices ? { ...outbound, devices } : outbound;
