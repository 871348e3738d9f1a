// How workflows call the delivery activities: on the workflow's own task queue (so they are dispatched eagerly, with
// the workflow task that schedules them), each channel with its own retry policy, and the failure types that must not
// be retried. The providers' rate limits are held by the workers (activities/send-rate.ts).
import { ActivityFailure, ApplicationFailure, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import { DEFAULT_CHANNEL_RETRY, FAILURE_TYPES, isFailureType, NON_RETRYABLE_FAILURES, type ChannelRetry, type DeliveryChannel, type FailureType, type Priority } from '../domain';
import type { Activities } from '../activities';

/** Per-channel retry policies and task queues; the API passes Herald's configuration in. */
export interface DeliveryOptions {
  retry?: Partial<Record<DeliveryChannel, ChannelRetry>>;
  taskQueues?: Partial<Record<DeliveryChannel, string>>;
}

/**
 * How long one provider call may take, with margin: longer than the providers' own request timeouts
 * (10 s; SMTP may try the fallback relay too), short enough that a crashed worker's send is retried soon. It is the
 * sends' heartbeat timeout: a send that waits for its turn under the rate limit heartbeats meanwhile.
 */
const CALL_TIMEOUT: Record<DeliveryChannel, ActivityOptions['startToCloseTimeout']> = {
  push: '15 seconds',
  email: '45 seconds',
  sms: '20 seconds',
};

/**
 * Task-queue priority of a delivery: critical events are dispatched ahead of a routine backlog on the
 * same channel's queue (lower keys first; Temporal's default is 3).
 */
export const PRIORITY_KEYS: Record<Priority, number> = { critical: 1, routine: 3 };

/** A send may wait this long for its turn under the rate limit (a backlog of minutes), heartbeating. */
const START_TO_CLOSE: ActivityOptions['startToCloseTimeout'] = '10 minutes';

/**
 * Sends used to go to their channel's task queue (CHANNEL_TASK_QUEUES, rate-limited by Temporal); they now go to the
 * workflow's own. No patch is needed: an activity's task queue is not part of replay's determinism check (the SDK
 * compares activity id and type), and the worker still serves the old queues for sends scheduled there before.
 */
export function channelActivityOptions(channel: DeliveryChannel, options: DeliveryOptions = {}): ActivityOptions {
  const retry = options.retry?.[channel] ?? DEFAULT_CHANNEL_RETRY[channel];
  const taskQueue = options.taskQueues?.[channel];
  return {
    ...(taskQueue ? { taskQueue } : {}),
    startToCloseTimeout: START_TO_CLOSE,
    heartbeatTimeout: CALL_TIMEOUT[channel],
    retry: {
      initialInterval: retry.initialInterval as ActivityOptions['startToCloseTimeout'],
      maximumInterval: retry.maximumInterval as ActivityOptions['startToCloseTimeout'],
      maximumAttempts: retry.maximumAttempts,
      backoffCoefficient: 2,
      nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURES[channel]],
    },
  };
}

/** The delivery activities with each channel's options; call `.executeWithOptions` to add a summary. */
export function deliveryActivities(options: DeliveryOptions = {}) {
  const { sendPush, sendPushBatch } = proxyActivities<Activities>(channelActivityOptions('push', options));
  const { sendEmail } = proxyActivities<Activities>(channelActivityOptions('email', options));
  const { sendSms } = proxyActivities<Activities>(channelActivityOptions('sms', options));
  return {
    sendPush,
    sendPushBatch,
    sendEmail,
    sendSms,
    /** A channel's options for one call, with the event's priority and a summary the Web UI shows. */
    optionsOf: (channel: DeliveryChannel, priority: Priority, summary: string): ActivityOptions => ({
      ...channelActivityOptions(channel, options),
      priority: { priorityKey: PRIORITY_KEYS[priority] },
      summary,
    }),
  };
}

/** The named failure type behind an activity failure (domain/failures.ts), if it is one. */
export function failureType(err: unknown): FailureType | undefined {
  const type = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause.type : undefined;
  return isFailureType(type) ? type : undefined;
}

export function isInvalidToken(err: unknown): boolean {
  return failureType(err) === FAILURE_TYPES.invalidToken;
}

export function describeFailure(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure) {
    return `${err.cause.type ?? 'Error'}: ${err.cause.message}`;
  }
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}
