import { proxyLocalActivities } from '@temporalio/workflow';
import type * as activities from '../activities';
import { describeFailure, isInvalidToken, pushActivities, type PushRetry } from './order-notification';

type Activities = ReturnType<typeof activities.createActivities>;

const { startDeadLetterReplay, finishDeadLetterReplay, recordDeadLetter } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 ms', maximumInterval: '30 seconds' },
});

export interface DeadLetterReplayInput {
  deadLetterId: string;
  pushRetry?: PushRetry;
}

export type DeadLetterReplayResult = { status: 'sent' | 'failed' | 'not_found'; error?: string };

/** An operator's replay of a dead letter: the same message to the same target, with the usual retries. */
export async function deadLetterReplayWorkflow(input: DeadLetterReplayInput): Promise<DeadLetterReplayResult> {
  const replay = await startDeadLetterReplay(input.deadLetterId);
  if (!replay) return { status: 'not_found' };
  const { sendPush } = pushActivities(input.pushRetry);
  try {
    await sendPush({ notificationId: replay.notificationId, target: replay.target, message: replay.message, replay: replay.replay });
    await finishDeadLetterReplay({ deadLetterId: replay.deadLetterId, status: 'sent' });
    return { status: 'sent' };
  } catch (err) {
    const error = describeFailure(err);
    if (!isInvalidToken(err)) {
      await recordDeadLetter({
        notificationId: replay.notificationId,
        orderId: replay.message.orderId,
        customerId: replay.customerId,
        target: replay.target,
        message: replay.message,
        lastError: error,
      });
    }
    await finishDeadLetterReplay({ deadLetterId: replay.deadLetterId, status: 'failed', error });
    return { status: 'failed', error };
  }
}
