import { randomUUID } from 'node:crypto';
import type { SANDBOX_RECEIPTS } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import { receiptTokenProblem } from '../../lib/receipt-tokens';
import type { SigningKey } from '../../lib/signing-keys';
import type { ReceiptRecorder } from '../../store/receipts';
import type { ReceiptType } from '../../domain';
import type { MessageProvider } from './message-provider';
import type { PushProvider } from './push-provider';

export type SandboxReceiptMode = (typeof SANDBOX_RECEIPTS)[number];

/** How long after accepting a message a sandbox provider reports it delivered (and, for `opened`, opened after as long again). */
export const SANDBOX_RECEIPT_DELAY_MS = 1000;

/**
 * What a sandbox provider says happened to the messages it accepted, as a real provider (or the app) would a moment
 * later: HERALD_SANDBOX_RECEIPTS `delivered` (the default) reports a delivery receipt, `opened` a delivery then an
 * open, `none` nothing (the channel plans then escalate when their receipt deadline passes, as with a lost push).
 * Receipts go through the same recorder as the API's receipt endpoint: a NotificationReceipt row with source
 * `sandbox`, then the `notificationReceipt` signal to the order's workflow (the API's relay retries one that Temporal
 * did not take). A push's receipts are the app's, so they need what the app needs: the receipt token the push carried,
 * checked as the API checks it (a push without a valid one reports nothing, as the API would answer 403). An email's
 * or SMS's stand for the provider's webhook, which is signed another way.
 */
export interface SandboxReceipts {
  readonly mode: SandboxReceiptMode;
  /** What the sandbox providers log on each message they accept: what will follow. */
  readonly promise: string;
  /**
   * Reports the receipts of one accepted message, later; never throws (a failure is logged). `receiptToken` is the
   * token the push carried (null: none), for an app's receipt; absent for an email or SMS.
   */
  schedule(message: { notificationId: string; deliveryKey: string; provider: string; providerMessageId: string; receiptToken?: string | null }): void;
  /** Reports what is still scheduled at once, so a stopping worker loses none of them. */
  close(): Promise<void>;
}

export function createSandboxReceipts({
  mode,
  recorder,
  logger,
  receiptKeys = [],
  delayMs = SANDBOX_RECEIPT_DELAY_MS,
}: {
  mode: SandboxReceiptMode;
  /** Needed unless `mode` is none. */
  recorder?: Pick<ReceiptRecorder, 'record'> | null;
  logger: Logger;
  /** HERALD_RECEIPT_SECRET: what a push's receipt token is checked with. */
  receiptKeys?: readonly SigningKey[];
  delayMs?: number;
}): SandboxReceipts {
  const types: ReceiptType[] = mode === 'none' ? [] : mode === 'opened' ? ['delivered', 'opened'] : ['delivered'];
  if (types.length > 0 && !recorder) throw new Error(`HERALD_SANDBOX_RECEIPTS=${mode} needs a receipt recorder`);
  const scheduled = new Map<NodeJS.Timeout, (now: boolean) => Promise<void>>();
  const running = new Set<Promise<void>>();
  /** Waits between one receipt and the next (delivered, then opened); closing ends them at once. */
  const pauses = new Set<() => void>();
  let closing = false;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      if (closing) return resolve();
      const end = () => {
        clearTimeout(timer);
        pauses.delete(end);
        resolve();
      };
      const timer = setTimeout(end, ms);
      timer.unref();
      pauses.add(end);
    });

  async function report(message: Parameters<SandboxReceipts['schedule']>[0], type: ReceiptType): Promise<void> {
    const log = logger.child({ provider: message.provider, notificationId: message.notificationId, receipt: type });
    try {
      const accepted = await recorder!.record({
        notificationId: message.notificationId,
        type,
        source: 'sandbox',
        occurredAt: new Date(),
        // The same message on a retried attempt reports once.
        dedupeKey: `sandbox:${message.deliveryKey}:${type}`,
        detail: { provider: message.provider, providerMessageId: message.providerMessageId, sandboxReceipts: mode },
      });
      log.info(
        { duplicate: accepted.duplicate, notificationStatus: accepted.notificationStatus, signalled: accepted.signalled },
        `sandbox ${type} receipt recorded (HERALD_SANDBOX_RECEIPTS=${mode})`,
      );
    } catch (err) {
      log.warn({ err }, `sandbox ${type} receipt could not be recorded; the order's channel plan may escalate as if the message was lost`);
    }
  }

  /** Runs `run` after `ms`; `now` tells it to skip any further waits (the worker is stopping). */
  function later(ms: number, run: (now: boolean) => Promise<void>): void {
    const go = () => {
      scheduled.delete(timer);
      const done = run(false).finally(() => running.delete(done));
      running.add(done);
    };
    const timer = setTimeout(go, ms);
    timer.unref();
    scheduled.set(timer, run);
  }

  return {
    mode,
    promise: types.length === 0 ? 'no receipt will follow (HERALD_SANDBOX_RECEIPTS=none)' : `a ${types.join(', then an ')} receipt will follow (HERALD_SANDBOX_RECEIPTS=${mode})`,
    schedule(message) {
      if (types.length === 0) return;
      if (message.receiptToken !== undefined) {
        const problem = receiptTokenProblem(receiptKeys, message.notificationId, message.receiptToken);
        if (problem) {
          logger.warn(
            { provider: message.provider, notificationId: message.notificationId, receiptToken: problem },
            `sandbox push reports no receipt: its receipt token is ${problem} (is HERALD_RECEIPT_SECRET set for the worker?)`,
          );
          return;
        }
      }
      later(delayMs, async (now) => {
        for (const [i, type] of types.entries()) {
          if (i > 0 && !now) await pause(delayMs);
          await report(message, type);
        }
      });
    },
    async close() {
      const due = [...scheduled];
      scheduled.clear();
      for (const [timer] of due) clearTimeout(timer);
      // A report already running reports its next receipt now, before the worker exits.
      closing = true;
      for (const end of [...pauses]) end();
      await Promise.all([...running, ...due.map(([, run]) => run(true))]);
    },
  };
}

