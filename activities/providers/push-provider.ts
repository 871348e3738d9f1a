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

export interface PushProvider {
  /** Stable name recorded on every attempt, e.g. `apns`, `fcm`, `sandbox-apns`. */
  readonly name: string;
  readonly mode: ProviderMode;
  /**
   * Sends one push. `deliveryKey` names this message to this device and is the same on every retry,
   * so providers' idempotency keys (the apns-id) stay stable across attempts. Throws ProviderError.
   */
  send(target: PushTarget, message: PushMessage, deliveryKey: string): Promise<ProviderReceipt>;
  close(): Promise<void>;
}

export type PushProviders = Record<Platform, PushProvider>;
