import type { HeraldConfig } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { createApnsProvider } from './apns';
import { createFcmProvider } from './fcm';
import type { PushProviders } from './push-provider';
import { withReceiptTokens } from './receipt-tokens';
import type { EmailMessage, MessageProviders, SmsMessage } from './message-provider';
import { createSandboxMessageProvider, createSandboxPushProvider, type SandboxReceipts } from './sandbox';
import { createSmtpProvider } from './smtp';
import { createTwilioProvider } from './twilio';
import { createWebPushProvider } from './web-push';

/**
 * Live providers where credentials are configured, clearly labelled sandbox ones elsewhere; those report receipts
 * through `sandboxReceipts` (HERALD_SANDBOX_RECEIPTS), none without it. Every one sends each push with its receipt
 * token (HERALD_RECEIPT_SECRET), the sandbox ones included: they report receipts as the app would, with that token.
 */
export function createPushProviders(config: Pick<HeraldConfig, 'apns' | 'fcm' | 'webPush' | 'receiptKeys'>, logger: Logger, sandboxReceipts?: SandboxReceipts): PushProviders {
  return withReceiptTokens(
    {
      ios: config.apns ? createApnsProvider(config.apns, logger) : createSandboxPushProvider('apns', logger, sandboxReceipts),
      android: config.fcm ? createFcmProvider(config.fcm, logger) : createSandboxPushProvider('fcm', logger, sandboxReceipts),
      web: config.webPush ? createWebPushProvider(config.webPush, logger) : createSandboxPushProvider('webpush', logger, sandboxReceipts),
    },
    config.receiptKeys,
  );
}

/** Email over SMTP and SMS through Twilio where configured, sandbox providers (with `sandboxReceipts`) elsewhere. */
export function createMessageProviders(config: Pick<HeraldConfig, 'smtp' | 'twilio'>, logger: Logger, sandboxReceipts?: SandboxReceipts): MessageProviders {
  return {
    email: config.smtp ? createSmtpProvider(config.smtp, logger) : createSandboxMessageProvider<EmailMessage>('email', logger, sandboxReceipts),
    sms: config.twilio ? createTwilioProvider(config.twilio, logger) : createSandboxMessageProvider<SmsMessage>('sms', logger, sandboxReceipts),
  };
}

/** Whether any channel runs on a sandbox provider (which then needs somewhere to report its receipts). */
export function usesSandbox(config: Pick<HeraldConfig, 'apns' | 'fcm' | 'webPush' | 'smtp' | 'twilio'>): boolean {
  return !config.apns || !config.fcm || !config.webPush || !config.smtp || !config.twilio;
}

export function describeProviderModes(push: PushProviders, messages?: MessageProviders, sandboxReceipts?: SandboxReceipts): string[] {
  const sandbox = (p: { mode: string }) => (p.mode === 'sandbox' && sandboxReceipts ? `, receipts: ${sandboxReceipts.mode}` : '');
  return [
    ...Object.entries(push).map(([platform, p]) => `${platform} push: ${p.name} (${p.mode}${sandbox(p)})`),
    ...Object.entries(messages ?? {}).map(([channel, p]) => `${channel}: ${p.name} (${p.mode}${sandbox(p)})`),
  ];
}

export async function closePushProviders(providers: PushProviders): Promise<void> {
  await Promise.all(Object.values(providers).map((p) => p.close()));
}

export async function closeMessageProviders(providers: MessageProviders): Promise<void> {
  await Promise.all(Object.values(providers).map((p) => p.close()));
}
