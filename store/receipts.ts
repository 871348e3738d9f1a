// Recording a receipt (delivered, opened, clicked, bounced, complained, failed) for a notification, moving the
// notification forward, and telling its order's workflow. Shared by the app receipt endpoint, the provider webhooks
// (api/receipts.ts puts them in HTTP terms) and the worker's sandbox providers, which report their receipts here.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { CONFIRMING_RECEIPTS, NOTIFICATION_RECEIPT_SIGNAL, orderWorkflowId, type NotificationReceiptSignal, type NotificationStatus, type ReceiptType } from '../domain';
import { Prisma, type Db } from '../lib/db';
import type { Logger } from '../lib/logger';
import { metrics } from '../lib/metrics';
import { createOutboxRelay } from '../lib/outbox';

/** Where a receipt came from. */
export const RECEIPT_SOURCES = ['app', 'email-tracking', 'email-webhook', 'twilio', 'sandbox'] as const;
export type ReceiptSource = (typeof RECEIPT_SOURCES)[number];

export interface ReceiptReport {
  notificationId: string;
  type: ReceiptType;
  source: ReceiptSource;
  occurredAt: Date;
  /** The client's or provider's event id (namespaced by the caller): the same key again records nothing. */
  dedupeKey?: string | null;
  detail?: Prisma.InputJsonObject;
  /** A report that fails the notification (a hard bounce, an undelivered SMS) gives the failureReason to record. */
  failureReason?: string;
  /** Recorded, but neither the notification nor the workflow hears of it (a soft bounce: the provider still retries). */
  recordOnly?: boolean;
}

/** Where a notification stands on its way to the customer. */
export interface NotificationProgress {
  status: NotificationStatus;
  deliveredAt: Date | null;
  openedAt: Date | null;
  clickedAt: Date | null;
}

export interface ProgressChange {
  status?: NotificationStatus;
  failureReason?: string;
  deliveredAt?: Date;
  openedAt?: Date;
  clickedAt?: Date;
}

/** queued/sent → delivered → opened → clicked; a receipt never moves a notification back. */
const PROGRESS: Partial<Record<NotificationStatus, number>> = { queued: 0, sent: 1, delivered: 2, opened: 3, clicked: 4 };

/**
 * What a receipt changes on its notification:
 * - delivered, opened and clicked move the status forward only, and fill deliveredAt/openedAt/clickedAt where empty
 *   (an open implies delivery, a click implies both). On a failed notification they win: the provider was wrong.
 * - a failing receipt (hard bounce, undelivered SMS) fails a queued or sent notification; one already confirmed keeps
 *   its status (the receipt is still recorded).
 * - a suppressed notification was never sent: nothing changes.
 */
export function receiptProgress(current: NotificationProgress, receipt: Pick<ReceiptReport, 'type' | 'occurredAt' | 'failureReason'>): ProgressChange {
  if (current.status === 'suppressed') return {};
  const change: ProgressChange = {};
  const level = PROGRESS[receipt.type as NotificationStatus];
  if (CONFIRMING_RECEIPTS.has(receipt.type) && level !== undefined) {
    const at = receipt.occurredAt;
    if (!current.deliveredAt) change.deliveredAt = at;
    if (level >= PROGRESS.opened! && !current.openedAt) change.openedAt = at;
    if (level >= PROGRESS.clicked! && !current.clickedAt) change.clickedAt = at;
    const now = PROGRESS[current.status];
    if (current.status === 'failed' || (now !== undefined && now < level)) change.status = receipt.type as NotificationStatus;
    return change;
  }
  if (receipt.failureReason !== undefined && (current.status === 'queued' || current.status === 'sent')) {
    change.status = 'failed';
    change.failureReason = receipt.failureReason;
  }
  return change;
}

type ReceiptRow = Prisma.NotificationReceiptGetPayload<object>;

/** One recorded receipt, as the API shows it. */
export interface ReceiptView {
  receiptId: string;
  notificationId: string;
  type: ReceiptType;
  source: string;
  occurredAt: Date;
  receivedAt: Date;
  detail: unknown;
  dedupeKey: string | null;
}

/** What recording a report did. */
export interface ReceiptAcceptedView {
  receipt: ReceiptView;
  /** Recorded before (same dedupe key): nothing changed. */
  duplicate: boolean;
  notificationStatus: NotificationStatus;
  /** Whether the order's workflow took it (false: a duplicate, no running workflow, or left for the relay). */
  signalled: boolean;
}

