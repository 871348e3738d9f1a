// How a provider's classified error becomes the activity failure Temporal's retry policy acts on.
import { ApplicationFailure } from '@temporalio/activity';
import { ProviderError } from './providers/push-provider';

/** Any error from a provider call, as a ProviderError (an unexpected one counts as transient). */
export function asProviderError(err: unknown, provider: string): ProviderError {
  return err instanceof ProviderError ? err : new ProviderError(provider, 'transient', 'error', String(err));
}

/**
 * The failure to throw: a dead target (a device token, or an email address or number the provider
 * refuses) and other permanent errors are not retried; transient ones are, after the provider's
 * Retry-After when it gave one.
 */
export function activityFailureFor(failure: ProviderError, what: { channel: string; deadTargetType: 'InvalidDeviceToken' | 'InvalidRecipient'; deadTargetMessage: string }): ApplicationFailure {
  switch (failure.kind) {
    case 'invalid_token':
      return ApplicationFailure.create({ message: what.deadTargetMessage, type: what.deadTargetType, nonRetryable: true });
    case 'permanent':
      return ApplicationFailure.create({
        message: `${failure.provider} rejected the ${what.channel}: ${failure.code} ${failure.message}`,
        type: 'PermanentProviderError',
        nonRetryable: true,
      });
    default:
      return ApplicationFailure.create({
        message: `${failure.provider} unavailable: ${failure.code} ${failure.message}`,
        type: 'TransientProviderError',
        nextRetryDelay: failure.retryAfterMs,
      });
  }
}
