// Pushing many recorded notifications at once: the part product alerts and campaigns share. Each device gets an
// attempt row before the provider is called (so a retried batch sends only to the devices no earlier attempt
// settled); Android devices go through FCM sendEach (500 a call), iOS devices over concurrent HTTP/2 streams to
// APNs; then the attempts and the notifications are settled in a few bulk statements, not one per device.
import { Context } from '@temporalio/activity';
import type { Platform, Priority, PushMessage, PushTarget } from '../domain';
import type { Db } from '../lib/db';
import { metrics } from '../lib/metrics';
import { ProviderError, type PushBatchResult, type PushProviders } from './providers/push-provider';
import { sendSlot, type SendRate } from './send-rate';

/** Concurrent APNs requests of one batch: HTTP/2 streams on the provider's connection. */
export const APNS_CONCURRENCY = 64;
/** Android groups (one message text each) sent at once when devices share a text. */
const ANDROID_GROUP_CONCURRENCY = 8;
/** How often the answered sends of a batch in progress are written down. */
const ATTEMPT_FLUSH_MS = 200;

export interface BulkPushDevice {
  deviceId: string;
  platform: Platform;
  token: string;
  app: string | null;
  locale?: string | null;
}

/** A queued notification as the pusher reads it. */
export interface QueuedPush {
  id: string;
  customerId: string;
  orderId: string | null;
  priority: Priority;
  title: string | null;
  body: string | null;
}

export interface PushQueuedInput {
  /** The notifications of the batch; only those still queued are pushed. */
  ids: string[];
  /** The active devices of a customer. */
  devicesOf(customerId: string): BulkPushDevice[];
  messageOf(notification: QueuedPush): PushMessage;
  /** The activity attempt: attempt rows are `<notificationId>:<deviceId>:<attempt>`. */
  attempt: number;
  /**
   * Android devices whose messages share a text go out as one sendBatch of one message carrying this id (product
   * alerts: the alert workflow's). Without it every device gets its own message (its own notification id) through
   * the provider's sendEach.
   */
  groupMessageId?(message: PushMessage): string;
}

export interface PushQueuedResult {
  /** Device sends made by this attempt. */
  pushes: number;
  /** Of them, failures worth retrying (the notification stays queued for the retry unless another device took it). */
  transient: number;
}

interface Send {
  notificationId: string;
  target: PushTarget;
  message: PushMessage;
  attemptId: string;
}

type RecordSend = (send: Send, result: PushBatchResult) => void;

const asProviderError = (provider: string, err: unknown): ProviderError =>
  err instanceof ProviderError ? err : new ProviderError(provider, 'transient', 'error', String(err));

/**
 * Whether Temporal gave up on the activity this code runs in (its heartbeat or start-to-close timeout passed, or it
 * was cancelled): a retry may already be sending the same batch, so an attempt that notices stops calling providers.
 * False outside an activity.
 */
export function activityAbandoned(): boolean {
  try {
    return Context.current().cancellationSignal.aborted;
  } catch {
    return false;
  }
}

/** Throws when the activity was given up on (see activityAbandoned): what it sent so far is recorded, the rest is the retry's. */
export function stopIfAbandoned(): void {
  if (activityAbandoned()) Context.current().cancellationSignal.throwIfAborted();
}

/**
 * The pusher of product alerts and campaigns. Each provider call takes a slot of this worker's push share
 * (activities/send-rate.ts), as a single send does: their activities run on the push queue without a task-queue
 * limit, so the lease is the only limit and the total stays within HERALD_PUSH_RATE_LIMIT.
 */
