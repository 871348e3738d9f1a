import type { Platform, PushMessage, PushTarget } from '../../domain';
import { reasonCode, shortReason } from '../../lib/short-reason';

export type ProviderMode = 'live' | 'sandbox';

/** What a provider accepted: its own message id (apns-id, FCM message name...). */
export interface ProviderReceipt {
  provider: string;
  providerMessageId: string | null;
}

/**
 * How a provider failure should be handled:
 * - `invalid_token`: the device token is dead (APNs 410/BadDeviceToken, FCM UNREGISTERED); deactivate, never retry.
 * - `permanent`: the request itself is wrong (payload rejected, bad topic); never retry.
 * - `transient`: timeouts, 429, 5xx; retry with backoff, honouring `retryAfterMs` when the provider sent one.
 */
export type ProviderErrorKind = 'invalid_token' | 'permanent' | 'transient';

/**
 * A provider's refusal. Its code and message are what attempt records, dead letters, device retirements and
 * workflow history keep, so both are cut to a short reason here, once, whatever the provider answered.
 */
export class ProviderError extends Error {
  /** The provider's own reason or status, e.g. `BadDeviceToken`, `UNREGISTERED`, `429`: a token of at most 64 characters. */
  readonly code: string;

  constructor(
    readonly provider: string,
    readonly kind: ProviderErrorKind,
    code: string,
    /** Our words, with at most a provider's documented reason in them: kept as a short reason (lib/short-reason.ts). */
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(shortReason(message));
    this.name = 'ProviderError';
    this.code = reasonCode(code);
  }
}

/** One device's result in a batch: what the provider accepted, or why it refused (never thrown). */
export type PushBatchResult = { ok: true; receipt: ProviderReceipt } | { ok: false; error: ProviderError };

export interface PushProvider {
  /** Stable name recorded on every attempt, e.g. `apns`, `fcm`, `sandbox-apns`. */
  readonly name: string;
  readonly mode: ProviderMode;
  /**
   * Sends one push. `deliveryKey` names this message to this device and is the same on every retry,
   * so providers' idempotency keys (the apns-id) stay stable across attempts. Throws ProviderError.
   */
  send(target: PushTarget, message: PushMessage, deliveryKey: string): Promise<ProviderReceipt>;
  /**
   * Optional: sends the same message to many devices of this provider in as few calls as it can, with
   * `deliveryKeys[i]` for `targets[i]`. Resolves with one result per target, in order; a refused device is a
   * result, not a rejection.
   */
  sendBatch?(targets: PushTarget[], message: PushMessage, deliveryKeys: string[]): Promise<PushBatchResult[]>;
  /**
   * Optional: sends each device its own message (FCM sendEach), in as few calls as it can. Resolves with one result
   * per item, in order; a refused device is a result, not a rejection.
   */
  sendEach?(items: Array<{ target: PushTarget; message: PushMessage; deliveryKey: string }>): Promise<PushBatchResult[]>;
  close(): Promise<void>;
}

export type PushProviders = Record<Platform, PushProvider>;
