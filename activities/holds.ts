// Notifications held back on purpose (quiet hours, a digest window), replaced by a newer one or
// merged into a digest, and refused by a frequency cap: each recorded with its reason and time.
import { ApplicationFailure } from '@temporalio/activity';
import type { NotificationKind, OrderEvent } from '../domain';
import type { Db } from '../lib/db';
import { metrics } from '../lib/metrics';
import { emailHtml, type createRenderer } from './render';
import type { TrackingSettings } from '../lib/tracking';

export interface HoldInput {
  notificationId: string;
  reason: 'quiet_hours' | 'digest';
  until: string;
}

export interface ReplacedInput {
  notificationIds: string[];
  replacedBy: string;
  /** superseded: a newer status went instead; digest: merged into the digest that went instead. */
  reason: 'superseded' | 'digest';
  priority: NotificationKind['priority'];
  /** The channel of the notifications (push unless said). */
  channel?: 'push' | 'email' | 'sms';
}

export interface DigestItem {
  notificationId: string;
  eventId: string;
  status: string;
  title: string;
  body: string;
  occurredAt: string;
}

export interface PrepareDigestInput {
  /** The notification that carries the digest (the first held one). */
  notificationId: string;
  /** The latest event: its order, customer and status name the digest. */
  event: OrderEvent;
  locale: string | null;
  timeZone: string | null;
  customerName: string | null;
  items: DigestItem[];
  /** The channel the digest goes on (push unless said): an email digest has its own template and an HTML part. */
  channel?: 'push' | 'email';
}

export function createHoldActivities(db: Db, render: ReturnType<typeof createRenderer>, tracking: TrackingSettings | null = null) {
  return {
    async recordHold(input: HoldInput): Promise<void> {
      await db.$executeRaw`
        UPDATE "Notification" SET "heldUntil" = ${new Date(input.until)}, "holdReason" = ${input.reason}, "updatedAt" = now()
        WHERE id = ${input.notificationId}`;
    },

    /** Marks held notifications that will never go as such, pointing at the one that went instead. */
    async recordReplaced(input: ReplacedInput): Promise<void> {
      const changed = await db.$executeRaw`
        UPDATE "Notification" SET status = 'suppressed'::"NotificationStatus", "suppressionReason" = ${input.reason},
          "replacedBy" = ${input.replacedBy}, "updatedAt" = now()
        WHERE id = ANY(${input.notificationIds}) AND status = 'queued'::"NotificationStatus"`;
      if (changed > 0) metrics.notifications.inc({ channel: input.channel ?? 'push', priority: input.priority, outcome: 'suppressed', reason: input.reason }, changed);
    },

    /** A push a frequency cap refused: suppressed with the cap that refused it. */
    async recordCapped(input: { notificationId: string; rule: string; priority: NotificationKind['priority']; channel?: 'push' | 'email' | 'sms' }): Promise<void> {
      await db.$executeRaw`
        UPDATE "Notification" SET status = 'suppressed'::"NotificationStatus", "suppressionReason" = 'frequency_cap',
          "failureReason" = ${input.rule}, "updatedAt" = now()
        WHERE id = ${input.notificationId} AND status = 'queued'::"NotificationStatus"`;
    },

    /**
     * Renders the digest of several held updates (template `order.digest`, given `updates`) onto the
     * carrying notification. Without a digest template the updates' own titles are listed.
     */
    async prepareDigest(input: PrepareDigestInput): Promise<{ title: string; body: string; html?: string }> {
      let title: string;
      let body: string;
      let html: string | undefined;
      let template: { id: string; version: number; locale: string } | null = null;
      try {
        const rendered = await render({
          key: 'order.digest',
          channel: input.channel ?? 'push',
          locale: input.locale,
          ...(input.timeZone ? { timeZone: input.timeZone } : {}),
          variables: {
            ...input.event.data,
            orderId: input.event.orderId,
            status: input.event.status,
            customerName: input.customerName,
            occurredAt: input.event.occurredAt,
            updates: input.items.map(({ status, title, body, occurredAt }) => ({ status, title, body, occurredAt })),
          },
        });
        title = rendered.subject;
        body = rendered.body;
        // An email digest is tracked as the notification it goes out as.
        html = emailHtml(tracking, input.notificationId, rendered);
        template = { id: rendered.templateId, version: rendered.templateVersion, locale: rendered.locale };
      } catch (err) {
        // No digest template, or one that cannot render: the updates' own titles still make a digest.
        if (!(err instanceof ApplicationFailure) || !err.nonRetryable) throw err;
        title = input.items[input.items.length - 1]!.title;
        body = input.items.map((i) => i.title).join(' · ');
      }
      await db.$executeRaw`
        UPDATE "Notification" SET title = ${title}, body = ${body}, type = 'order.digest',
          "templateId" = COALESCE(${template?.id ?? null}, "templateId"), "templateVersion" = COALESCE(${template?.version ?? null}::int, "templateVersion"),
          locale = COALESCE(${template?.locale ?? null}, locale), "updatedAt" = now()
        WHERE id = ${input.notificationId}`;
      return { title, body, ...(html ? { html } : {}) };
    },
  };
}