export function createBulkPusher(db: Db, providers: PushProviders, sendRate?: SendRate) {
  /** Waits for a push slot; false when the activity was given up on meanwhile (it calls no provider then). */
  async function slot(): Promise<boolean> {
    if (activityAbandoned()) return false;
    try {
      await sendSlot(sendRate, 'push');
      return true;
    } catch (err) {
      if (activityAbandoned()) return false;
      throw err;
    }
  }

  /**
   * Pushes the queued notifications among `ids` to their customers' devices that no earlier attempt settled, each
   * with its attempt row; a notification is sent once one device took it, failed once none can.
   */
  async function pushQueued(input: PushQueuedInput): Promise<PushQueuedResult> {
    const { ids, attempt } = input;
    if (ids.length === 0) return { pushes: 0, transient: 0 };
    const queued = await db.$queryRaw<QueuedPush[]>`
      SELECT id, "customerId", "orderId", priority::text AS priority, title, body FROM "Notification" WHERE id = ANY(${ids}) AND status = 'queued'`;
    if (queued.length === 0) return { pushes: 0, transient: 0 };
    const queuedIds = queued.map((n) => n.id);
    const settled = new Set(
      (
        await db.deliveryAttempt.findMany({
          where: { notificationId: { in: queuedIds }, OR: [{ status: 'sent' }, { status: 'failed', retryable: false }] },
          select: { notificationId: true, deviceId: true },
        })
      ).map((a) => `${a.notificationId}:${a.deviceId}`),
    );
    if (attempt > 1) {
      await db.deliveryAttempt.updateMany({
        where: { notificationId: { in: queuedIds }, status: 'sending', attemptNumber: { lt: attempt } },
        data: { status: 'failed', errorCode: 'abandoned', errorMessage: 'the worker stopped before the provider answered', retryable: true, finishedAt: new Date() },
      });
    }
    const sends: Send[] = [];
    for (const n of queued) {
      const message = input.messageOf(n);
      for (const d of input.devicesOf(n.customerId)) {
        if (settled.has(`${n.id}:${d.deviceId}`)) continue;
        sends.push({ notificationId: n.id, target: { deviceId: d.deviceId, platform: d.platform, token: d.token, app: d.app }, message, attemptId: `${n.id}:${d.deviceId}:${attempt}` });
      }
    }
    if (sends.length > 0) {
      // One INSERT of column arrays: Prisma's createMany would bind every field of every row.
      await db.$executeRaw`
        INSERT INTO "DeliveryAttempt" (id, "notificationId", "deviceId", channel, provider, status, "attemptNumber", "startedAt")
        SELECT v.id, v.notification, v.device, 'push', v.provider, 'sending', ${attempt}, ${new Date()}
        FROM unnest(${sends.map((s) => s.attemptId)}::text[], ${sends.map((s) => s.notificationId)}::text[], ${sends.map((s) => s.target.deviceId)}::text[],
          ${sends.map((s) => providers[s.target.platform].name)}::text[]) AS v(id, notification, device, provider)
        ON CONFLICT (id) DO NOTHING`;
    }
    // Each device's attempt is closed soon after its provider answers, not when the whole batch is done, so a
    // worker lost mid-batch leaves only the sends still unanswered for the retry to make again.
    const results = new Map<Send, PushBatchResult>();
    let unflushed: Array<[Send, PushBatchResult]> = [];
    let flushing: Promise<void> = Promise.resolve();
    let flushError: unknown = null;
    const flush = (): Promise<void> => {
      const chunk = unflushed;
      unflushed = [];
      if (chunk.length > 0) flushing = flushing.then(() => closeAttempts(chunk)).catch((err: unknown) => void (flushError ??= err));
      return flushing;
    };
    const record = (s: Send, r: PushBatchResult) => {
      results.set(s, r);
      unflushed.push([s, r]);
    };
    const timer = setInterval(() => void flush(), ATTEMPT_FLUSH_MS);
    const android = sends.filter((s) => s.target.platform === 'android');
    try {
      await Promise.all([
        input.groupMessageId ? sendAndroidGrouped(android, record, input.groupMessageId) : sendAndroidEach(android, record),
        sendOneByOne(sends.filter((s) => s.target.platform !== 'android'), record),
      ]);
    } finally {
      clearInterval(timer);
    }
    await flush();
    if (flushError) throw flushError;
    // Given up on mid-send: the attempts it closed stand; the notifications are the live attempt's to settle.
    stopIfAbandoned();
    let transient = 0;
    for (const r of results.values()) if (!r.ok && r.error.kind === 'transient') transient++;

    // Settle the notifications from what every attempt so far left.
    const attempts = await db.deliveryAttempt.groupBy({ by: ['notificationId', 'status', 'retryable'], where: { notificationId: { in: queuedIds } }, _count: true });
    const sentIds = new Set(attempts.filter((a) => a.status === 'sent').map((a) => a.notificationId));
    const open = new Set(attempts.filter((a) => a.status === 'sending' || (a.status === 'failed' && a.retryable)).map((a) => a.notificationId));
    const failedIds = queuedIds.filter((id) => !sentIds.has(id) && (!open.has(id) || transient === 0));
    await db.$transaction([
      db.notification.updateMany({ where: { id: { in: [...sentIds] }, status: 'queued' }, data: { status: 'sent', sentAt: new Date() } }),
      db.notification.updateMany({ where: { id: { in: failedIds }, status: 'queued' }, data: { status: 'failed', failureReason: 'no device took the push' } }),
    ]);
    for (const n of queued) if (sentIds.has(n.id)) metrics.notifications.inc({ channel: 'push', priority: 'routine', outcome: 'sent', reason: '' });
    return { pushes: sends.length, transient };
  }

  /** Closes the attempts of these answered sends in one statement, and deactivates the devices whose token is dead. */
  async function closeAttempts(answered: Array<[Send, PushBatchResult]>): Promise<void> {
    const closed = { id: [] as string[], status: [] as string[], messageId: [] as Array<string | null>, code: [] as Array<string | null>, text: [] as Array<string | null>, retryable: [] as Array<boolean | null> };
    const deadTokens: string[] = [];
    for (const [s, r] of answered) {
      const provider = providers[s.target.platform].name;
      closed.id.push(s.attemptId);
      if (r.ok) {
        metrics.deliveryAttempts.inc({ channel: 'push', provider, outcome: 'sent', error_kind: '' });
        closed.status.push('sent');
        closed.messageId.push(r.receipt.providerMessageId);
        closed.code.push(null);
        closed.text.push(null);
        closed.retryable.push(null);
        continue;
      }
      metrics.deliveryAttempts.inc({ channel: 'push', provider, outcome: 'failed', error_kind: r.error.kind });
      closed.status.push('failed');
      closed.messageId.push(null);
      closed.code.push(r.error.code);
      closed.text.push(r.error.message.slice(0, 1000));
      closed.retryable.push(r.error.kind === 'transient');
      if (r.error.kind === 'invalid_token') deadTokens.push(s.target.deviceId);
    }
    await db.$executeRaw`
      UPDATE "DeliveryAttempt" a SET status = v.status::"AttemptStatus", "providerMessageId" = v.message_id, "errorCode" = v.code,
        "errorMessage" = v.text, retryable = v.retryable, "finishedAt" = ${new Date()}
      FROM unnest(${closed.id}::text[], ${closed.status}::text[], ${closed.messageId}::text[], ${closed.code}::text[], ${closed.text}::text[], ${closed.retryable}::boolean[])
        AS v(id, status, message_id, code, text, retryable)
      WHERE a.id = v.id`;
    if (deadTokens.length > 0) {
      await db.device.updateMany({ where: { id: { in: deadTokens }, active: true }, data: { active: false, invalidatedAt: new Date(), invalidatedReason: 'push provider: invalid token' } });
    }
  }

  /** Android devices in FCM sendBatch calls (the provider cuts them into sendEach calls of 500), one per distinct message text. */
  async function sendAndroidGrouped(sends: Send[], record: RecordSend, groupMessageId: (message: PushMessage) => string): Promise<void> {
    const provider = providers.android;
    const groups = new Map<string, Send[]>();
    for (const s of sends) {
      const key = `${s.message.title}\u0000${s.message.body}`;
      let group = groups.get(key);
      if (!group) groups.set(key, (group = []));
      group.push(s);
    }
    const list = [...groups.values()];
    let next = 0;
    const worker = async () => {
      for (let g = next++; g < list.length; g = next++) {
        if (!(await slot())) return;
        const group = list[g]!;
        // One message for the group: it names the batch's subject (unless the group is one notification); each device's own notification is its attempt row.
        const one = group.every((s) => s.notificationId === group[0]!.notificationId);
        const message: PushMessage = one ? group[0]!.message : { ...group[0]!.message, notificationId: groupMessageId(group[0]!.message) };
        const keys = group.map((s) => `${s.notificationId}:${s.target.deviceId}`);
        let batch: PushBatchResult[];
        try {
          batch = provider.sendBatch ? await provider.sendBatch(group.map((s) => s.target), message, keys) : await sendEachByOne(group);
        } catch (err) {
          batch = group.map(() => ({ ok: false, error: asProviderError(provider.name, err) }));
        }
        group.forEach((s, i) => record(s, batch[i] ?? { ok: false, error: new ProviderError(provider.name, 'transient', 'NO_RESULT', 'the provider returned no result') }));
      }
    };
    await Promise.all(Array.from({ length: Math.min(ANDROID_GROUP_CONCURRENCY, list.length) }, worker));
  }

  /** Android devices each with its own message, through the provider's sendEach (500 a call) when it has one. */
  async function sendAndroidEach(sends: Send[], record: RecordSend): Promise<void> {
    if (sends.length === 0) return;
    const provider = providers.android;
    if (!provider.sendEach) return sendOneByOne(sends, record);
    if (!(await slot())) return;
    let batch: PushBatchResult[];
    try {
      batch = await provider.sendEach(sends.map((s) => ({ target: s.target, message: s.message, deliveryKey: `${s.notificationId}:${s.target.deviceId}` })));
    } catch (err) {
      batch = sends.map(() => ({ ok: false, error: asProviderError(provider.name, err) }));
    }
    sends.forEach((s, i) => record(s, batch[i] ?? { ok: false, error: new ProviderError(provider.name, 'transient', 'NO_RESULT', 'the provider returned no result') }));
  }

  async function sendEachByOne(group: Send[]): Promise<PushBatchResult[]> {
    const results = new Map<Send, PushBatchResult>();
    await sendOneByOne(group, (s, r) => results.set(s, r));
    return group.map((s) => results.get(s)!);
  }

  /** One request per device, many at once (on APNs, streams of its HTTP/2 connection); each carries its own notification's id. */
  async function sendOneByOne(sends: Send[], record: RecordSend): Promise<void> {
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < sends.length; i = next++) {
        if (!(await slot())) return;
        const s = sends[i]!;
        const provider = providers[s.target.platform];
        try {
          record(s, { ok: true, receipt: await provider.send(s.target, s.message, `${s.notificationId}:${s.target.deviceId}`) });
        } catch (err) {
          record(s, { ok: false, error: asProviderError(provider.name, err) });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(APNS_CONCURRENCY, sends.length) }, worker));
  }

  return { pushQueued };
}
