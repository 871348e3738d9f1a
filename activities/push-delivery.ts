import { ApplicationFailure, Context } from '@temporalio/activity';
import type { PushMessage, PushOutcome, PushTarget } from '../domain';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { ProviderError, type PushProviders } from './providers/push-provider';

export interface SendPushInput {
  notificationId: string;
  target: PushTarget;
  message: PushMessage;
}

/** Error types the workflow's retry policy must not retry. */
export const NON_RETRYABLE_PUSH_ERRORS = ['InvalidDeviceToken', 'PermanentProviderError'];

export function createPushDeliveryActivities(db: Db, providers: PushProviders, logger: Logger) {
  return {
    /**
     * One delivery attempt of a push to one device, recorded before and after the provider call.
     * The attempt id is stable per activity attempt, so a retry after a crash records a new attempt
     * rather than a second copy of the same one, and the provider sees the same idempotency key.
     */
    async sendPush(input: SendPushInput): Promise<PushOutcome> {
      const { target, message } = input;
      const info = Context.current().info;
      const provider = providers[target.platform];
      const deliveryKey = `${input.notificationId}:${target.deviceId}`;
      const attemptId = `${deliveryKey}:${info.attempt}`;
      const log = logger.child({ attemptId, orderId: message.orderId, workflowId: info.workflowExecution?.workflowId });

      if (info.attempt > 1) {
        // An earlier attempt still 'sending' died with its worker; say so rather than leave it open.
        await db.deliveryAttempt.updateMany({
          where: { notificationId: input.notificationId, deviceId: target.deviceId, status: 'sending', attemptNumber: { lt: info.attempt } },
          data: { status: 'failed', errorCode: 'abandoned', errorMessage: 'the worker stopped before the provider answered', retryable: true, finishedAt: new Date() },
        });
      }
      await db.deliveryAttempt.upsert({
        where: { id: attemptId },
        create: {
          id: attemptId,
          notificationId: input.notificationId,
          deviceId: target.deviceId,
          channel: 'push',
          provider: provider.name,
          status: 'sending',
          attemptNumber: info.attempt,
        },
        update: {},
      });

      try {
        const receipt = await provider.send(target, message, deliveryKey);
        await db.deliveryAttempt.update({
          where: { id: attemptId },
          data: { status: 'sent', providerMessageId: receipt.providerMessageId, finishedAt: new Date() },
        });
        log.info({ provider: receipt.provider, providerMessageId: receipt.providerMessageId }, 'push sent');
        return { deviceId: target.deviceId, status: 'sent', provider: receipt.provider, providerMessageId: receipt.providerMessageId };
      } catch (err) {
        const failure = err instanceof ProviderError ? err : new ProviderError(provider.name, 'transient', 'error', String(err));
        await db.deliveryAttempt.update({
          where: { id: attemptId },
          data: {
            status: 'failed',
            errorCode: failure.code,
            errorMessage: failure.message.slice(0, 1000),
            retryable: failure.kind === 'transient',
            finishedAt: new Date(),
          },
        });
        log.warn({ provider: provider.name, kind: failure.kind, code: failure.code, err: failure.message }, 'push failed');
        if (failure.kind === 'invalid_token') {
          // A dead token never comes back: stop using it at once, whatever the retry policy says.
          await db.device.updateMany({
            where: { id: target.deviceId, active: true },
            data: { active: false, invalidatedAt: new Date(), invalidatedReason: `${provider.name}: ${failure.code}` },
          });
          throw ApplicationFailure.create({
            message: `device token rejected by ${provider.name}: ${failure.code}`,
            type: 'InvalidDeviceToken',
            nonRetryable: true,
          });
        }
        if (failure.kind === 'permanent') {
          throw ApplicationFailure.create({
            message: `${provider.name} rejected the push: ${failure.code} ${failure.message}`,
            type: 'PermanentProviderError',
            nonRetryable: true,
          });
        }
        throw ApplicationFailure.create({
          message: `${provider.name} unavailable: ${failure.code} ${failure.message}`,
          type: 'TransientProviderError',
          nextRetryDelay: failure.retryAfterMs,
        });
      }
    },
  };
}
