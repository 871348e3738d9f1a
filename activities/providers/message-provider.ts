import type { ProviderMode, ProviderReceipt } from './push-provider';

/** One email to one address. HTML and plain-text parts; headers for list mail. */
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Non-transactional mail carries List-Unsubscribe and List-Unsubscribe-Post (RFC 8058). */
  unsubscribeUrl?: string;
  /** Correlation headers and tags, e.g. notificationId and orderId. */
  metadata: Record<string, string>;
}

/** One SMS to one E.164 number. */
export interface SmsMessage {
  to: string;
  body: string;
  /** Where the provider posts delivery status callbacks (Twilio StatusCallback). */
  statusCallbackUrl?: string;
  metadata: Record<string, string>;
}

/**
 * A provider for a channel other than push. `deliveryKey` names this message to this recipient and
 * is the same on every retry: providers derive their idempotency key from it where they can
 * (the email Message-ID, for instance). Failures are thrown as ProviderError.
 */
export interface MessageProvider<M> {
  readonly name: string;
  readonly mode: ProviderMode;
  send(message: M, deliveryKey: string): Promise<ProviderReceipt>;
  close(): Promise<void>;
}

export type EmailProvider = MessageProvider<EmailMessage>;
export type SmsProvider = MessageProvider<SmsMessage>;

export interface MessageProviders {
  email: EmailProvider;
  sms: SmsProvider;
}
