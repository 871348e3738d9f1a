import { Context } from '@temporalio/activity';
import type { PushMessage, PushOutcome, PushTarget } from '../domain';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import { activityFailureFor, asProviderError } from './provider-failure';
import { sendSlot, throwIfCancelled, type SendRate } from './send-rate';
import type { PushProviders } from './providers/push-provider';
import { abandonEarlierAttempts, closeAttemptFailed, closeAttemptSent, finishNotification, openAttempt } from '../store/notifications';

export interface SendPushInput {
  notificationId: string;
  target: PushTarget;
  message: PushMessage;
  /** Set when an operator replays a dead letter: its attempts get their own ids. */
  replay?: number;
}

/** Error types the workflow's retry policy must not retry. */
export const NON_RETRYABLE_PUSH_ERRORS = ['InvalidDeviceToken', 'PermanentProviderError'];

export function createPushDeliveryActivities(db: Db, providers: PushProviders, logger: Logger, sendRate?: SendRate) {
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
      const attemptId = input.replay ? `${deliveryKey}:replay${input.replay}:${info.attempt}` : `${deliveryKey}:${info.attempt}`;
      const log = logger.child({ attemptId, orderId: message.orderId, workflowId: info.workflowExecution?.workflowId });

      // The slot first: an attempt row stands for a provider call under way, not for a wait in the queue.
      await sendSlot(sendRate, 'push');
      if (info.attempt > 1 && !input.replay) await abandonEarlierAttempts(db, input.notificationId, target.deviceId, info.attempt);
      await openAttempt(db, { id: attemptId, notificationId: input.notificationId, deviceId: target.deviceId, provider: provider.name, attemptNumber: info.attempt });
      // Given up on while the row was written: the retry sends, this attempt must not.
      throwIfCancelled();
      const startedAt = performance.now();
      const observe = (outcome: string, errorKind = '') => {
        metrics.providerLatency.observe({ provider: provider.name, outcome }, (performance.now() - startedAt) / 1000);
        metrics.deliveryAttempts.inc({ channel: 'push', provider: provider.name, outcome, error_kind: errorKind });
      };
      try {
        const receipt = await provider.send(target, message, deliveryKey);
        observe('sent');
        // The first device to take it makes the notification sent; no further workflow step is needed.
        const [, madeSent] = await db.$transaction([
          closeAttemptSent(db, attemptId, receipt.providerMessageId),
          finishNotification(db, input.notificationId, { sent: true, failureReason: null }),
        ]);
        if (madeSent === 1) metrics.notifications.inc({ channel: 'push', priority: message.priority, outcome: 'sent', reason: '' });
        log.info({ provider: receipt.provider, providerMessageId: receipt.providerMessageId }, 'push sent');
        return { deviceId: target.deviceId, status: 'sent', provider: receipt.provider, providerMessageId: receipt.providerMessageId };
      } catch (err) {
        const failure = asProviderError(err, provider.name);
        observe('failed', failure.kind);
        await closeAttemptFailed(db, attemptId, { code: failure.code, message: failure.message.slice(0, 1000), retryable: failure.kind === 'transient' });
        log.warn({ provider: provider.name, kind: failure.kind, code: failure.code, err: failure.message }, 'push failed');
        if (failure.kind === 'invalid_token') {
          // A dead token never comes back: stop using it at once, whatever the retry policy says.
          await db.device.updateMany({
            where: { id: target.deviceId, active: true },
            data: { active: false, invalidatedAt: new Date(), invalidatedReason: `${provider.name}: ${failure.code}` },
          });
          metrics.devicesDeactivated.inc({ reason: `${provider.name}: ${failure.code}` });
        }
        throw activityFailureFor(failure, { channel: 'push', deadTargetType: 'InvalidDeviceToken', deadTargetMessage: `device token rejected by ${provider.name}: ${failure.code}` });
      }
    },
  };
}
