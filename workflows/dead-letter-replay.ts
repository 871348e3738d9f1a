import { proxyLocalActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { deliveryActivities, describeFailure, failureType, type DeliveryOptions } from './delivery';

const { startDeadLetterReplay, finishDeadLetterReplay, recordDeadLetter } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 ms', maximumInterval: '30 seconds' },
});

export interface DeadLetterReplayInput {
  deadLetterId: string;
  delivery?: DeliveryOptions;
}

export type DeadLetterReplayResult = { status: 'sent' | 'failed' | 'not_found'; error?: string };

/** An operator's replay of a dead letter: the same message to the same target on its channel, with the usual retries. */
export async function deadLetterReplayWorkflow(input: DeadLetterReplayInput): Promise<DeadLetterReplayResult> {
  const replay = await startDeadLetterReplay(input.deadLetterId);
  if (!replay) return { status: 'not_found' };
  const { sendPush, sendEmail, sendSms } = deliveryActivities(input.delivery);
  const common = { notificationId: replay.notificationId, orderId: replay.orderId, priority: replay.priority, replay: replay.replay };
  try {
    if (replay.channel === 'email') await sendEmail({ ...common, message: replay.message });
    else if (replay.channel === 'sms') await sendSms({ ...common, message: replay.message });
    else await sendPush({ notificationId: replay.notificationId, target: replay.target, message: replay.message, replay: replay.replay });
    await finishDeadLetterReplay({ deadLetterId: replay.deadLetterId, status: 'sent' });
    return { status: 'sent' };
  } catch (err) {
    const error = describeFailure(err);
    // A dead token or a refused address will not get better by replaying; anything else stays replayable.
    const type = failureType(err);
    if (type !== 'InvalidDeviceToken' && type !== 'InvalidRecipient') {
      const { deadLetterId: _id, replay: _n, priority: _p, orderId, ...delivery } = replay;
      await recordDeadLetter({ ...delivery, orderId: orderId ?? '', lastError: error });
    }
    await finishDeadLetterReplay({ deadLetterId: replay.deadLetterId, status: 'failed', error });
    return { status: 'failed', error };
  }
}
