// Every push leaves with its notification's receipt token (lib/receipt-tokens.ts), whichever activity sends it (one
// device, a customer's Android batch, a campaign or alert batch, a dead-letter replay): the providers are wrapped once,
// so no send path can forget it. The token is added to the message as it reaches the provider, which writes it into
// its payload beside the notification id; it is never part of what the activities record (attempts, dead letters).
import type { PushMessage } from '../../domain';
import { receiptToken } from '../../lib/receipt-tokens';
import type { SigningKey } from '../../lib/signing-keys';
import type { PushProvider, PushProviders } from './push-provider';

function withToken(provider: PushProvider, keys: readonly SigningKey[]): PushProvider {
  const stamp = (message: PushMessage): PushMessage => ({ ...message, receiptToken: receiptToken(keys, message.notificationId) });
  const { sendBatch, sendEach } = provider;
  return {
    name: provider.name,
    mode: provider.mode,
    send: (target, message, deliveryKey) => provider.send(target, stamp(message), deliveryKey),
    // The optional ones stay optional: the activities choose their path by whether a provider has them.
    ...(sendBatch ? { sendBatch: (targets, message, deliveryKeys) => sendBatch.call(provider, targets, stamp(message), deliveryKeys) } : {}),
    ...(sendEach ? { sendEach: (items) => sendEach.call(provider, items.map((item) => ({ ...item, message: stamp(item.message) }))) } : {}),
    close: () => provider.close(),
  } satisfies PushProvider;
}

/**
 * The providers, each adding the receipt token to every message it sends. Without keys (HERALD_RECEIPT_SECRET unset) they
 * are returned as they are: pushes go without a token, and the API refuses every app receipt.
 */
export function withReceiptTokens(providers: PushProviders, keys: readonly SigningKey[]): PushProviders {
  if (keys.length === 0) return providers;
  return { ios: withToken(providers.ios, keys), android: withToken(providers.android, keys), web: withToken(providers.web, keys) };
}
