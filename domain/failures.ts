// Why a delivery failed, named once: activities throw ApplicationFailures of these types and record them
// on outcomes; the workflow reads the type field, never the message text.
import type { DeliveryChannel } from './delivery';

export const FAILURE_TYPES = {
  /** The device token is dead (APNs 410/BadDeviceToken, FCM UNREGISTERED, push service 404/410): the device is retired. */
  invalidToken: 'InvalidDeviceToken',
  /** The provider refuses the email address or phone number: the customer's data to fix. */
  invalidRecipient: 'InvalidRecipient',
  /** The provider refused the message for good (bad payload, policy): retrying cannot help. */
  permanent: 'PermanentProviderError',
  /** The provider could not take it now (429, 5xx, timeout): Temporal retries it. */
  transient: 'TransientProviderError',
  /** No published template for the key, channel and locale chain. */
  templateMissing: 'TemplateMissing',
} as const;

export type FailureType = (typeof FAILURE_TYPES)[keyof typeof FAILURE_TYPES];

const KNOWN: ReadonlySet<string> = new Set(Object.values(FAILURE_TYPES));

export function isFailureType(value: unknown): value is FailureType {
  return typeof value === 'string' && KNOWN.has(value);
}

/** Failures retrying cannot fix, per channel. */
export const NON_RETRYABLE_FAILURES: Readonly<Record<DeliveryChannel, readonly FailureType[]>> = {
  push: [FAILURE_TYPES.invalidToken, FAILURE_TYPES.permanent],
  email: [FAILURE_TYPES.invalidRecipient, FAILURE_TYPES.permanent],
  sms: [FAILURE_TYPES.invalidRecipient, FAILURE_TYPES.permanent],
};

/**
 * Whether a failure is kept as a dead letter for replay: a dead token or refused address is handled
 * (the device retired, the address the customer's to fix); anything else that failed for good is kept.
 */
export function keepsDeadLetter(type: FailureType | undefined): boolean {
  return type !== FAILURE_TYPES.invalidToken && type !== FAILURE_TYPES.invalidRecipient;
}
