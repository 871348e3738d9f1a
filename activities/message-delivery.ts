// Email and SMS delivery: one activity attempt hands one message to the channel's provider, recorded
// before and after the call like a push (activities/push-delivery.ts), each in its turn under the channel's rate
// limit (activities/send-rate.ts).
import { Context } from '@temporalio/activity';
import type { Priority } from '../domain';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import type { EmailMessage, MessageProvider, MessageProviders, SmsMessage } from './providers/message-provider';
import { activityFailureFor, asProviderError } from './provider-failure';
import { sendSlot, throwIfCancelled, type SendRate } from './send-rate';
import { abandonEarlierAttempts, closeAttemptFailed, closeAttemptSent, finishNotification, openAttempt } from '../store/notifications';

interface MessageDelivery<M> {
  notificationId: string;
  orderId: string | null;
  priority: Priority;
  message: M;
  /** Set when an operator replays a dead letter: its attempts get their own ids. */
  replay?: number;
}

export type SendEmailInput = MessageDelivery<EmailMessage>;
export type SendSmsInput = MessageDelivery<SmsMessage>;

export interface MessageOutcome {
  status: 'sent';
  provider: string;
  providerMessageId: string | null;
}

/** Error types the email and SMS retry policies must not retry. */
export const NON_RETRYABLE_MESSAGE_ERRORS = ['InvalidRecipient', 'PermanentProviderError'];

export function createMessageDeliveryActivities(db: Db, providers: MessageProviders, logger: Logger, sendRate?: SendRate) {
  async function deliver<M extends { to: string }>(channel: 'email' | 'sms', provider: MessageProvider<M>, input: MessageDelivery<M>): Promise<MessageOutcome> {
    const info = Context.current().info;
    // One address per notification: the notification id is the delivery key, the same on every retry
    // (the email's Message-ID is derived from it, so a relay that saw it already can drop the copy).
    const deliveryKey = input.notificationId;
    const attemptId = input.replay ? `${deliveryKey}:replay${input.replay}:${info.attempt}` : `${deliveryKey}:${info.attempt}`;
    const log = logger.child({ attemptId, orderId: input.orderId, workflowId: info.workflowExecution?.workflowId, channel });

    // The slot first: an attempt row stands for a provider call under way, not for a wait in the queue.
    await sendSlot(sendRate, channel);
    if (info.attempt > 1 && !input.replay) await abandonEarlierAttempts(db, input.notificationId, null, info.attempt);
    await openAttempt(db, {
      id: attemptId,
      notificationId: input.notificationId,
      deviceId: null,
      channel,
      address: input.message.to,
      provider: provider.name,
      attemptNumber: info.attempt,
    });
    // Given up on while the row was written: the retry sends, this attempt must not.
    throwIfCancelled();
    const startedAt = performance.now();
    const observe = (outcome: string, errorKind = '') => {
      metrics.providerLatency.observe({ provider: provider.name, outcome }, (performance.now() - startedAt) / 1000);
      metrics.deliveryAttempts.inc({ channel, provider: provider.name, outcome, error_kind: errorKind });
    };
    try {
      const receipt = await provider.send(input.message, deliveryKey);
      observe('sent');
      const [, madeSent] = await db.$transaction([
        closeAttemptSent(db, attemptId, receipt.providerMessageId),
        finishNotification(db, input.notificationId, { sent: true, failureReason: null }),
      ]);
      if (madeSent === 1) metrics.notifications.inc({ channel, priority: input.priority, outcome: 'sent', reason: '' });
      log.info({ provider: receipt.provider, providerMessageId: receipt.providerMessageId }, `${channel} sent`);
      return { status: 'sent', provider: receipt.provider, providerMessageId: receipt.providerMessageId };
    } catch (err) {
      const failure = asProviderError(err, provider.name);
      observe('failed', failure.kind);
      await closeAttemptFailed(db, attemptId, { code: failure.code, message: failure.message.slice(0, 1000), retryable: failure.kind === 'transient' });
      log.warn({ provider: provider.name, kind: failure.kind, code: failure.code, err: failure.message }, `${channel} failed`);
      throw activityFailureFor(failure, {
        channel,
        deadTargetType: 'InvalidRecipient',
        deadTargetMessage: `${provider.name} refused the recipient ${input.message.to}: ${failure.code} ${failure.message}`,
      });
    }
  }

  return {
    /** One email to one address, through SMTP (with its fallback relay). */
    async sendEmail(input: SendEmailInput): Promise<MessageOutcome> {
      return deliver('email', providers.email, input);
    },
    /** One SMS to one E.164 number, through Twilio. */
    async sendSms(input: SendSmsInput): Promise<MessageOutcome> {
      return deliver('sms', providers.sms, input);
    },
  };
}
