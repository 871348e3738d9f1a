import type { AddressTarget, PushMessage, PushTarget } from '../domain';
import type { EmailMessage, SmsMessage } from './providers/message-provider';
import type { Db } from '../lib/db';
import { Prisma } from '../lib/db';
import { metrics } from '../lib/metrics';

/** What was sent where: a push to a device, or an email or SMS to an address. */
export type DeadLetterDelivery =
  | { channel?: 'push'; target: PushTarget; message: PushMessage }
  | { channel: 'email'; target: AddressTarget; message: EmailMessage }
  | { channel: 'sms'; target: AddressTarget; message: SmsMessage };

export type DeadLetterInput = DeadLetterDelivery & {
  notificationId: string;
  /** Null for a message about no order (a cart reminder). */
  orderId: string | null;
  customerId: string;
  /** The final error as the workflow saw it. */
  lastError: string;
};

export type DeadLetterReplay = DeadLetterDelivery & {
  deadLetterId: string;
  notificationId: string;
  orderId: string | null;
  customerId: string;
  priority: 'critical' | 'routine';
  replay: number;
};

export function createDeadLetterActivities(db: Db) {
  return {
    /** Keeps a delivery that failed for good, with every attempt's error; once per notification and device. */
    async recordDeadLetter(input: DeadLetterInput): Promise<string> {
      const channel = input.channel ?? 'push';
      const deviceId = input.channel === 'email' || input.channel === 'sms' ? null : (input.target as PushTarget).deviceId;
      const address = input.channel === 'email' || input.channel === 'sms' ? input.target.address : null;
      const attempts = await db.deliveryAttempt.findMany({
        where: { notificationId: input.notificationId, deviceId },
        orderBy: [{ startedAt: 'asc' }, { attemptNumber: 'asc' }],
      });
      const provider = attempts[attempts.length - 1]?.provider ?? (deviceId ? (input.target as PushTarget).platform : channel);
      const errors = attempts
        .filter((a) => a.status === 'failed')
        .map((a) => ({ attemptId: a.id, attemptNumber: a.attemptNumber, code: a.errorCode, message: a.errorMessage, at: a.finishedAt }));
      const fields = {
        errors: errors as unknown as Prisma.InputJsonValue,
        lastError: input.lastError.slice(0, 2000),
      };
      const create = {
        notificationId: input.notificationId,
        orderId: input.orderId,
        customerId: input.customerId,
        channel,
        deviceId,
        address,
        provider,
        target: input.target as unknown as Prisma.InputJsonValue,
        message: input.message as unknown as Prisma.InputJsonValue,
        ...fields,
      };
      // A replay that failed again lands here too: keep the row, refresh what went wrong.
      let id: string;
      if (deviceId) {
        ({ id } = await db.deadLetter.upsert({
          where: { notificationId_deviceId: { notificationId: input.notificationId, deviceId } },
          create,
          update: fields,
        }));
      } else {
        // Email and SMS notifications have one address each: the notification id alone names the row.
        id = await db.$transaction(async (tx) => {
          const existing = await tx.deadLetter.findFirst({ where: { notificationId: input.notificationId, deviceId: null } });
          if (existing) return (await tx.deadLetter.update({ where: { id: existing.id }, data: fields })).id;
          return (await tx.deadLetter.create({ data: create })).id;
        });
      }
      metrics.deadLetters.inc({ channel, provider });
      return id;
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
      const notification = await db.notification.findUnique({ where: { id: row.notificationId }, select: { priority: true } });
      return {
        deadLetterId: row.id,
        notificationId: row.notificationId,
        orderId: row.orderId,
        customerId: row.customerId,
        priority: notification?.priority ?? 'routine',
        replay: row.replayCount,
        ...({ channel: row.channel, target: row.target, message: row.message } as unknown as DeadLetterDelivery),
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
