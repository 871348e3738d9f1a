// What each reason code means, in words an operator reads: the history API puts these labels next to
// the codes, the dashboard shows them, the statistics name their rows with them. One place, so the
// words never drift between the three.
import type { BackupReason } from './channel-plans';
import type { SuppressionReason } from './delivery';
import type { HoldReason } from './delivery-plan';
import { FAILURE_TYPES, type FailureType } from './failures';

export const SUPPRESSION_LABELS: Readonly<Record<SuppressionReason, string>> = {
  out_of_order: 'Not sent: a later status of this order had already been notified',
  unknown_customer: 'Not sent: the customer is not known to Herald',
  preference: "Not sent: the customer's preferences turn this channel off for this kind of update",
  no_device: 'Not sent: the customer has no registered device for push',
  no_address: 'Not sent: no email address or phone number on file for this channel',
  invalid_address: 'Not sent: the address on file is not a usable email address or E.164 phone number',
  quiet_hours: "Not sent: it fell in the customer's quiet hours and may not wait for them to end",
  no_consent: 'Not sent: marketing needs the customer’s recorded consent on this channel',
  frequency_cap: 'Not sent: the customer reached a frequency cap',
  superseded: 'Not sent: a newer status of the order went instead while this one waited',
  digest: "Merged into a digest with the order's other updates of the window",
  cart_updated: 'Not sent: the cart changed while this reminder waited, so its reminders started over',
  cart_closed: 'Not sent: the cart was checked out, emptied or ordered while this reminder waited',
  campaign_cancelled: 'Not sent: the campaign was cancelled before this customer was due',
};

export const HOLD_LABELS: Readonly<Record<HoldReason, string>> = {
  quiet_hours: "Held until the customer's quiet hours end",
  digest: "Held to go out as one digest with the order's other updates",
};

export const BACKUP_LABELS: Readonly<Record<BackupReason, string>> = {
  nothing_sent: 'Sent as a backup: nothing could go on the channels before it',
  all_failed: 'Sent as a backup: everything sent before it failed',
  no_receipt: 'Sent as a backup: no delivery receipt came in time for what went before it',
  undelivered: 'Sent as a backup: what went before it was reported not delivered',
};

export const FAILURE_LABELS: Readonly<Record<FailureType, string>> = {
  [FAILURE_TYPES.invalidToken]: 'The device token is no longer valid (the app was removed or the token expired)',
  [FAILURE_TYPES.invalidRecipient]: 'The provider refused the email address or phone number',
  [FAILURE_TYPES.permanent]: 'The provider refused the message for good',
  [FAILURE_TYPES.transient]: 'The provider could not take it now (rate limit, outage or timeout)',
  [FAILURE_TYPES.templateMissing]: 'No published template for this notification, channel and locale',
};

/** The label of any code Herald records as a reason; an unknown code (free provider text) is shown as it is. */
export function reasonLabel(code: string | null | undefined): string | null {
  if (!code) return null;
  const labels: Record<string, string> = { ...SUPPRESSION_LABELS, ...BACKUP_LABELS, ...FAILURE_LABELS };
  return labels[code] ?? (code in HOLD_LABELS ? HOLD_LABELS[code as HoldReason] : code);
}

/** What an operator needs to tell a notification's story in one sentence. */
export interface ExplainedNotification {
  status: string;
  channel: string;
  suppressionReason: string | null;
  failureReason: string | null;
  holdReason: string | null;
  heldUntil: Date | string | null;
  replacedBy: string | null;
  escalationReason: string | null;
}

const STATUS_WORDS: Readonly<Record<string, string>> = {
  queued: 'waiting to be handed to the provider',
  sent: 'accepted by the provider (no delivery receipt yet)',
  delivered: 'delivered (a receipt confirmed it)',
  opened: 'opened by the customer',
  clicked: 'clicked by the customer',
};

const iso = (at: Date | string) => (typeof at === 'string' ? at : at.toISOString());

/** One sentence: why it went (a backup), what held it, where it ended and why. */
export function explainNotification(n: ExplainedNotification): string {
  const parts: string[] = [];
  if (n.escalationReason) parts.push(`${reasonLabel(n.escalationReason)}.`);
  if (n.holdReason && n.heldUntil) {
    const held = HOLD_LABELS[n.holdReason as HoldReason] ?? `Held (${n.holdReason})`;
    parts.push(`${held} (until ${iso(n.heldUntil)}).`);
  }
  if (n.status === 'suppressed') {
    const why = reasonLabel(n.suppressionReason) ?? 'Not sent';
    parts.push(n.replacedBy ? `${why}: ${n.replacedBy}.` : `${why}.`);
  } else if (n.status === 'failed') {
    parts.push(`Failed: ${reasonLabel(n.failureReason) ?? 'no provider took it'}.`);
  } else {
    const words = STATUS_WORDS[n.status] ?? n.status;
    parts.push(n.channel === 'inapp' ? 'Written to the customer’s inbox.' : `Now ${words}.`);
  }
  return parts.join(' ');
}
