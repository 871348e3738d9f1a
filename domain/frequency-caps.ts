// Frequency caps: at most `limit` notifications of a category on a channel per customer in a fixed
// window. Critical events are never capped; categories without a rule are not capped.
import type { DeliveryChannel } from './delivery';
import type { NotificationKind } from './order-status';

export interface FrequencyCapRule {
  channel: DeliveryChannel;
  /** A class (`transactional`, `marketing`) or a finer category (`promotions`, `order-updates`...). */
  category: string;
  limit: number;
  /** Fixed windows of this length, aligned to the epoch ('1 hour' runs 10:00–11:00, 11:00–12:00...). */
  window: string;
}

/** Transactional messages are exempt unless a rule names them. */
export const DEFAULT_FREQUENCY_CAPS: FrequencyCapRule[] = [
  { channel: 'push', category: 'marketing', limit: 5, window: '1 hour' },
  { channel: 'email', category: 'marketing', limit: 3, window: '1 day' },
];

/** The rules that apply to a notification of this kind on this channel. */
export function capRulesFor(rules: FrequencyCapRule[], channel: DeliveryChannel, kind: NotificationKind): FrequencyCapRule[] {
  if (kind.priority === 'critical') return [];
  return rules.filter((r) => r.channel === channel && (r.category === kind.category || (kind.topic !== undefined && r.category === kind.topic)));
}

export function describeCapRule(rule: FrequencyCapRule): string {
  return `${rule.channel}/${rule.category}: ${rule.limit} per ${rule.window}`;
}
