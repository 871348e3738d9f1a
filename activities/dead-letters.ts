import type { PushMessage, PushTarget } from '../domain';
import type { Db } from '../lib/db';
import { Prisma } from '../lib/db';
import { metrics } from '../lib/metrics';

export interface DeadLetterInput {
  notificationId: string;
  orderId: string;
  customerId: string;
  target: PushTarget;
  message: PushMessage;
  /** The final error as the workflow saw it. */
  lastError: string;
}

export interface DeadLetterReplay {
  deadLetterId: string;
  notificationId: string;
  customerId: string;
  target: PushTarget;
  message: PushMessage;
  replay: number;
}

export function createDeadLetterActivities(db: Db) {
  return {
    /** Keeps a delivery that failed for good, with every attempt's error; once per notification and device. */
    async recordDeadLetter(input: DeadLetterInput): Promise<string> {
      const attempts = await db.deliveryAttempt.findMany({
        where: { notificationId: input.notificationId, deviceId: input.target.deviceId },
        orderBy: [{ startedAt: 'asc' }, { attemptNumber: 'asc' }],
      });
      const provider = attempts[attempts.length - 1]?.provider ?? input.target.platform;
      const errors = attempts
        .filter((a) => a.status === 'failed')
        .map((a) => ({ attemptId: a.id, attemptNumber: a.attemptNumber, code: a.errorCode, message: a.errorMessage, at: a.finishedAt }));
      const row = await db.deadLetter.upsert({
        where: { notificationId_deviceId: { notificationId: input.notificationId, deviceId: input.target.deviceId } },
        create: {
          notificationId: input.notificationId,
          orderId: input.orderId,
          customerId: input.customerId,
          channel: 'push',
          deviceId: input.target.deviceId,
          provider,
          target: input.target as unknown as Prisma.InputJsonValue,
          message: input.message as unknown as Prisma.InputJsonValue,
          errors: errors as unknown as Prisma.InputJsonValue,
          lastError: input.lastError.slice(0, 2000),
        },
        // A replay that failed again lands here too: keep the row, refresh what went wrong.
        update: { errors: errors as unknown as Prisma.InputJsonValue, lastError: input.lastError.slice(0, 2000) },
      });
      metrics.deadLetters.inc({ channel: 'push', provider });
      return row.id;
    },

    /** Claims a dead letter for one more try; null when it does not exist. */
    async startDeadLetterReplay(deadLetterId: string): Promise<DeadLetterReplay | null> {
      const row = await db.deadLetter
        .update({ where: { id: deadLetterId }, data: { replayCount: { increment: 1 }, replayStatus: 'replaying', replayedAt: new Date() } })
        .catch((err: unknown) => {
          if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2025') return null;
          throw err;
        });
      if (!row) return null;
      return {
        deadLetterId: row.id,
        notificationId: row.notificationId,
        customerId: row.customerId,
        target: row.target as unknown as PushTarget,
        message: row.message as unknown as PushMessage,
        replay: row.replayCount,
      };
    },

    async finishDeadLetterReplay(input: { deadLetterId: string; status: 'sent' | 'failed'; error?: string }): Promise<void> {
      await db.deadLetter.update({
        where: { id: input.deadLetterId },
        data: { replayStatus: input.status, replayedAt: new Date(), ...(input.error ? { lastError: input.error.slice(0, 2000) } : {}) },
      });
    },
  };
}
