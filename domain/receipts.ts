// What can become of a notification after the provider took it, and how the order's workflow hears of it. The
// workflow (workflows/definitions.ts), the receipt recorder (store/receipts.ts) and the API share these words.

/** What became of a notification after the provider took it. */
export const RECEIPT_TYPES = ['delivered', 'opened', 'clicked', 'bounced', 'complained', 'failed'] as const;
export type ReceiptType = (typeof RECEIPT_TYPES)[number];

/** Receipts that prove the customer got the message: they cancel a pending escalation. */
export const CONFIRMING_RECEIPTS: ReadonlySet<ReceiptType> = new Set<ReceiptType>(['delivered', 'opened', 'clicked']);

/**
 * A receipt for one of the order's notifications, signalled once it is recorded (app receipts, email tracking and
 * bounce webhooks, Twilio status callbacks, the worker's sandbox providers).
 */
export interface NotificationReceiptSignal {
  notificationId: string;
  type: ReceiptType;
  occurredAt: string;
  source: string;
}

/** The name of the order workflow's signal that carries a NotificationReceiptSignal. */
export const NOTIFICATION_RECEIPT_SIGNAL = 'notificationReceipt';