/** A report that cannot be recorded: no such notification, or its dedupe key names another receipt. */
export class ReceiptRejected extends Error {
  constructor(
    readonly reason: 'unknown_notification' | 'dedupe_key_conflict',
    message: string,
    /** For a conflict: the receipt already recorded under the key. */
    readonly existing?: { notificationId: string; type: string },
  ) {
    super(message);
    this.name = 'ReceiptRejected';
  }
}

export function receiptView(r: ReceiptRow): ReceiptView {
  return {
    receiptId: r.id,
    notificationId: r.notificationId,
    type: r.type as ReceiptType,
    source: r.source,
    occurredAt: r.occurredAt,
    receivedAt: r.receivedAt,
    detail: r.detail,
    dedupeKey: r.dedupeKey,
  };
}

export interface ReceiptRecorder {
  /**
   * Records the receipt and its effect on the notification in one transaction, then signals the order's workflow.
   * Throws ReceiptRejected for an unknown notification and when the dedupe key belongs to a different report.
   */
  record(report: ReceiptReport): Promise<ReceiptAcceptedView>;
  /**
   * Signals the receipts an order workflow is still owed (Temporal was unreachable, or the signal failed); returns how many.
   * One that keeps failing is retried with backoff (lib/outbox.ts) while other orders' receipts go on.
   */
  relayPending(olderThanMs?: number, batch?: number): Promise<number>;
  /** Runs relayPending every `intervalMs`; the returned function stops it and waits for a pass under way. */
  startRelay(intervalMs?: number): () => Promise<void>;
}

/** A receipt the relay still owes its order's workflow. */
interface DueReceipt {
  id: string;
  notificationId: string;
  type: string;
  source: string;
  occurredAt: Date;
  orderId: string | null;
}

interface LockedNotification extends NotificationProgress {
  id: string;
  orderId: string | null;
  customerId: string;
}

