// The side effects of a cart's reminders: the settings its run follows, one reminder made ready through
// the same gates as order updates (domain/delivery-plan.ts planStep: consent, preferences, quiet hours,
// caps) and recorded as a Notification, and how the cart ended. Idempotent by notification id.
import { ApplicationFailure } from '@temporalio/activity';
import {
  CART_REMINDER_KIND,
  cartReminderId,
  planStep,
  type CartReminderRule,
  type DeliveryChannel,
  type FrequencyCapRule,
  type StepDecision,
  type SuppressionReason,
} from '../domain';
import { CART_REMINDER_TEMPLATE_KEY } from '../domain/template-variables';
import type { HeraldConfig } from '../lib/config';
import type { Db } from '../lib/db';
import { metrics } from '../lib/metrics';
import type { DeliveryOptions } from '../workflows/delivery';
import { closeCart, cartReminderStatus, loadCartEvent, upsertCartReminder, withdrawCartReminder, type CartClosure } from '../store/carts';
import { selectRecipient } from '../store/notifications';
import type { OutboundMessage, StepSettings } from './order-steps';
import { recipientOf } from './order-steps';
import type { createRenderer } from './render';

/** What a cart run needs of Herald's configuration. */
export interface CartSettings {
  /** The reminders, each after the cart's last update (HERALD_CART_REMINDERS). */
  reminders: CartReminderRule[];
  /** The same per-customer caps as order updates: reminders are marketing and count against them. */
  frequencyCaps: FrequencyCapRule[];
  /** Retry policies and task queues per channel. */
  delivery?: DeliveryOptions;
}

export function cartSettingsFrom(config: Pick<HeraldConfig, 'cartReminders' | 'frequencyCaps' | 'retry'>): CartSettings {
  return { reminders: config.cartReminders, frequencyCaps: config.frequencyCaps, delivery: { retry: config.retry } };
}

export interface PrepareCartReminderInput {
  cartId: string;
  /** The update that started this sequence: its items are what the reminder shows. */
  cartEventId: string;
  customerId: string;
  /** 1-based position in the sequence. */
  step: number;
  channel: DeliveryChannel;
  /** The workflow's clock. */
  now: string;
  capRules: FrequencyCapRule[];
}

export type PreparedCartReminder =
  | { action: 'send'; notificationId: string; outbound: OutboundMessage; caps: FrequencyCapRule[] }
  | { action: 'hold'; notificationId: string; until: string }
  | { action: 'suppressed'; notificationId: string; reason: SuppressionReason | string }
  | { action: 'failed'; notificationId: string; reason: string }
  /** A retried step whose reminder already went. */
  | { action: 'already_sent'; notificationId: string };

