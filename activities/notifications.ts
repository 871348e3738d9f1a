import { ApplicationFailure } from '@temporalio/activity';
import {
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
import type { createRenderer } from './render';
import { finishNotification, insertNotification, selectRecipient, settleEvent, targetsOf } from './store';

export interface PrepareNotificationInput {
  notificationId: string;
  event: OrderEvent;
  kind: NotificationKind;
  /** The order's position once this event is applied. */
  position: LifecyclePosition;
}

export type PreparedNotification =
  | { outcome: 'ready'; recipient: Recipient; devices: PushTarget[]; rendered: RenderedPush }
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
}

export interface FailureInput {
  notificationId: string;
  priority: NotificationKind['priority'];
  outcomes: PushOutcome[];
}

function recipientOf(row: Awaited<ReturnType<typeof selectRecipient>>): Recipient {
  return {
    customer: row.customerId
      ? {
          id: row.customerId,
          name: row.name,
          locale: row.locale ?? 'en',
          timeZone: row.timeZone ?? 'UTC',
          quietHours: row.quietHoursStart && row.quietHoursEnd ? { start: row.quietHoursStart, end: row.quietHoursEnd } : null,
        }
      : null,
    devices: targetsOf(row),
    pushAllowed: row.pushAllowed,
  };
}

export function createNotificationActivities(db: Db, render: ReturnType<typeof createRenderer>) {
  async function recordUnsent(input: UnsentInput): Promise<void> {
    const { event, kind, outcome } = input;
    await db.$transaction([
      insertNotification(db, {
        id: input.notificationId,
        event,
        kind,
        status: outcome.status,
        suppressionReason: outcome.status === 'suppressed' ? outcome.reason : null,
        failureReason: outcome.status === 'failed' ? outcome.reason : null,
      }),
      settleEvent(db, event, input.position),
    ]);
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
      const recipient = recipientOf(row);
      const suppression = pushSuppression(recipient);
      if (suppression) {
        await recordUnsent({ notificationId, event, kind, outcome: { status: 'suppressed', reason: suppression }, position });
        metrics.notifications.inc({ channel: 'push', priority: kind.priority, outcome: 'suppressed', reason: suppression });
        return { outcome: 'suppressed', reason: suppression };
      }
      let rendered;
      try {
        rendered = await render({
          key: kind.type,
          channel: 'push',
          locale: recipient.customer!.locale,
          variables: { ...event.data, orderId: event.orderId, status: event.status, customerName: recipient.customer!.name },
        });
      } catch (err) {
        if (!(err instanceof ApplicationFailure) || !err.nonRetryable) throw err;
        const reason = `${err.type}: ${err.message}`;
        await recordUnsent({ notificationId, event, kind, outcome: { status: 'failed', reason }, position });
        metrics.notifications.inc({ channel: 'push', priority: kind.priority, outcome: 'failed', reason: err.type ?? 'error' });
        return { outcome: 'failed', reason };
      }
      await db.$transaction([
        insertNotification(db, {
          id: notificationId,
          event,
          kind,
          status: 'queued',
          template: { id: rendered.templateId, version: rendered.templateVersion, locale: rendered.locale, title: rendered.subject, body: rendered.body },
        }),
        settleEvent(db, event, position),
      ]);
      return {
        outcome: 'ready',
        recipient,
        devices: recipient.devices,
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
