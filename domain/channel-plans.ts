// Channel plans: which channels carry each notification type at once, and which back them up when
// those do not reach the customer. Pure data and rules; the order workflow runs them durably, and
// HERALD_CHANNEL_PLANS_FILE (lib/channel-plans-file.ts) overrides the defaults per type.
import type { Channel, DeliveryChannel } from './delivery';
import type { EscalationPolicy } from './escalation';
import { ORDER_STATUSES, notificationKindFor, type NotificationKind, type OrderStatus } from './order-status';

/**
 * When a backup step goes:
 * - `failed`: nothing of the step before reached the customer (every message failed, or could not go:
 *   no device, no address, opted out);
 * - `unconfirmed`: as `failed`, or what went got no confirming receipt (delivered, opened, clicked)
 *   within `within`; a receipt saying it was not delivered sends the backup at once.
 */
export const STEP_CONDITIONS = ['failed', 'unconfirmed'] as const;
export type StepCondition = (typeof STEP_CONDITIONS)[number];

export interface BackupStep {
  channels: DeliveryChannel[];
  when: StepCondition;
  /** How long an `unconfirmed` step waits for a receipt; the plans' receipt deadline when absent. */
  within?: string;
}

export interface ChannelPlan {
  /** The channels that carry the notification at once (`inapp` is the customer's inbox). */
  channels: Channel[];
  /** Backups, in order: each goes when the step before it did not reach the customer. */
  then: BackupStep[];
}

/** Plans per notification type (`order.shipped`); a type without one uses `default`. */
export interface ChannelPlans {
  plans: Record<string, ChannelPlan>;
  default: ChannelPlan;
  /** How long an `unconfirmed` step waits when it names no `within` (HERALD_RECEIPT_DEADLINE). */
  receiptDeadline: string;
}

const plan = (channels: Channel[], ...then: BackupStep[]): ChannelPlan => ({ channels, then });
const ifFailed = (...channels: DeliveryChannel[]): BackupStep => ({ channels, when: 'failed' });
const ifUnconfirmed = (...channels: DeliveryChannel[]): BackupStep => ({ channels, when: 'unconfirmed' });

/**
 * The defaults (README, "When messages go"):
 * - the confirmation is the email receipt and a push at once;
 * - a parcel on its way is a push and an email with its tracking;
 * - out for delivery is a push, then an SMS when no receipt comes in time;
 * - what went wrong (payment, stock, delay, a missed delivery, a cancellation) is a push and an email,
 *   then an SMS when neither is confirmed in time (at once when both failed);
 * - the rest is a push, and an email when the push cannot reach the customer.
 * Every plan writes the in-app inbox too.
 */
const DEFAULT_PLAN_BY_STATUS: Record<OrderStatus, ChannelPlan> = {
  confirmed: plan(['email', 'push', 'inapp']),
  payment_failed: plan(['push', 'email', 'inapp'], ifUnconfirmed('sms')),
  backordered: plan(['push', 'email', 'inapp'], ifUnconfirmed('sms')),
  packed: plan(['push', 'inapp'], ifFailed('email')),
  partially_shipped: plan(['push', 'email', 'inapp']),
  shipped: plan(['push', 'email', 'inapp']),
  out_for_delivery: plan(['push', 'inapp'], ifUnconfirmed('sms')),
  delivery_attempted: plan(['push', 'email', 'inapp'], ifUnconfirmed('sms')),
  delayed: plan(['push', 'email', 'inapp'], ifUnconfirmed('sms')),
  ready_for_pickup: plan(['push', 'email', 'inapp']),
  delivered: plan(['push', 'inapp'], ifFailed('email')),
  picked_up: plan(['push', 'inapp'], ifFailed('email')),
  cancelled: plan(['push', 'email', 'inapp'], ifUnconfirmed('sms')),
  returned: plan(['push', 'inapp'], ifFailed('email')),
  return_received: plan(['push', 'inapp'], ifFailed('email')),
  refunded: plan(['push', 'inapp'], ifFailed('email')),
};

export const DEFAULT_RECEIPT_DEADLINE = '5 minutes';

export const DEFAULT_CHANNEL_PLANS: ChannelPlans = {
  plans: Object.fromEntries(ORDER_STATUSES.map((status) => [notificationKindFor(status).type, DEFAULT_PLAN_BY_STATUS[status]])),
  default: plan(['push', 'inapp'], ifFailed('email')),
  receiptDeadline: DEFAULT_RECEIPT_DEADLINE,
};

