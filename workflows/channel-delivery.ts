// Carrying one prepared message out on its channel: the frequency cap, the provider activities
// (a push per device, Android devices together in FCM batches; an email; an SMS), and what to record
// when it still fails. Used by the order run for first sends, releases of held messages and backups.
import { msToNumber } from '@temporalio/common/lib/time';
import type { Duration } from '@temporalio/common';
import { proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { OutboundMessage } from '../activities/order-steps';
import {
  describeCapRule,
  FAILURE_TYPES,
  keepsDeadLetter,
  type FailureType,
  type FrequencyCapRule,
  type NotificationKind,
  type OrderEvent,
  type PushMessage,
  type PushRichContent,
  type PushOutcome,
  type PushTarget,
} from '../domain';
import { deliveryActivities, describeFailure, failureType, type DeliveryOptions } from './delivery';

const { claimFrequencySlot, recordCapped, recordNotificationFailed, recordMessageFailed, recordDeadLetter } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 ms', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** More Android devices than this for one customer go to FCM in one sendEach batch rather than one call each. */
const FCM_BATCH_FROM = 2;

export interface SendResult {
  state: 'sent' | 'failed' | 'capped';
  /** Push: how many devices took it, and how many did not. */
  sentTo: number;
  failedTo: number;
  /** What went wrong, for the record (the cap rule when capped). */
  detail?: string;
  failure?: FailureType;
}

/** What a message is about: an order event, or a cart update (no order). */
export type MessageSubject = Pick<OrderEvent, 'eventId' | 'customerId'> & { orderId: string | null };

export interface Sendable<E extends MessageSubject = OrderEvent> {
  notificationId: string;
  event: E;
  kind: NotificationKind;
  outbound: OutboundMessage;
  caps: FrequencyCapRule[];
}

export function createChannelSender(options: DeliveryOptions = {}) {
  const delivery = deliveryActivities(options);

  /** Takes a slot under every cap that applies, or says which one refused. */
  async function withinCaps(item: Sendable<MessageSubject>): Promise<string | null> {
    if (item.caps.length === 0) return null;
    const slot = await claimFrequencySlot({
      notificationId: item.notificationId,
      customerId: item.event.customerId,
      channel: item.outbound.channel,
      rules: item.caps.map((r) => ({ category: r.category, limit: r.limit, windowSeconds: Math.round(msToNumber(r.window as Duration) / 1000), description: describeCapRule(r) })),
    });
    if (slot.allowed) return null;
    const rule = slot.rule ?? 'frequency cap';
    await recordCapped({ notificationId: item.notificationId, rule, priority: item.kind.priority, channel: item.outbound.channel });
    return rule;
  }

  async function send(item: Sendable<MessageSubject>): Promise<SendResult> {
    const capped = await withinCaps(item);
    if (capped) return { state: 'capped', sentTo: 0, failedTo: 0, detail: capped };
    const { outbound } = item;
    if (outbound.channel === 'push') return sendPush(item, outbound);
    return sendMessage(item, outbound);
  }

  async function sendPush(item: Sendable<MessageSubject>, outbound: Extract<OutboundMessage, { channel: 'push' }>): Promise<SendResult> {
    const outcomes = await pushToDevices(item, outbound.devices, outbound.message, outbound.localized);
    const sentTo = outcomes.filter((o) => o.status === 'sent').length;
    if (sentTo > 0) return { state: 'sent', sentTo, failedTo: outcomes.length - sentTo };
    await recordNotificationFailed({ notificationId: item.notificationId, priority: item.kind.priority, outcomes });
    const failure = outcomes.every((o) => o.failure === FAILURE_TYPES.invalidToken) ? FAILURE_TYPES.invalidToken : outcomes.find((o) => o.failure)?.failure;
    return { state: 'failed', sentTo: 0, failedTo: outcomes.length, detail: outcomes.map((o) => `${o.deviceId}: ${o.error ?? 'failed'}`).join('; '), ...(failure ? { failure } : {}) };
  }

  async function sendMessage(item: Sendable<MessageSubject>, outbound: Exclude<OutboundMessage, { channel: 'push' }>): Promise<SendResult> {
    const { notificationId, event, kind } = item;
    const common = { notificationId, orderId: event.orderId, priority: kind.priority };
    try {
      if (outbound.channel === 'email') {
        await delivery.sendEmail.executeWithOptions(delivery.optionsOf('email', kind.priority, `email ${event.eventId} to customer ${event.customerId}`), [{ ...common, message: outbound.message }]);
      } else {
        await delivery.sendSms.executeWithOptions(delivery.optionsOf('sms', kind.priority, `sms ${event.eventId} to customer ${event.customerId}`), [{ ...common, message: outbound.message }]);
      }
      return { state: 'sent', sentTo: 1, failedTo: 0 };
    } catch (err) {
      const error = describeFailure(err);
      const type = failureType(err);
      await recordMessageFailed({ notificationId, channel: outbound.channel, priority: kind.priority, reason: error });
      if (keepsDeadLetter(type)) {
        const base = { notificationId, orderId: event.orderId, customerId: event.customerId, lastError: error };
        await recordDeadLetter(
          outbound.channel === 'email'
            ? { ...base, channel: 'email', target: { channel: 'email', address: outbound.address }, message: outbound.message }
            : { ...base, channel: 'sms', target: { channel: 'sms', address: outbound.address }, message: outbound.message },
        );
      }
      return { state: 'failed', sentTo: 0, failedTo: 1, detail: error, ...(type ? { failure: type } : {}) };
    }
  }

  /** Pushes to every device: Android devices reading the same words together in FCM batches, the others one activity each. */
  async function pushToDevices(item: Sendable<MessageSubject>, devices: PushTarget[], baseMessage: PushMessage, localized: Record<string, { title: string; body: string; rich?: PushRichContent | null }>): Promise<PushOutcome[]> {
    const { notificationId, event } = item;
    const localeOf = (target: PushTarget) => (target.locale && localized[target.locale] ? target.locale : '');
    const messageFor = (locale: string): PushMessage => (locale ? { ...baseMessage, ...localized[locale] } : baseMessage);
    const deadLetter = (target: PushTarget, message: PushMessage, error: string) =>
      recordDeadLetter({ notificationId, orderId: event.orderId, customerId: event.customerId, target, message, lastError: error });

    const batches = new Map<string, PushTarget[]>();
    for (const d of devices.filter((d) => d.platform === 'android')) batches.set(localeOf(d), [...(batches.get(localeOf(d)) ?? []), d]);
    for (const [locale, group] of batches) if (group.length < FCM_BATCH_FROM) batches.delete(locale);
    const batched = new Set([...batches.values()].flat());

    const singles = devices
      .filter((d) => !batched.has(d))
      .map((target) => {
        const message = messageFor(localeOf(target));
        return delivery.sendPush
          .executeWithOptions(delivery.optionsOf('push', message.priority, `push ${event.eventId} to ${deviceName(target)}`), [{ notificationId, target, message }])
          .catch(async (err): Promise<PushOutcome> => {
            const error = describeFailure(err);
            const type = failureType(err);
            if (keepsDeadLetter(type)) await deadLetter(target, message, error);
            return { deviceId: target.deviceId, status: 'failed', provider: target.platform, error, ...(type ? { failure: type } : {}) };
          });
      });
    const groups = [...batches].map(([locale, targets]) => {
      const message = messageFor(locale);
      return delivery.sendPushBatch
        .executeWithOptions(delivery.optionsOf('push', message.priority, `push ${event.eventId} to ${deviceNames(targets)} (FCM batch)`), [{ notificationId, targets, message }])
        .catch(async (err): Promise<PushOutcome[]> => {
          // The last attempt's outcomes ride on the failure: devices it could not reach become dead letters.
          const details = failureDetails(err);
          const outcomes: PushOutcome[] = targets.map(
            (t) => details.find((o) => o.deviceId === t.deviceId) ?? { deviceId: t.deviceId, status: 'failed', provider: 'fcm', error: describeFailure(err), failure: failureType(err) ?? FAILURE_TYPES.transient },
          );
          for (const outcome of outcomes) {
            if (outcome.status === 'failed' && keepsDeadLetter(outcome.failure)) {
              await deadLetter(targets.find((t) => t.deviceId === outcome.deviceId)!, message, outcome.error ?? describeFailure(err));
            }
          }
          return outcomes;
        });
    });
    const [singleOutcomes, batchOutcomes] = await Promise.all([Promise.all(singles), Promise.all(groups)]);
    return [...singleOutcomes, ...batchOutcomes.flat()];
  }

  return { send };
}

/** A device as operators know it: its platform and the id the app registered it with (Herald's row id in older state). */
function deviceName(target: PushTarget): string {
  return `${target.platform}:${target.appDeviceId ?? target.deviceId}`;
}

/** The first few devices of a batch by name, then how many more. */
function deviceNames(targets: PushTarget[], shown = 3): string {
  const names = targets.slice(0, shown).map(deviceName).join(', ');
  return targets.length > shown ? `${names} and ${targets.length - shown} more` : names;
}

/** The per-device outcomes an FCM batch attaches to its final failure. */
function failureDetails(err: unknown): PushOutcome[] {
  const cause = (err as { cause?: { details?: unknown[] } }).cause;
  const details = cause?.details?.[0];
  return Array.isArray(details) ? (details as PushOutcome[]) : [];
}
