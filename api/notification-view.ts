// One notification as the API shows it (delivery history, GET /v1/notifications/:id): the record,
// its attempts and, for the detail view, its receipts.
import { explainNotification, reasonLabel, HOLD_LABELS, type BackupReason, type HoldReason } from '../domain';
import { Prisma } from '../lib/db';
import type { NotificationDetailView, NotificationView } from './response-schemas';
import { receiptView } from './receipts';

export const withAttempts = {
  attempts: { orderBy: { startedAt: 'asc' }, include: { device: { select: { deviceId: true, platform: true } } } },
} satisfies Prisma.NotificationInclude;

export const withAttemptsAndReceipts = {
  ...withAttempts,
  receipts: { orderBy: [{ occurredAt: 'asc' }, { receivedAt: 'asc' }] },
} satisfies Prisma.NotificationInclude;

export type NotificationRow = Prisma.NotificationGetPayload<{ include: typeof withAttempts }>;
export type NotificationDetailRow = Prisma.NotificationGetPayload<{ include: typeof withAttemptsAndReceipts }>;

export function notificationView(n: NotificationRow): NotificationView {
  const holdReason = n.holdReason === 'quiet_hours' || n.holdReason === 'digest' ? (n.holdReason as HoldReason) : null;
  return {
    notificationId: n.id,
    orderId: n.orderId,
    customerId: n.customerId,
    eventId: n.eventId,
    type: n.type,
    priority: n.priority,
    category: n.category,
    channel: n.channel,
    address: n.address,
    status: n.status,
    suppressionReason: n.suppressionReason,
    suppressionLabel: reasonLabel(n.suppressionReason),
    failureReason: n.failureReason,
    failureLabel: reasonLabel(n.failureReason),
    template: n.templateId ? { id: n.templateId, version: n.templateVersion, locale: n.locale } : null,
    holdReason,
    holdLabel: holdReason ? HOLD_LABELS[holdReason] : null,
    heldUntil: holdReason ? n.heldUntil : null,
    escalation: n.planStep > 0 ? { step: n.planStep, reason: (n.escalationReason as BackupReason | null) ?? null, label: reasonLabel(n.escalationReason) } : null,
    explanation: explainNotification(n),
    held: n.heldUntil && n.holdReason ? { reason: n.holdReason as 'quiet_hours' | 'digest', until: n.heldUntil } : null,
    replacedBy: n.replacedBy,
    title: n.title,
    body: n.body,
    createdAt: n.createdAt,
    sentAt: n.sentAt,
    deliveredAt: n.deliveredAt,
    attempts: n.attempts.map((a) => ({
      attemptId: a.id,
      deviceId: a.device?.deviceId ?? null,
      platform: a.device?.platform ?? null,
      channel: a.channel,
      address: a.address,
      provider: a.provider,
      status: a.status,
      attemptNumber: a.attemptNumber,
      providerMessageId: a.providerMessageId,
      errorCode: a.errorCode,
      errorMessage: a.errorMessage,
      startedAt: a.startedAt,
      finishedAt: a.finishedAt,
    })),
  };
}

/** The history's shape, with opens, clicks and receipts. */
export function notificationDetailView(n: NotificationDetailRow): NotificationDetailView {
  return { ...notificationView(n), openedAt: n.openedAt, clickedAt: n.clickedAt, receipts: n.receipts.map(receiptView) };
}
