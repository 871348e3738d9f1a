import type { FailureType } from './failures';
import type { Priority } from './order-status';

export const CHANNELS = ['push', 'email', 'sms', 'inapp'] as const;
export type Channel = (typeof CHANNELS)[number];

export const PLATFORMS = ['ios', 'android', 'web'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const CATEGORIES = ['transactional', 'marketing'] as const;

/** Lifecycle of one notification (one message for one order event on one channel). */
export type NotificationStatus = 'queued' | 'sent' | 'delivered' | 'opened' | 'clicked' | 'failed' | 'suppressed';

/** Lifecycle of one attempt to hand a notification to a provider for one device or address. */
export type AttemptStatus = 'sending' | 'sent' | 'failed';

export type SuppressionReason =
  | 'out_of_order'
  | 'unknown_customer'
  | 'preference'
  | 'no_device'
  /** No email address or phone number on file for the channel. */
  | 'no_address'
  /** The address on file cannot be used (not an email address, not an E.164 number). */
  | 'invalid_address'
  | 'quiet_hours'
  /** Marketing without the customer's recorded consent on the channel. */
  | 'no_consent'
  | 'frequency_cap'
  /** A newer status went instead (quiet hours kept this one waiting). */
  | 'superseded'
  /** Merged into a digest with the order's other updates of the window. */
  | 'digest'
  /** A cart reminder that waited (quiet hours) when the cart changed again: its sequence started over. */
  | 'cart_updated'
  /** A cart reminder that waited when the cart was checked out, emptied or ordered. */
  | 'cart_closed'
  /** A campaign's recipient still waiting (their schedule, their quiet hours) when the campaign was cancelled. */
  | 'campaign_cancelled';

/** A device the workflow may push to, as loaded by the recipient-context activity. */
export interface PushTarget {
  /** Herald's own id of the device row (Device.id): delivery attempts and dead letters refer to it. */
  deviceId: string;
  /** The id the app registered the device with (Device.deviceId), as operators know it; absent in older state. */
  appDeviceId?: string;
  platform: Platform;
  /** APNs device token, FCM registration token, or the Web Push subscription endpoint. */
  token: string;
  app: string | null;
  /** Web Push subscription keys (web devices only). */
  keys?: { p256dh: string; auth: string } | null;
  /** The device's own IANA time zone, when it reports one: its quiet hours are counted in it. */
  timeZone?: string | null;
  /** The device's own locale, when it reports one: its push is rendered in it. */
  locale?: string | null;
}

export interface RenderedPush {
  title: string;
  body: string;
  templateId: string;
  templateKey: string;
  templateVersion: number;
  locale: string;
}

export interface PushMessage {
  notificationId: string;
  /** Empty for a message about no order (a cart reminder). */
  orderId: string;
  title: string;
  body: string;
  priority: Priority;
  /** Later messages for the same order replace earlier ones on the device. */
  collapseKey: string;
  data: Record<string, string>;
  /** The template's image, deep link and buttons, rendered (lib/push-content.ts); absent or null for a plain push. */
  rich?: PushRichContent | null;
  /**
   * The notification's receipt token (lib/receipt-tokens.ts), which the app echoes with its receipts. Added as the message
   * reaches its provider (activities/providers/receipt-tokens.ts), never stored with it.
   */
  receiptToken?: string;
}

/**
 * What a push template adds to the title and body, rendered and checked: each provider maps it onto its own
 * payload (README, "Rich push").
 */
export interface PushRichContent {
  /** An http(s) image URL. */
  imageUrl?: string;
  /** Where a tap leads: an http(s) URL or an app link (myshop://orders/1). */
  deepLink?: string;
  /** Up to PUSH_ACTION_LIMIT buttons; `id` is the action identifier the app declared. */
  actions?: Array<{ id: string; title: string; deepLink?: string }>;
  /** The APNs category (Android: the click_action intent action) the app declared the buttons under. */
  category?: string;
}

/** Outcome of one push to one device, as the workflow sees it. */
export interface PushOutcome {
  deviceId: string;
  status: 'sent' | 'failed';
  provider: string;
  providerMessageId?: string | null;
  error?: string;
  /** Why it failed, as a named type (domain/failures.ts); the workflow decides on it, never on `error`. */
  failure?: FailureType;
}

/** Channels Herald delivers through a provider (the inbox is written directly). */
export type DeliveryChannel = 'push' | 'email' | 'sms';

/** Temporal retry policy of one delivery on one channel; durations as Temporal reads them ('5 seconds', '1m'). */
export interface ChannelRetry {
  initialInterval: string;
  maximumInterval: string;
  maximumAttempts: number;
}

export const DEFAULT_CHANNEL_RETRY: Record<DeliveryChannel, ChannelRetry> = {
  push: { initialInterval: '1 second', maximumInterval: '1 minute', maximumAttempts: 8 },
  email: { initialInterval: '5 seconds', maximumInterval: '5 minutes', maximumAttempts: 10 },
  sms: { initialInterval: '5 seconds', maximumInterval: '2 minutes', maximumAttempts: 6 },
};

/** An email address or phone number a notification goes to. */
export interface AddressTarget {
  channel: 'email' | 'sms';
  address: string;
}

/** A phone number as SMS providers take it: E.164, `+` and up to 15 digits. */
export const E164_NUMBER = /^\+[1-9]\d{6,14}$/;