/**
 * The plan of a notification. Marketing never goes by SMS, whatever the configuration says, and a
 * channel is used once per notification (a backup repeats no channel of an earlier step).
 */
export function planFor(plans: ChannelPlans, kind: NotificationKind): ChannelPlan {
  const chosen = plans.plans[kind.type] ?? plans.default;
  const allowed = (c: Channel) => !(kind.category === 'marketing' && c === 'sms');
  const used = new Set<Channel>(chosen.channels.filter(allowed));
  const then: BackupStep[] = [];
  for (const step of chosen.then) {
    const channels = step.channels.filter((c) => allowed(c) && !used.has(c));
    channels.forEach((c) => used.add(c));
    if (channels.length > 0) then.push({ ...step, channels });
  }
  return { channels: [...used].filter((c) => chosen.channels.includes(c)), then };
}

/** How long a step waits for its receipt. */
export function receiptDeadlineOf(plans: ChannelPlans, step: BackupStep): string {
  return step.within ?? plans.receiptDeadline;
}

/**
 * The plans an escalation policy (HERALD_ESCALATION_POLICY_FILE, from before channel plans) meant:
 * push and the inbox first, then the class's fallback channels together, when push failed or (with a
 * receipt deadline) was not confirmed in time.
 */
export function plansFromEscalationPolicy(policy: EscalationPolicy, receiptDeadline = DEFAULT_RECEIPT_DEADLINE): ChannelPlans {
  const planOf = (rule: EscalationPolicy['routine']): ChannelPlan =>
    plan(
      ['push', 'inapp'],
      ...(rule.fallback.length > 0 ? [{ channels: [...rule.fallback], when: rule.receiptDeadline ? 'unconfirmed' : 'failed', ...(rule.receiptDeadline ? { within: rule.receiptDeadline } : {}) } as BackupStep] : []),
    );
  return {
    plans: Object.fromEntries(ORDER_STATUSES.map((status) => [notificationKindFor(status).type, planOf(policy[notificationKindFor(status).priority])])),
    default: planOf(policy.marketing),
    receiptDeadline,
  };
}

/** Why a backup step went. */
export type BackupReason =
  /** Nothing of the step before could go (no device, no address, opted out, capped). */
  | 'nothing_sent'
  /** What went failed for good. */
  | 'all_failed'
  /** What went got no confirming receipt in time. */
  | 'no_receipt'
  /** Every message that went was reported not delivered (a bounce, a failed push). */
  | 'undelivered';

/** One message of a step, as far as the plan cares. */
export interface StepMessage {
  channel: Channel;
  /**
   * pending: held or on its way; sent: a provider took it; failed: it failed for good; skipped: it could
   * not or may not go; capped: a frequency cap held it back.
   */
  state: 'pending' | 'sent' | 'failed' | 'skipped' | 'capped';
  /** What a receipt said of it: the customer got it (delivered, opened, clicked), or did not (bounced, failed). */
  receipt?: 'confirmed' | 'negative';
}

export type StepVerdict =
  | { next: 'wait' }
  | { next: 'done'; reached: boolean; confirmed?: boolean }
  | { next: 'backup'; reason: BackupReason }
  | { next: 'await_receipt' };

/**
 * Where a step stands, given its messages and the condition of the backup after it (none: the plan
 * ends here). The inbox never counts as reaching the customer: it reaches only someone in the app.
 */
export function stepVerdict(messages: StepMessage[], backup: StepCondition | null): StepVerdict {
  const delivered = messages.filter((m) => m.channel !== 'inapp');
  if (delivered.some((m) => m.state === 'pending')) return { next: 'wait' };
  const sent = delivered.filter((m) => m.state === 'sent');
  if (backup === null) return { next: 'done', reached: sent.length > 0 };
  // A cap is the customer's limit honoured, not a failure to reach them: the plan stops there.
  if (sent.length === 0 && delivered.some((m) => m.state === 'capped')) return { next: 'done', reached: false };
  if (sent.length === 0) return { next: 'backup', reason: delivered.some((m) => m.state === 'failed') ? 'all_failed' : 'nothing_sent' };
  if (backup === 'failed') return { next: 'done', reached: true };
  if (sent.some((m) => m.receipt === 'confirmed')) return { next: 'done', reached: true, confirmed: true };
  if (sent.every((m) => m.receipt === 'negative')) return { next: 'backup', reason: 'undelivered' };
  return { next: 'await_receipt' };
}
