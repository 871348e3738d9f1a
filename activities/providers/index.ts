import type { HeraldConfig } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { createApnsProvider } from './apns';
import { createFcmProvider } from './fcm';
import type { PushProviders } from './push-provider';
import { createSandboxPushProvider } from './sandbox';

/** Live providers where credentials are configured, clearly labelled sandbox ones elsewhere. */
export function createPushProviders(config: Pick<HeraldConfig, 'apns' | 'fcm'>, logger: Logger): PushProviders {
  return {
    ios: config.apns ? createApnsProvider(config.apns, logger) : createSandboxPushProvider('apns', logger),
    android: config.fcm ? createFcmProvider(config.fcm, logger) : createSandboxPushProvider('fcm', logger),
    // Web Push (VAPID) arrives with the delivery issue; until then browsers get the sandbox.
    web: createSandboxPushProvider('webpush', logger),
  };
}

export function describeProviderModes(providers: PushProviders): string[] {
  return Object.entries(providers).map(([platform, p]) => `${platform} push: ${p.name} (${p.mode})`);
}

export async function closePushProviders(providers: PushProviders): Promise<void> {
  await Promise.all(Object.values(providers).map((p) => p.close()));
}
