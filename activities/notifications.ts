import { ApplicationFailure } from '@temporalio/activity';
import {
  E164_NUMBER,
  decideChannels,
  type Channel,
  type FallbackChannel,
  pushSuppression,
  type LifecyclePosition,
  type NotificationKind,
  type OrderEvent,
  type PushOutcome,
  type PushTarget,
  type Recipient,
  type RenderedPush,
  type SuppressionReason,
} from '../domain';
import type { Db } from '../lib/db';
import { metrics } from '../lib/metrics';
import { createInboxActivities } from './inbox';
import type { EmailMessage, SmsMessage } from './providers/message-provider';
import { isValidAddress } from './providers/smtp';
import { emailHtml, type createRenderer } from './render';
import type { TrackingSettings } from '../lib/tracking';
import { finishNotification, insertNotification, selectRecipient, settleEvent, customerOf, targetsOf, type RecipientRow } from '../store/notifications';

export interface NotificationSettings {
  /** Base URL providers call back on (Twilio status callbacks); none means no callbacks are asked for. */
  statusCallbackBaseUrl?: string | null;
  /** Email open and click tracking; none: emails go untracked. */
  tracking?: TrackingSettings | null;
}

export interface PrepareFallbackInput {
  /** `<eventId>/<channel>`: one notification per event and channel, so a channel never gets it twice. */
  notificationId: string;
  event: OrderEvent;
  kind: NotificationKind;
  channel: FallbackChannel;
}

export type PreparedFallback =
  | { outcome: 'ready'; channel: 'email'; address: string; message: EmailMessage }
  | { outcome: 'ready'; channel: 'sms'; address: string; message: SmsMessage }
  | { outcome: 'suppressed'; reason: SuppressionReason }
  | { outcome: 'failed'; reason: string }
  /** Sent already (by an earlier attempt, an earlier run, or a replay): never twice on one channel. */
  | { outcome: 'already_sent' };

export interface MessageFailureInput {
  notificationId: string;
  channel: 'email' | 'sms';
  priority: NotificationKind['priority'];
  reason: string;
}

export interface PrepareNotificationInput {
  notificationId: string;
  event: OrderEvent;
  kind: NotificationKind;
  /** The order's position once this event is applied. */
  position: LifecyclePosition;
}

export type PreparedNotification =
  | {
      outcome: 'ready';
      recipient: Recipient;
      devices: PushTarget[];
      rendered: RenderedPush;
      /** The push in each device locale other than the customer's, when a device reports its own. */
      localized: Record<string, { title: string; body: string }>;
    }
  | { outcome: 'suppressed'; reason: SuppressionReason }
  | { outcome: 'failed'; reason: string }
  /** An earlier run of this order already handled the event (it was signalled again after that run ended). */
  | { outcome: 'already_processed' };

export interface UnsentInput {
  notificationId: string;
  event: OrderEvent;
  kind: NotificationKind;
  /** Held back on purpose (suppressed, with a reason) or impossible to send (failed, with the error). */
  outcome: { status: 'suppressed'; reason: SuppressionReason } | { status: 'failed'; reason: string };
  /** Where the order stands after this event; null when the event did not move it (out of order). */
  position: LifecyclePosition | null;
  channel?: 'push' | FallbackChannel;
  address?: string | null;
  template?: { id: string; version: number; locale: string; title: string; body: string } | null;
}

export interface FailureInput {
  notificationId: string;
  priority: NotificationKind['priority'];
  outcomes: PushOutcome[];
}

/** The channels a customer can be reached on at all: a device for push, an address for email and SMS. */
function availableChannels(row: RecipientRow, devices: number): Channel[] {
  return [...(devices > 0 ? (['push'] as const) : []), ...(row.email ? (['email'] as const) : []), ...(row.phone ? (['sms'] as const) : [])];
}

function recipientOf(row: RecipientRow, kind: NotificationKind): Recipient {
  const devices = targetsOf(row);
  // Preferences and consent decide over every reachable channel at once: a critical update may use an
  // opted-out channel only when no other is permitted (domain/preferences.ts).
  const decision = decideChannels({ preferences: row.preferences, consents: row.consents }, kind, availableChannels(row, devices.length));
  const refusal = decision.refused.find((r) => r.channel === 'push');
  return {
    customer: customerOf(row),
    devices,
    pushAllowed: !refusal,
    ...(refusal ? { pushRefusal: refusal.reason } : {}),
    ...(decision.override === 'push' ? { pushOverride: true } : {}),
  };
}