export function createReceiptRecorder({ db, temporal, logger, signalDeadlineMs = 3000 }: {
  db: Db;
  temporal: Client;
  logger: Logger;
  /** How long a signal may take before the receipt is answered as recorded but not signalled. */
  signalDeadlineMs?: number;
}): ReceiptRecorder {
  /** An earlier copy of the same report, or a 409 when the key was used for another one. */
  function duplicateOf(existing: ReceiptRow, report: ReceiptReport, status: NotificationStatus): ReceiptAcceptedView {
    if (existing.notificationId !== report.notificationId || existing.type !== report.type) {
      throw new ReceiptRejected(
        'dedupe_key_conflict',
        `this event id was already recorded as a '${existing.type}' receipt for notification ${existing.notificationId}`,
        { notificationId: existing.notificationId, type: existing.type },
      );
    }
    return { receipt: receiptView(existing), duplicate: true, notificationStatus: status, signalled: false };
  }

  async function store(report: ReceiptReport): Promise<{ view: ReceiptAcceptedView; notification: LockedNotification }> {
    return db.$transaction(async (tx) => {
      // The row lock orders concurrent receipts of one notification, so the status only ever moves forward.
      const [notification] = await tx.$queryRaw<LockedNotification[]>`
        SELECT id, "orderId", "customerId", status::text AS status, "deliveredAt", "openedAt", "clickedAt"
        FROM "Notification" WHERE id = ${report.notificationId} FOR UPDATE`;
      if (!notification) throw new ReceiptRejected('unknown_notification', `no notification ${report.notificationId}`);
      if (report.dedupeKey) {
        const existing = await tx.notificationReceipt.findUnique({ where: { dedupeKey: report.dedupeKey } });
        if (existing) return { view: duplicateOf(existing, report, notification.status), notification };
      }
      const detail = report.type === 'complained' ? { ...report.detail, optedOut: 'email/marketing' } : report.detail;
      const receipt = await tx.notificationReceipt.create({
        data: {
          notificationId: report.notificationId,
          type: report.type,
          source: report.source,
          occurredAt: report.occurredAt,
          dedupeKey: report.dedupeKey ?? null,
          // Owed to the order's workflow until it has it: the outbox the relay reads.
          signalDue: !report.recordOnly && notification.orderId !== null,
          ...(detail ? { detail } : {}),
        },
      });
      const change = report.recordOnly ? {} : receiptProgress(notification, report);
      if (Object.keys(change).length) await tx.notification.update({ where: { id: notification.id }, data: change });
      if (report.type === 'complained') {
        // A spam complaint ends marketing email at once; transactional mail (order updates) still goes.
        const customerId = notification.customerId;
        await tx.customer.upsert({ where: { id: customerId }, create: { id: customerId }, update: {} });
        await tx.preference.upsert({
          where: { customerId_channel_category: { customerId, channel: 'email', category: 'marketing' } },
          create: { customerId, channel: 'email', category: 'marketing', optedIn: false },
          update: { optedIn: false },
        });
        await tx.consentRecord.create({ data: { customerId, channel: 'email', category: 'marketing', granted: false, source: 'complaint' } });
      }
      return {
        view: { receipt: receiptView(receipt), duplicate: false, notificationStatus: change.status ?? notification.status, signalled: false },
        notification,
      };
    });
  }

  /** Tells the order's workflow; answers no_workflow when no run is left to tell (a finished order), and throws when the signal fails. */
  async function tell(orderId: string, payload: NotificationReceiptSignal): Promise<'signalled' | 'no_workflow'> {
    const workflowId = orderWorkflowId(orderId);
    try {
      await temporal.withDeadline(Date.now() + signalDeadlineMs, () => temporal.workflow.getHandle(workflowId).signal<[NotificationReceiptSignal]>(NOTIFICATION_RECEIPT_SIGNAL, payload));
      return 'signalled';
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      logger.info({ workflowId, notificationId: payload.notificationId, type: payload.type }, 'order workflow is not running; receipt recorded only');
      return 'no_workflow';
    }
  }

  /** The receipt's outbox entry is settled: its workflow has it, or has none to have it. */
  function settle(receiptId: string) {
    return db.$executeRaw`UPDATE "NotificationReceipt" SET "signalDue" = false WHERE id = ${receiptId}`;
  }

  /**
   * Signals the order's workflow and settles the receipt's outbox entry: signalled, or no workflow to
   * tell (a finished order), both settle it; a signal that fails (Temporal unreachable, or refusing) leaves it for the relay.
   */
  async function signal(receiptId: string, orderId: string, payload: NotificationReceiptSignal): Promise<'signalled' | 'no_workflow' | 'failed'> {
    let outcome: 'signalled' | 'no_workflow';
    try {
      outcome = await tell(orderId, payload);
    } catch (err) {
      logger.warn({ err, workflowId: orderWorkflowId(orderId), notificationId: payload.notificationId, type: payload.type }, 'could not signal the receipt to the order workflow; the relay will retry');
      return 'failed';
    }
    await settle(receiptId);
    return outcome;
  }

  // A receipt's order is its notification's: receipts of one order go to its workflow in order, behind one that keeps failing.
  const orderOf = (r: string) => Prisma.sql`(SELECT n."orderId" FROM "Notification" n WHERE n.id = ${Prisma.raw(r)}."notificationId")`;
  const outbox = createOutboxRelay<DueReceipt>({
    name: 'receipts',
    db,
    temporal,
    logger,
    table: 'NotificationReceipt',
    key: 'id',
    pending: (r) => Prisma.sql`${Prisma.raw(r)}."signalDue"`,
    sequence: { name: 'orderId', of: orderOf },
    select: (r) => Prisma.sql`${Prisma.raw(`${r}.id, ${r}."notificationId", ${r}.type, ${r}.source, ${r}."occurredAt"`)}, ${orderOf(r)} AS "orderId"`,
    send: async (r) => {
      // A notification of no order (none is stored owing a signal today): nothing to tell.
      if (r.orderId) await tell(r.orderId, { notificationId: r.notificationId, type: r.type as NotificationReceiptSignal['type'], occurredAt: r.occurredAt.toISOString(), source: r.source });
      await settle(r.id);
    },
    words: { done: 'relayed receipts to their order workflows' },
  });

  return {
    async record(report) {
      let stored: Awaited<ReturnType<typeof store>>;
      try {
        stored = await store(report);
      } catch (err) {
        // Two copies of one report for different notifications raced past the lookup: the unique key decides.
        if (!(err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002') || !report.dedupeKey) throw err;
        const existing = await db.notificationReceipt.findUniqueOrThrow({ where: { dedupeKey: report.dedupeKey } });
        const notification = await db.notification.findUniqueOrThrow({ where: { id: existing.notificationId }, select: { status: true } });
        return duplicateOf(existing, report, notification.status);
      }
      const { view, notification } = stored;
      if (view.duplicate) return view;
      metrics.receipts.inc({ type: report.type, source: report.source });
      if (report.recordOnly || !notification.orderId) return view;
      const outcome = await signal(view.receipt.receiptId, notification.orderId, {
        notificationId: report.notificationId,
        type: report.type,
        occurredAt: report.occurredAt.toISOString(),
        source: report.source,
      });
      return { ...view, signalled: outcome === 'signalled' };
    },

    relayPending: outbox.relayPending,
    startRelay: outbox.startRelay,
  };
}