export function createCartReminderActivities(db: Db, render: ReturnType<typeof createRenderer>, cartSettings: CartSettings, settings: StepSettings = {}) {
  return {
    /** The settings in force on this worker, read once at its start; each cart run takes them when it begins. */
    async loadCartSettings(): Promise<CartSettings> {
      return cartSettings;
    },

    async prepareCartReminder(input: PrepareCartReminderInput): Promise<PreparedCartReminder> {
      const notificationId = cartReminderId(input.cartEventId, input.step);
      const earlier = await cartReminderStatus(db, notificationId);
      if (earlier && earlier.status === 'suppressed') return { action: 'suppressed', notificationId, reason: earlier.suppressionReason ?? 'suppressed' };
      if (earlier && earlier.status === 'failed') return { action: 'failed', notificationId, reason: earlier.failureReason ?? 'failed' };
      if (earlier && earlier.status !== 'queued') return { action: 'already_sent', notificationId };

      const cart = await loadCartEvent(db, input.cartEventId);
      if (!cart) throw ApplicationFailure.nonRetryable(`cart event ${input.cartEventId} is not stored`, 'CartEventMissing');
      const row = await selectRecipient(db, input.customerId, input.cartEventId);
      const recipient = recipientOf(row);
      const { channel } = input;
      const decisions = planStep(
        CART_REMINDER_KIND,
        [channel],
        recipient,
        { now: Date.parse(input.now), digestWindowMs: 0, windows: { lastRoutineSentAt: {}, openDigests: {} }, capRules: input.capRules },
        { planChannels: [channel] },
      );
      const address = channel === 'email' ? row.email : channel === 'sms' ? row.phone : null;
      const base = { id: notificationId, cartId: input.cartId, cartEventId: input.cartEventId, customerId: input.customerId, channel, address };
      const suppressed = decisions.find((d): d is Extract<StepDecision, { action: 'suppress' }> => d.action === 'suppress');
      const sendNow = decisions.find((d): d is Extract<StepDecision, { action: 'send' }> => d.action === 'send');
      const holds = decisions.filter((d): d is Extract<StepDecision, { action: 'hold' }> => d.action === 'hold');

      if (suppressed) {
        await upsertCartReminder(db, { ...base, status: 'suppressed', suppressionReason: suppressed.reason });
        metrics.notifications.inc({ channel, priority: CART_REMINDER_KIND.priority, outcome: 'suppressed', reason: suppressed.reason });
        return { action: 'suppressed', notificationId, reason: suppressed.reason };
      }
      // Inside quiet hours the reminder waits; a push goes now to the devices outside theirs, and skips the others (marketing never wakes anyone).
      if (!sendNow) {
        const until = holds.map((h) => h.until).sort()[0]!;
        await upsertCartReminder(db, { ...base, status: 'queued', held: { reason: 'quiet_hours', until } });
        return { action: 'hold', notificationId, until };
      }

      const customer = recipient.customer!;
      const items = cart.items;
      const variables = {
        cartId: input.cartId,
        customerName: customer.name,
        items,
        itemCount: items.reduce((sum, item) => sum + (Number(item.quantity) || 0), 0),
        total: cart.total,
        currency: cart.currency,
        ...(cart.recoveryUrl ? { recoveryUrl: cart.recoveryUrl } : {}),
      };
      let rendered;
      try {
        rendered = await render({ key: CART_REMINDER_TEMPLATE_KEY, channel, locale: customer.locale, timeZone: customer.timeZone, variables });
      } catch (err) {
        if (!(err instanceof ApplicationFailure) || !err.nonRetryable) throw err;
        const reason = `${err.type}: ${err.message}`;
        await upsertCartReminder(db, { ...base, status: 'failed', failureReason: reason });
        metrics.notifications.inc({ channel, priority: CART_REMINDER_KIND.priority, outcome: 'failed', reason: err.type ?? 'error' });
        return { action: 'failed', notificationId, reason };
      }
      const template = { id: rendered.templateId, version: rendered.templateVersion, locale: rendered.locale, title: rendered.subject, body: rendered.body };
      await upsertCartReminder(db, { ...base, status: 'queued', template });

      const metadata = { notificationId, cartId: input.cartId, type: CART_REMINDER_KIND.type };
      let outbound: OutboundMessage;
      if (channel === 'email') {
        outbound = { channel, address: address!, message: { to: address!, subject: rendered.subject, text: rendered.body, ...(rendered.html ? { html: rendered.html } : {}), metadata } };
      } else if (channel === 'sms') {
        const callbackBase = settings.statusCallbackBaseUrl;
        outbound = { channel, address: address!, message: { to: address!, body: rendered.body, ...(callbackBase ? { statusCallbackUrl: `${callbackBase}/v1/webhooks/twilio/status` } : {}), metadata } };
      } else {
        outbound = {
          channel: 'push',
          devices: sendNow.devices ?? [],
          localized: {},
          message: {
            notificationId,
            orderId: '',
            title: rendered.subject,
            body: rendered.body,
            priority: CART_REMINDER_KIND.priority,
            collapseKey: `cart-${input.cartId}`,
            data: { notificationId, cartId: input.cartId, type: CART_REMINDER_KIND.type, ...(cart.recoveryUrl ? { url: cart.recoveryUrl } : {}) },
            // The template's image, deep link and buttons (the default: the first item's picture, the recovery link).
            ...(rendered.rich ? { rich: rendered.rich } : {}),
          },
        };
      }
      return { action: 'send', notificationId, outbound, caps: sendNow.caps };
    },

    /** A reminder that waited and will not go: the cart changed or ended first. */
    async withdrawCartReminder(input: { notificationId: string; reason: 'cart_updated' | 'cart_closed' }): Promise<void> {
      await withdrawCartReminder(db, input.notificationId, input.reason);
    },

    /** How the cart ended; `lastUpdatedAt` keeps a run from closing a cart a newer update reopened. */
    async recordCartClosed(input: CartClosure & { lastUpdatedAt: string | null }): Promise<void> {
      const { lastUpdatedAt, ...closure } = input;
      await closeCart(db, closure, lastUpdatedAt);
    },
  };
}
