import type {
  LifecyclePosition,
  NotificationKind,
  OrderEvent,
  PushOutcome,
  RenderedPush,
  SuppressionReason,
} from '../domain';
import type { Db } from '../lib/db';
import type { createRenderer } from './render';

export interface PrepareNotificationInput {
  notificationId: string;
  event: OrderEvent;
  kind: NotificationKind;
  locale: string | null;
  customerName: string | null;
}

export interface UnsentInput {
  notificationId: string;
  event: OrderEvent;
  kind: NotificationKind;
  /** Held back on purpose (suppressed, with a reason) or impossible to send (failed, with the error). */
  outcome: { status: 'suppressed'; reason: SuppressionReason } | { status: 'failed'; reason: string };
  /** Where the order stands after this event; null when the event did not move it (out of order). */
  position: LifecyclePosition | null;
}

export interface CompletionInput {
  notificationId: string;
  event: OrderEvent;
  outcomes: PushOutcome[];
  position: LifecyclePosition;
}

export function createNotificationActivities(db: Db, render: ReturnType<typeof createRenderer>) {
  async function settleEvent(tx: Pick<Db, 'orderEvent' | 'order'>, event: OrderEvent, position: LifecyclePosition | null) {
    await tx.orderEvent.updateMany({
      where: { eventId: event.eventId },
      data: { disposition: position ? 'announced' : 'out_of_order', processedAt: new Date() },
    });
    if (position) {
      const values = {
        customerId: event.customerId,
        stage: position.stage,
        status: position.status,
        occurredAt: position.occurredAt ? new Date(position.occurredAt) : null,
      };
      await tx.order.upsert({ where: { orderId: event.orderId }, create: { orderId: event.orderId, ...values }, update: values });
    }
  }

  return {
    /** Renders the push for an event and records the notification as queued (idempotent by notification id). */
    async prepareNotification(input: PrepareNotificationInput): Promise<RenderedPush> {
      const { event, kind } = input;
      const rendered = await render({
        key: kind.type,
        channel: 'push',
        locale: input.locale,
        variables: { ...event.data, orderId: event.orderId, status: event.status, customerName: input.customerName },
      });
      const fields = {
        orderId: event.orderId,
        customerId: event.customerId,
        eventId: event.eventId,
        type: kind.type,
        priority: kind.priority,
        category: kind.category,
        channel: 'push' as const,
        status: 'queued' as const,
        templateId: rendered.templateId,
        templateVersion: rendered.templateVersion,
        locale: rendered.locale,
        title: rendered.subject,
        body: rendered.body,
      };
      await db.notification.upsert({ where: { id: input.notificationId }, create: { id: input.notificationId, ...fields }, update: {} });
      return {
        title: rendered.subject,
        body: rendered.body,
        templateId: rendered.templateId,
        templateKey: kind.type,
        templateVersion: rendered.templateVersion,
        locale: rendered.locale,
      };
    },

    /** Records a notification that will not be sent, and why. */
    async recordUnsent(input: UnsentInput): Promise<void> {
      const { event, kind } = input;
      await db.$transaction(async (tx) => {
        await tx.notification.upsert({
          where: { id: input.notificationId },
          create: {
            id: input.notificationId,
            orderId: event.orderId,
            customerId: event.customerId,
            eventId: event.eventId,
            type: kind.type,
            priority: kind.priority,
            category: kind.category,
            channel: 'push',
            status: input.outcome.status,
            suppressionReason: input.outcome.status === 'suppressed' ? input.outcome.reason : null,
            failureReason: input.outcome.status === 'failed' ? input.outcome.reason : null,
          },
          // A notification already recorded (an event re-signalled after its run ended) keeps its outcome.
          update: {},
        });
        await settleEvent(tx, event, input.position);
      });
    },

    /** Settles a notification from its attempts' outcomes and moves the order's recorded position on. */
    async completeNotification(input: CompletionInput): Promise<void> {
      const sent = input.outcomes.filter((o) => o.status === 'sent');
      const failures = input.outcomes.filter((o) => o.status === 'failed').map((o) => o.error ?? 'unknown error');
      await db.$transaction(async (tx) => {
        await tx.notification.update({
          where: { id: input.notificationId },
          data:
            sent.length > 0
              ? { status: 'sent', sentAt: new Date(), failureReason: failures.length ? failures.join('; ') : null }
              : { status: 'failed', failureReason: failures.join('; ') || 'no attempt succeeded' },
        });
        await settleEvent(tx, input.event, input.position);
      });
    },
  };
}
