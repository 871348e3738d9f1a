import type { HeraldConfig } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { createApnsProvider } from './apns';
import { createFcmProvider } from './fcm';
import type { PushProviders } from './push-provider';
import { createSandboxPushProvider } from './sandbox';
import { createWebPushProvider } from './web-push';

/** Live providers where credentials are configured, clearly labelled sandbox ones elsewhere. */
export function createPushProviders(config: Pick<HeraldConfig, 'apns' | 'fcm' | 'webPush'>, logger: Logger): PushProviders {
  return {
    ios: config.apns ? createApnsProvider(config.apns, logger) : createSandboxPushProvider('apns', logger),
    android: config.fcm ? createFcmProvider(config.fcm, logger) : createSandboxPushProvider('fcm', logger),
    web: config.webPush ? createWebPushProvider(config.webPush, logger) : createSandboxPushProvider('webpush', logger),
  };
}

export function describeProviderModes(providers: PushProviders): string[] {
  return Object.entries(providers).map(([platform, p]) => `${platform} push: ${p.name} (${p.mode})`);
}

export async function closePushProviders(providers: PushProviders): Promise<void> {
  await Promise.all(Object.values(providers).map((p) => p.close()));
}
