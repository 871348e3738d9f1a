import type { PushTarget, SuppressionReason } from './delivery';

export interface Recipient {
  customer: {
    id: string;
    name: string | null;
    locale: string;
    timeZone: string;
    quietHours: { start: string; end: string } | null;
  } | null;
  devices: PushTarget[];
  /** Whether the customer's preferences and consent let this notification go by push. */
  pushAllowed: boolean;
  /** Why not, when push is not allowed. */
  pushRefusal?: 'preference' | 'no_consent';
  /** Push goes although the customer opted out: a critical update with no other permitted channel. */
  pushOverride?: boolean;
}

/** Why a push to this recipient must not be sent, or null when it may be. */
export function pushSuppression(recipient: Recipient): SuppressionReason | null {
  if (!recipient.customer) return 'unknown_customer';
  if (!recipient.pushAllowed) return recipient.pushRefusal ?? 'preference';
  if (recipient.devices.length === 0) return 'no_device';
  return null;
}
