import type { HeraldConfig } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { createApnsProvider } from './apns';
import { createFcmProvider } from './fcm';
import type { PushProviders } from './push-provider';
import type { EmailMessage, MessageProviders, SmsMessage } from './message-provider';
import { createSandboxMessageProvider, createSandboxPushProvider } from './sandbox';
import { createSmtpProvider } from './smtp';
import { createTwilioProvider } from './twilio';
import { createWebPushProvider } from './web-push';

/** Live providers where credentials are configured, clearly labelled sandbox ones elsewhere. */
export function createPushProviders(config: Pick<HeraldConfig, 'apns' | 'fcm' | 'webPush'>, logger: Logger): PushProviders {
  return {
    ios: config.apns ? createApnsProvider(config.apns, logger) : createSandboxPushProvider('apns', logger),
    android: config.fcm ? createFcmProvider(config.fcm, logger) : createSandboxPushProvider('fcm', logger),
    web: config.webPush ? createWebPushProvider(config.webPush, logger) : createSandboxPushProvider('webpush', logger),
  };
}

/** Email over SMTP and SMS through Twilio where configured, sandbox providers elsewhere. */
export function createMessageProviders(config: Pick<HeraldConfig, 'smtp' | 'twilio'>, logger: Logger): MessageProviders {
  return {
    email: config.smtp ? createSmtpProvider(config.smtp, logger) : createSandboxMessageProvider<EmailMessage>('email', logger),
    sms: config.twilio ? createTwilioProvider(config.twilio, logger) : createSandboxMessageProvider<SmsMessage>('sms', logger),
  };
}

export function describeProviderModes(push: PushProviders, messages?: MessageProviders): string[] {
  return [
    ...Object.entries(push).map(([platform, p]) => `${platform} push: ${p.name} (${p.mode})`),
    ...Object.entries(messages ?? {}).map(([channel, p]) => `${channel}: ${p.name} (${p.mode})`),
  ];
}

export async function closePushProviders(providers: PushProviders): Promise<void> {
  await Promise.all(Object.values(providers).map((p) => p.close()));
}

export async function closeMessageProviders(providers: MessageProviders): Promise<void> {
  await Promise.all(Object.values(providers).map((p) => p.close()));
}