/** No receipts: what a sandbox provider does without a recorder (unit tests, HERALD_SANDBOX_RECEIPTS=none). */
const NO_RECEIPTS = (logger: Logger) => createSandboxReceipts({ mode: 'none', logger });

/**
 * The provider used when a channel has no credentials: it accepts every push, logs it and records it under a
 * `sandbox-*` name so nobody mistakes it for a real delivery; then reports receipts as `receipts` says.
 */
export function createSandboxPushProvider(platformProvider: string, logger: Logger, receipts: SandboxReceipts = NO_RECEIPTS(logger)): PushProvider {
  const name = `sandbox-${platformProvider}`;
  return {
    name,
    mode: 'sandbox',
    async send(target, message, deliveryKey) {
      const providerMessageId = `sandbox-${randomUUID()}`;
      logger.info(
        { provider: name, deliveryKey, deviceId: target.deviceId, orderId: message.orderId, title: message.title },
        `sandbox push accepted (no credentials configured; nothing left this machine); ${receipts.promise}`,
      );
      // As the app would: only with the token the push carried.
      receipts.schedule({ notificationId: message.notificationId, deliveryKey, provider: name, providerMessageId, receiptToken: message.receiptToken ?? null });
      return { provider: name, providerMessageId };
    },
    async close() {},
  };
}

/** The email or SMS provider used when its channel has no configuration: accepts, logs, sends nothing; reports receipts as `receipts` says. */
export function createSandboxMessageProvider<M extends { to: string; metadata?: Record<string, string> }>(
  channelProvider: string,
  logger: Logger,
  receipts: SandboxReceipts = NO_RECEIPTS(logger),
): MessageProvider<M> {
  const name = `sandbox-${channelProvider}`;
  return {
    name,
    mode: 'sandbox',
    async send(message, deliveryKey) {
      const providerMessageId = `sandbox-${randomUUID()}`;
      logger.info({ provider: name, deliveryKey, to: message.to }, `sandbox message accepted (no provider configured; nothing left this machine); ${receipts.promise}`);
      // An email's or SMS's delivery key is its notification id (activities/message-delivery.ts).
      receipts.schedule({ notificationId: message.metadata?.notificationId ?? deliveryKey, deliveryKey, provider: name, providerMessageId });
      return { provider: name, providerMessageId };
    },
    async close() {},
  };
}
