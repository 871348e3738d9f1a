// Fallback escalation: which other channels carry an order update when push does not reach the
// customer, and how long a sent push may wait for its delivery receipt. Pure data and rules; the
// order workflow applies them durably.
import type { NotificationKind } from './order-status';

export const FALLBACK_CHANNELS = ['email', 'sms'] as const;
export type FallbackChannel = (typeof FALLBACK_CHANNELS)[number];

/** The policy has one rule per class: the two priorities, and marketing whatever its priority. */
export const ESCALATION_CLASSES = ['critical', 'routine', 'marketing'] as const;
export type EscalationClass = (typeof ESCALATION_CLASSES)[number];

export interface EscalationRule {
  /** Channels sent, together, when the push did not reach the customer. */
  fallback: FallbackChannel[];
  /**
   * How long a push that a provider accepted may wait for a delivery receipt (delivered, opened or
   * clicked) before the fallback channels go too; null means an accepted push is enough.
   */
  receiptDeadline: string | null;
}

export type EscalationPolicy = Record<EscalationClass, EscalationRule>;

export const DEFAULT_ESCALATION_POLICY: EscalationPolicy = {
  critical: { fallback: ['email', 'sms'], receiptDeadline: '5 minutes' },
  routine: { fallback: ['email'], receiptDeadline: null },
  marketing: { fallback: ['email'], receiptDeadline: null },
};

/** Why the fallback channels were used. */
export type EscalationReason =
  /** The customer has no active device, or does not accept push. */
  | 'push_unavailable'
  /** Every device's push failed after its retries. */
  | 'push_failed'
  /** A push went out but no receipt came back in time. */
  | 'no_receipt'
  /** The app or provider reported the push undelivered. */
  | 'push_undelivered';

export function escalationClassOf(kind: NotificationKind): EscalationClass {
  return kind.category === 'marketing' ? 'marketing' : kind.priority;
}

/** The rule for a notification. Marketing never goes by SMS, whatever the configuration says. */
export function escalationRuleFor(policy: EscalationPolicy, kind: NotificationKind): EscalationRule {
  const cls = escalationClassOf(kind);
  const rule = policy[cls];
  return cls === 'marketing' ? { ...rule, fallback: rule.fallback.filter((c) => c !== 'sms') } : rule;
}