export function createNotificationActivities(db: Db, render: ReturnType<typeof createRenderer>, settings: NotificationSettings = {}) {
  const { addToInbox } = createInboxActivities(db);

  async function recordUnsent(input: UnsentInput): Promise<void> {
    const { event, kind, outcome } = input;
    const insert = insertNotification(db, {
      id: input.notificationId,
      event,
      kind,
      channel: input.channel ?? 'push',
      address: input.address ?? null,
      status: outcome.status,
      suppressionReason: outcome.status === 'suppressed' ? outcome.reason : null,
      failureReason: outcome.status === 'failed' ? outcome.reason : null,
      template: input.template ?? null,
    });
    // A fallback channel's record does not settle the event: the push record already did.
    if (input.channel && input.channel !== 'push') await insert;
    else await db.$transaction([insert, settleEvent(db, event, input.position)]);
  }

  /** Renders a template, or says why it cannot be (a missing template fails the notification, not the workflow). */
  async function tryRender(request: Parameters<typeof render>[0]): Promise<{ ok: true; rendered: Awaited<ReturnType<typeof render>> } | { ok: false; reason: string; type: string }> {
    try {
      return { ok: true, rendered: await render(request) };
    } catch (err) {
      if (!(err instanceof ApplicationFailure) || !err.nonRetryable) throw err;
      return { ok: false, reason: `${err.type}: ${err.message}`, type: err.type ?? 'error' };
    }
  }

  return {
    /**
     * Everything between "this event is news" and "send it", in one step (each step of the workflow costs
     * an activation): loads the recipient, records a suppression if the push may not go, otherwise renders
     * it and records the notification as queued. Idempotent by notification id.
     */
    async prepareNotification(input: PrepareNotificationInput): Promise<PreparedNotification> {
      const { event, kind, notificationId, position } = input;
      const row = await selectRecipient(db, event.customerId, event.eventId);
      if (row.eventProcessed) return { outcome: 'already_processed' };
      const recipient = recipientOf(row, kind);
      const suppress = async (reason: SuppressionReason, template?: UnsentInput['template']): Promise<PreparedNotification> => {
        await recordUnsent({ notificationId, event, kind, outcome: { status: 'suppressed', reason }, position, template });
        metrics.notifications.inc({ channel: 'push', priority: kind.priority, outcome: 'suppressed', reason });
        return { outcome: 'suppressed', reason };
      };
      if (!recipient.customer) return suppress('unknown_customer');
      const customer = recipient.customer;
      const renderIn = (locale: string) =>
        tryRender({
          key: kind.type,
          channel: 'push',
          locale,
          timeZone: customer.timeZone,
          variables: { ...event.data, orderId: event.orderId, status: event.status, occurredAt: event.occurredAt, customerName: customer.name },
        });
      const attempt = await renderIn(customer.locale);
      if (!attempt.ok) {
        await recordUnsent({ notificationId, event, kind, outcome: { status: 'failed', reason: attempt.reason }, position });
        metrics.notifications.inc({ channel: 'push', priority: kind.priority, outcome: 'failed', reason: attempt.type });
        return { outcome: 'failed', reason: attempt.reason };
      }
      const rendered = attempt.rendered;
      const template = { id: rendered.templateId, version: rendered.templateVersion, locale: rendered.locale, title: rendered.subject, body: rendered.body };
      // Every order update lands in the customer's inbox, whatever becomes of the push.
      await addToInbox({
        notificationId,
        customerId: recipient.customer.id,
        orderId: event.orderId,
        category: kind.category,
        title: rendered.subject,
        body: rendered.body,
        data: { orderId: event.orderId, status: event.status, type: kind.type, eventId: event.eventId },
      });
      const suppression = pushSuppression(recipient);
      if (suppression) return suppress(suppression, template);
      await db.$transaction([
        insertNotification(db, { id: notificationId, event, kind, status: 'queued', template }),
        settleEvent(db, event, position),
      ]);
      // A device that reports its own locale reads the push in it (with the usual fallback chain).
      const localized: Record<string, { title: string; body: string }> = {};
      for (const locale of new Set(recipient.devices.map((d) => d.locale).filter((l): l is string => !!l && l !== customer.locale))) {
        const other = await renderIn(locale);
        if (other.ok && other.rendered.locale !== rendered.locale) localized[locale] = { title: other.rendered.subject, body: other.rendered.body };
      }
      return {
        outcome: 'ready',
        recipient,
        devices: recipient.devices,
        localized,
        rendered: {
          title: rendered.subject,
          body: rendered.body,
          templateId: rendered.templateId,
          templateKey: kind.type,
          templateVersion: rendered.templateVersion,
          locale: rendered.locale,
        },
      };
    },

    /**
     * Gets an escalation's email or SMS ready: checks the customer has an address and accepts the
     * channel, renders the channel's template and records the notification as queued. Idempotent by
     * notification id; a notification already sent is never prepared again.
     */
    async prepareFallback(input: PrepareFallbackInput): Promise<PreparedFallback> {
      const { event, kind, notificationId, channel } = input;
      const [existing] = await db.$queryRaw<Array<{ status: string; suppressionReason: string | null; failureReason: string | null }>>`
        SELECT status::text, "suppressionReason", "failureReason" FROM "Notification" WHERE id = ${notificationId}`;
      if (existing && existing.status === 'suppressed') return { outcome: 'suppressed', reason: existing.suppressionReason as SuppressionReason };
      if (existing && existing.status !== 'queued' && existing.status !== 'failed') return { outcome: 'already_sent' };

      const row = await selectRecipient(db, event.customerId, event.eventId);
      const customer = row.customerId ? { id: row.customerId, name: row.name, email: row.email, phone: row.phone, locale: row.locale ?? 'en', timeZone: row.timeZone ?? 'UTC' } : null;
      const decision = customer ? decideChannels({ preferences: row.preferences, consents: row.consents }, kind, availableChannels(row, row.devices.length)) : null;
      const refusal = decision?.refused.find((r) => r.channel === channel);
      const base = { notificationId, event, kind, position: null, channel } as const;
      const suppress = async (reason: SuppressionReason, address: string | null = null): Promise<PreparedFallback> => {
        await recordUnsent({ ...base, address, outcome: { status: 'suppressed', reason } });
        metrics.notifications.inc({ channel, priority: kind.priority, outcome: 'suppressed', reason });
        return { outcome: 'suppressed', reason };
      };
      if (!customer) return suppress('unknown_customer');
      if (refusal) return suppress(refusal.reason);
      const address = channel === 'email' ? customer.email : customer.phone;
      if (!address) return suppress('no_address');
      if (channel === 'email' ? !isValidAddress(address) : !E164_NUMBER.test(address)) return suppress('invalid_address', address);

      const attempt = await tryRender({
        key: kind.type,
        channel,
        locale: customer.locale,
        timeZone: customer.timeZone,
        variables: { ...event.data, orderId: event.orderId, status: event.status, occurredAt: event.occurredAt, customerName: customer.name },
      });
      if (!attempt.ok) {
        await recordUnsent({ ...base, address, outcome: { status: 'failed', reason: attempt.reason } });
        metrics.notifications.inc({ channel, priority: kind.priority, outcome: 'failed', reason: attempt.type });
        return { outcome: 'failed', reason: attempt.reason };
      }
      const rendered = attempt.rendered;
      await insertNotification(db, {
        id: notificationId,
        event,
        kind,
        channel,
        address,
        status: 'queued',
        template: { id: rendered.templateId, version: rendered.templateVersion, locale: rendered.locale, title: rendered.subject, body: rendered.body },
      });
      const metadata = { notificationId, orderId: event.orderId, eventId: event.eventId, type: kind.type };
      if (channel === 'email') {
        return {
          outcome: 'ready',
          channel,
          address,
          message: { to: address, subject: rendered.subject, text: rendered.body, ...(rendered.html ? { html: emailHtml(settings.tracking, notificationId, rendered)! } : {}), metadata },
        };
      }
      const callbackBase = settings.statusCallbackBaseUrl;
      return {
        outcome: 'ready',
        channel,
        address,
        message: { to: address, body: rendered.body, ...(callbackBase ? { statusCallbackUrl: `${callbackBase}/v1/webhooks/twilio/status` } : {}), metadata },
      };
    },

    /** Marks an email or SMS notification failed after its retries, or refused for good. */
    async recordMessageFailed(input: MessageFailureInput): Promise<void> {
      await finishNotification(db, input.notificationId, { sent: false, failureReason: input.reason.slice(0, 2000) });
      metrics.notifications.inc({ channel: input.channel, priority: input.priority, outcome: 'failed', reason: 'retries_exhausted' });
    },

    async recordUnsent(input: UnsentInput): Promise<void> {
      await recordUnsent(input);
      const reason = input.outcome.status === 'suppressed' ? input.outcome.reason : 'error';
      metrics.notifications.inc({ channel: 'push', priority: input.kind.priority, outcome: input.outcome.status, reason });
    },

    /** Marks a notification failed when no device took it (a successful send marks it sent by itself). */
    async recordNotificationFailed(input: FailureInput): Promise<void> {
      const failures = input.outcomes.map((o) => `${o.deviceId}: ${o.error ?? 'unknown error'}`);
      await finishNotification(db, input.notificationId, { sent: false, failureReason: failures.join('; ') || 'no device took it' });
      metrics.notifications.inc({ channel: 'push', priority: input.priority, outcome: 'failed', reason: 'no_device_took_it' });
    },
  };
}
