import { randomUUID } from 'node:crypto';
import type { Logger } from '../../lib/logger';
import type { MessageProvider } from './message-provider';
import type { PushProvider } from './push-provider';

/**
 * The provider used when a channel has no credentials: it accepts every push, logs it and
 * records it under a `sandbox-*` name so nobody mistakes it for a real delivery.
 */
export function createSandboxPushProvider(platformProvider: string, logger: Logger): PushProvider {
  const name = `sandbox-${platformProvider}`;
  return {
    name,
    mode: 'sandbox',
    async send(target, message, deliveryKey) {
      const providerMessageId = `sandbox-${randomUUID()}`;
      logger.info(
        { provider: name, deliveryKey, deviceId: target.deviceId, orderId: message.orderId, title: message.title },
        'sandbox push accepted (no credentials configured; nothing left this machine)',
      );
      return { provider: name, providerMessageId };
    },
    async close() {},
  };
}

/** The email or SMS provider used when its channel has no configuration: accepts, logs, sends nothing. */
export function createSandboxMessageProvider<M extends { to: string }>(channelProvider: string, logger: Logger): MessageProvider<M> {
  const name = `sandbox-${channelProvider}`;
  return {
    name,
    mode: 'sandbox',
    async send(message, deliveryKey) {
      const providerMessageId = `sandbox-${randomUUID()}`;
      logger.info({ provider: name, deliveryKey, to: message.to }, 'sandbox message accepted (no provider configured; nothing left this machine)');
      return { provider: name, providerMessageId };
    },
    async close() {},
  };
}
