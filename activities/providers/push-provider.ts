import type { Platform, PushMessage, PushTarget } from '../../domain';

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

export class ProviderError extends Error {
  constructor(
    readonly provider: string,
    readonly kind: ProviderErrorKind,
    /** The provider's own reason or status, e.g. `BadDeviceToken`, `UNREGISTERED`, `429`. */
    readonly code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ProviderError';
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
