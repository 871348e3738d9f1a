import { ApplicationFailure, Context } from '@temporalio/activity';
import { FAILURE_TYPES, type FailureType, type PushMessage, type PushOutcome, type PushTarget } from '../domain';
import type { Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import { ProviderError, type PushBatchResult, type PushProvider, type PushProviders } from './providers/push-provider';
import { abandonEarlierAttempts, closeAttemptFailed, closeAttemptSent, finishNotification, openAttempt } from '../store/notifications';
import { sendSlot, throwIfCancelled, type SendRate } from './send-rate';

export interface SendPushBatchInput {
  notificationId: string;
  /** Devices of one platform; each gets its own attempt row and outcome. */
  targets: PushTarget[];
  message: PushMessage;
  /** Set when an operator replays a dead letter: its attempts get their own ids. */
  replay?: number;
}

/** Concurrent send() calls when the provider has no sendBatch(). */
const FALLBACK_CONCURRENCY = 16;
/** Longest provider error text kept on an attempt row (and so in an outcome). */
const ERROR_TEXT_LIMIT = 1000;

/** The outcome text of a failure, `<Temporal failure type>: <message>`, as sendPush's failures read in the workflow. */
function describeProviderFailure(provider: string, kind: ProviderError['kind'], code: string, message: string): string {
  if (kind === 'invalid_token') return `InvalidDeviceToken: device token rejected by ${provider}: ${code}`;
  if (kind === 'permanent') return `PermanentProviderError: ${provider} rejected the push: ${code} ${message}`;
  return `TransientProviderError: ${provider} unavailable: ${code} ${message}`;
}

function failureTypeOf(kind: ProviderError['kind']): FailureType {
  return kind === 'invalid_token' ? FAILURE_TYPES.invalidToken : kind === 'permanent' ? FAILURE_TYPES.permanent : FAILURE_TYPES.transient;
}

/** send() for each target, a few at a time, as batch results. */
async function sendOneByOne(provider: PushProvider, targets: PushTarget[], message: PushMessage, keys: string[], sendRate?: SendRate): Promise<PushBatchResult[]> {
  const results = new Array<PushBatchResult>(targets.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < targets.length; i = next++) {
      // One slot per provider call. A cancelled attempt calls no more: the devices left get no result (NO_RESULT, to retry).
      try {
        await sendSlot(sendRate, 'push');
      } catch {
        return;
      }
      try {
        results[i] = { ok: true, receipt: await provider.send(targets[i]!, message, keys[i]!) };
      } catch (err) {
        results[i] = { ok: false, error: asProviderError(provider, err) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(FALLBACK_CONCURRENCY, targets.length) }, worker));
  return results;
}

const asProviderError = (provider: PushProvider, err: unknown): ProviderError =>
  err instanceof ProviderError ? err : new ProviderError(provider.name, 'transient', 'error', String(err));

export function createPushBatchActivities(db: Db, providers: PushProviders, logger: Logger, sendRate?: SendRate) {
  return {
    /**
     * One attempt of one push to many devices of one platform, through the provider's sendBatch() when it has
     * one. Each device is recorded like sendPush records it (attempt `${notificationId}:${deviceId}:${attempt}`).
     * A retry sends only to the devices no earlier attempt settled. Any transient failure fails the activity
     * after everything is recorded, with every device's outcome in the failure details.
     */
    async sendPushBatch(input: SendPushBatchInput): Promise<PushOutcome[]> {
      const { notificationId, targets, message } = input;
      if (targets.length === 0) return [];
      const platform = targets[0]!.platform;
      const deviceIds = targets.map((t) => t.deviceId);
      if (targets.some((t) => t.platform !== platform) || new Set(deviceIds).size !== deviceIds.length) {
        throw ApplicationFailure.create({
          message: 'sendPushBatch needs distinct devices of one platform',
          type: 'InvalidPushBatch',
          nonRetryable: true,
        });
      }
      const info = Context.current().info;
      const provider = providers[platform];
      const deliveryKeyOf = (deviceId: string) => `${notificationId}:${deviceId}`;
      const attemptIdOf = (deviceId: string, attempt: number) =>
        input.replay ? `${deliveryKeyOf(deviceId)}:replay${input.replay}:${attempt}` : `${deliveryKeyOf(deviceId)}:${attempt}`;
      const log = logger.child({ notificationId, attempt: info.attempt, orderId: message.orderId, workflowId: info.workflowExecution?.workflowId });

      const outcomes = new Map<string, PushOutcome>();
      let transientFailures = 0;
      const retryAfters: number[] = [];
      if (info.attempt > 1) {
        if (!input.replay) await db.$transaction(deviceIds.map((id) => abandonEarlierAttempts(db, notificationId, id, info.attempt)));
        for (const [deviceId, outcome] of await settledEarlier(db, notificationId, deviceIds, info.attempt, attemptIdOf)) outcomes.set(deviceId, outcome);
      }
      const pending = targets.filter((t) => !outcomes.has(t.deviceId));
      if (pending.length < targets.length) log.info({ settled: targets.length - pending.length, pending: pending.length }, 'push batch retry skips settled devices');

      if (pending.length > 0) {
        // One batch is one provider call: it takes one slot of the push rate limit (sendOneByOne one per device), before
        // its attempt rows are opened: a row stands for a provider call under way, not for a wait in the queue.
        if (provider.sendBatch) await sendSlot(sendRate, 'push');
        const attemptIds = pending.map((t) => attemptIdOf(t.deviceId, info.attempt));
        await db.$transaction(
          pending.map((t, i) =>
            openAttempt(db, { id: attemptIds[i]!, notificationId, deviceId: t.deviceId, provider: provider.name, attemptNumber: info.attempt }),
          ),
        );

        const keys = pending.map((t) => deliveryKeyOf(t.deviceId));
        // Given up on while the rows were written: the retry sends, this attempt must not.
        throwIfCancelled();
        const startedAt = performance.now();
        let results: PushBatchResult[];
        try {
          results = provider.sendBatch ? await provider.sendBatch(pending, message, keys) : await sendOneByOne(provider, pending, message, keys, sendRate);
        } catch (err) {
          results = pending.map(() => ({ ok: false, error: asProviderError(provider, err) }));
        }
        // The devices of a batch are answered together: each is observed with the batch's duration.
        const seconds = (performance.now() - startedAt) / 1000;

        const writes: Array<ReturnType<typeof finishNotification>> = [];
        let anySent = false;
        const deadTokens = new Map<string, string[]>();
        pending.forEach((target, i) => {
          const result = results[i] ?? { ok: false, error: new ProviderError(provider.name, 'transient', 'NO_RESULT', 'the provider returned no result') };
          const attemptId = attemptIds[i]!;
          if (result.ok) {
            anySent = true;
            metrics.providerLatency.observe({ provider: provider.name, outcome: 'sent' }, seconds);
            metrics.deliveryAttempts.inc({ channel: 'push', provider: provider.name, outcome: 'sent', error_kind: '' });
            writes.push(closeAttemptSent(db, attemptId, result.receipt.providerMessageId));
            outcomes.set(target.deviceId, {
              deviceId: target.deviceId,
              status: 'sent',
              provider: result.receipt.provider,
              providerMessageId: result.receipt.providerMessageId,
            });
            return;
          }
          const failure = result.error;
          const text = failure.message.slice(0, ERROR_TEXT_LIMIT);
          metrics.providerLatency.observe({ provider: provider.name, outcome: 'failed' }, seconds);
          metrics.deliveryAttempts.inc({ channel: 'push', provider: provider.name, outcome: 'failed', error_kind: failure.kind });
          writes.push(closeAttemptFailed(db, attemptId, { code: failure.code, message: text, retryable: failure.kind === 'transient' }));
          log.warn({ attemptId, provider: provider.name, kind: failure.kind, code: failure.code, err: failure.message }, 'push failed');
          if (failure.kind === 'invalid_token') {
            const reason = `${provider.name}: ${failure.code}`;
            deadTokens.set(reason, [...(deadTokens.get(reason) ?? []), target.deviceId]);
          }
          outcomes.set(target.deviceId, {
            deviceId: target.deviceId,
            status: 'failed',
            provider: provider.name,
            error: describeProviderFailure(provider.name, failure.kind, failure.code, text),
            failure: failureTypeOf(failure.kind),
          });
          if (failure.kind === 'transient') {
            transientFailures += 1;
            if (failure.retryAfterMs !== undefined) retryAfters.push(failure.retryAfterMs);
          }
        });
        // The first device to take it makes the notification sent; no further workflow step is needed.
        if (anySent) writes.push(finishNotification(db, notificationId, { sent: true, failureReason: null }));
        const counts = await db.$transaction(writes);
        if (anySent && counts.at(-1) === 1) metrics.notifications.inc({ channel: 'push', priority: message.priority, outcome: 'sent', reason: '' });

        // A dead token never comes back: stop using it at once, whatever the retry policy says.
        for (const [reason, ids] of deadTokens) {
          await db.device.updateMany({
            where: { id: { in: ids }, active: true },
            data: { active: false, invalidatedAt: new Date(), invalidatedReason: reason },
          });
          metrics.devicesDeactivated.inc({ reason }, ids.length);
        }
        log.info({ provider: provider.name, devices: pending.length, sent: results.filter((r) => r?.ok).length }, 'push batch sent');
      }

      const result = targets.map((t) => outcomes.get(t.deviceId)!);
      if (transientFailures > 0) {
        // Recorded above; Temporal retries the devices still pending, and the details carry every outcome so far.
        throw ApplicationFailure.create({
          message: `${provider.name} unavailable for ${transientFailures} of ${targets.length} devices`,
          type: 'TransientProviderError',
          nextRetryDelay: retryAfters.length > 0 ? Math.max(...retryAfters) : undefined,
          details: [result],
        });
      }
      return result;
    },
  };
}

/**
 * Outcomes of the devices an earlier attempt of this same activity settled: accepted, or refused for good.
 * Only rows with this activity's own attempt ids count (not a replay's, nor another replay's).
 */
async function settledEarlier(
  db: Db,
  notificationId: string,
  deviceIds: string[],
  beforeAttempt: number,
  attemptIdOf: (deviceId: string, attempt: number) => string,
): Promise<Map<string, PushOutcome>> {
  const rows = await db.deliveryAttempt.findMany({
    where: {
      notificationId,
      deviceId: { in: deviceIds },
      attemptNumber: { lt: beforeAttempt },
      OR: [{ status: 'sent' }, { status: 'failed', retryable: false }],
    },
    include: { device: { select: { active: true, invalidatedReason: true } } },
    orderBy: { attemptNumber: 'asc' },
  });
  const settled = new Map<string, PushOutcome>();
  for (const row of rows) {
    const deviceId = row.deviceId!;
    if (row.id !== attemptIdOf(deviceId, row.attemptNumber) || settled.has(deviceId)) continue;
    if (row.status === 'sent') {
      settled.set(deviceId, { deviceId, status: 'sent', provider: row.provider, providerMessageId: row.providerMessageId });
      continue;
    }
    // The row does not say why it was final; a dead token is the one that retired its device for that code.
    const code = row.errorCode ?? 'error';
    const deadToken = row.device !== null && !row.device.active && row.device.invalidatedReason === `${row.provider}: ${code}`;
    settled.set(deviceId, {
      deviceId,
      status: 'failed',
      provider: row.provider,
      error: describeProviderFailure(row.provider, deadToken ? 'invalid_token' : 'permanent', code, row.errorMessage ?? ''),
      failure: deadToken ? FAILURE_TYPES.invalidToken : FAILURE_TYPES.permanent,
    });
  }
  return settled;
}
