// The per-event hot path in plain SQL: Prisma's query compiler costs 2-4x the CPU of a raw
// statement (measured), and these run several times for every order event.
import type { Channel, LifecyclePosition, NotificationKind, OrderEvent, Platform, PreferenceState, PushTarget, Recipient } from '../domain';
import { Prisma, type Db } from '../lib/db';
import { preferenceStateColumns } from './preferences';

export interface RecipientRow {
  customerId: string | null;
  name: string | null;
  locale: string | null;
  timeZone: string | null;
  quietHoursStart: string | null;
  quietHoursEnd: string | null;
  devices: Array<{ deviceId: string; appDeviceId: string; platform: Platform; token: string; app: string | null; keys: { p256dh: string; auth: string } | null; timeZone: string | null; locale: string | null }>;
  email: string | null;
  phone: string | null;
  /** Preference rows and the latest consent record per channel and category (store/preferences.ts). */
  preferences: PreferenceState['preferences'];
  consents: PreferenceState['consents'];
  eventProcessed: boolean;
  /** The workflow run that settled the event, when one recorded it. */
  eventSettledByRun: string | null;
}

export async function selectRecipient(db: Db, customerId: string, eventId: string): Promise<RecipientRow> {
  const [row] = await db.$queryRaw<RecipientRow[]>`
    SELECT c.id AS "customerId", c.name, c.locale, c."timeZone", c."quietHoursStart", c."quietHoursEnd",
      COALESCE((SELECT json_agg(json_build_object('deviceId', d.id, 'appDeviceId', d."deviceId", 'platform', d.platform, 'token', d.token, 'app', d.app, 'keys', d."webPushKeys", 'timeZone', d."timeZone", 'locale', d.locale)
                                ORDER BY d."lastSeenAt" DESC)
                FROM "Device" d WHERE d."customerId" = c.id AND d.active), '[]'::json) AS devices,
      c.email, c.phone,
      ${preferenceStateColumns(Prisma.sql`c.id`)},
      COALESCE((SELECT e."processedAt" IS NOT NULL FROM "OrderEvent" e WHERE e."eventId" = ${eventId}), false) AS "eventProcessed",
      (SELECT e."settledByRun" FROM "OrderEvent" e WHERE e."eventId" = ${eventId}) AS "eventSettledByRun"
    FROM (SELECT 1) AS one LEFT JOIN "Customer" c ON c.id = ${customerId}`;
  return row!;
}

/** The customer of a recipient row as decisions read it, or null when there is no such customer. */
export const customerOf = (row: RecipientRow): Recipient['customer'] =>
  row.customerId
    ? {
        id: row.customerId,
        name: row.name,
        locale: row.locale ?? 'en',
        timeZone: row.timeZone ?? 'UTC',
        quietHours: row.quietHoursStart && row.quietHoursEnd ? { start: row.quietHoursStart, end: row.quietHoursEnd } : null,
      }
    : null;

export const targetsOf = (row: RecipientRow): PushTarget[] =>
  row.devices.map((d) => ({
    deviceId: d.deviceId,
    appDeviceId: d.appDeviceId,
    platform: d.platform,
    token: d.token,
    app: d.app,
    ...(d.keys ? { keys: d.keys } : {}),
    ...(d.timeZone ? { timeZone: d.timeZone } : {}),
    ...(d.locale ? { locale: d.locale } : {}),
  }));

export interface NotificationFields {
  id: string;
  event: OrderEvent;
  kind: NotificationKind;
  /** Push unless said otherwise. */
  channel?: Channel;
  /** The email address or phone number of an email or SMS notification. */
  address?: string | null;
  status: 'queued' | 'suppressed' | 'failed';
  suppressionReason?: string | null;
  failureReason?: string | null;
  template?: { id: string; version: number; locale: string; title: string; body: string } | null;
  /** Held back on purpose until then (quiet hours, a digest window). */
  held?: { reason: 'quiet_hours' | 'digest'; until: string };
  /** A backup step's notification: the plan step and why it went. */
  escalation?: { step: number; reason: string | null } | null;
  /** The experiment whose variant the notification carries (store/experiments.ts). */
  experiment?: { id: string; variant: string } | null;
}

/** Creates the notification unless it exists (a retried activity or a re-signalled event keeps the first). */
export function insertNotification(db: Db, n: NotificationFields) {
  const t = n.template ?? null;
  return db.$executeRaw`
    INSERT INTO "Notification" (id, "orderId", "customerId", "eventId", type, priority, category, channel, status,
      "suppressionReason", "failureReason", "templateId", "templateVersion", locale, title, body, address, "heldUntil", "holdReason", "planStep", "escalationReason", "experimentId", variant, "createdAt", "updatedAt")
    VALUES (${n.id}, ${n.event.orderId}, ${n.event.customerId}, ${n.event.eventId}, ${n.kind.type},
      ${n.kind.priority}::"Priority", ${n.kind.category}::"Category", ${n.channel ?? 'push'}::"Channel", ${n.status}::"NotificationStatus",
      ${n.suppressionReason ?? null}, ${n.failureReason ?? null}, ${t?.id ?? null}, ${t?.version ?? null}, ${t?.locale ?? null},
      ${t?.title ?? null}, ${t?.body ?? null}, ${n.address ?? null}, ${n.held ? new Date(n.held.until) : null}, ${n.held?.reason ?? null},
      ${n.escalation?.step ?? 0}, ${n.escalation?.reason ?? null}, ${n.experiment?.id ?? null}, ${n.experiment?.variant ?? null}, now(), now())
    ON CONFLICT (id) DO NOTHING`;
}

/** Marks the event handled and, when it moved the order on, stores the order's new position: one statement. */
export function settleEvent(db: Db, event: OrderEvent, position: LifecyclePosition | null, runId: string | null = null) {
  if (!position) {
    return db.$executeRaw`
      UPDATE "OrderEvent" SET disposition = 'out_of_order'::"EventDisposition", "processedAt" = now() WHERE "eventId" = ${event.eventId}`;
  }
  const occurredAt = position.occurredAt ? new Date(position.occurredAt) : null;
  return db.$executeRaw`
    WITH settled AS (
      UPDATE "OrderEvent" SET disposition = 'announced'::"EventDisposition", "processedAt" = now(), "settledByRun" = ${runId}
      WHERE "eventId" = ${event.eventId}
    )
    INSERT INTO "Order" ("orderId", "customerId", stage, status, "occurredAt", "updatedAt")
    VALUES (${event.orderId}, ${event.customerId}, ${position.stage}, ${position.status}, ${occurredAt}::timestamptz AT TIME ZONE 'UTC', now())
    ON CONFLICT ("orderId") DO UPDATE SET "customerId" = EXCLUDED."customerId", stage = EXCLUDED.stage,
      status = EXCLUDED.status, "occurredAt" = EXCLUDED."occurredAt", "updatedAt" = now()`;
}

export function finishNotification(db: Db, id: string, outcome: { sent: boolean; failureReason: string | null }) {
  // Sent once: the first delivery that succeeds sets sentAt. A receipt may have moved the status on
  // already (it can arrive before this statement runs); the status then stays where the receipt put it.
  // The first send of an experiment's message to a customer is their exposure: their attribution window starts.
  return outcome.sent
    ? db.$executeRaw`
        WITH exposed AS (
          -- Runs whether or not the outer statement reads it; it sees the notification as it was before (one snapshot).
          UPDATE "ExperimentAssignment" a SET "exposedAt" = now()
          FROM "Notification" n
          WHERE n.id = ${id} AND n."sentAt" IS NULL AND n.status <> 'suppressed'::"NotificationStatus"
            AND a."experimentId" = n."experimentId" AND a."customerId" = n."customerId" AND a."exposedAt" IS NULL
        )
        -- The statement's count is the notification's (1 when this send made it sent): callers count sends by it.
        UPDATE "Notification" SET
          status = CASE WHEN status IN ('queued'::"NotificationStatus", 'failed'::"NotificationStatus") THEN 'sent'::"NotificationStatus" ELSE status END,
          "sentAt" = now(), "failureReason" = ${outcome.failureReason}, "updatedAt" = now()
        WHERE id = ${id} AND "sentAt" IS NULL AND status <> 'suppressed'::"NotificationStatus"`
    : db.$executeRaw`
        UPDATE "Notification" SET status = 'failed'::"NotificationStatus", "failureReason" = ${outcome.failureReason}, "updatedAt" = now()
        WHERE id = ${id} AND status = 'queued'::"NotificationStatus"`;
}

export interface AttemptFields {
  id: string;
  notificationId: string;
  /** The device of a push; null for email and SMS. */
  deviceId: string | null;
  /** Push unless said otherwise. */
  channel?: Channel;
  /** The email address or phone number of an email or SMS. */
  address?: string | null;
  provider: string;
  attemptNumber: number;
}

export function openAttempt(db: Db, a: AttemptFields) {
  return db.$executeRaw`
    INSERT INTO "DeliveryAttempt" (id, "notificationId", "deviceId", channel, address, provider, status, "attemptNumber", "startedAt")
    VALUES (${a.id}, ${a.notificationId}, ${a.deviceId}, ${a.channel ?? 'push'}::"Channel", ${a.address ?? null}, ${a.provider},
      'sending'::"AttemptStatus", ${a.attemptNumber}, now())
    ON CONFLICT (id) DO NOTHING`;
}

export function closeAttemptSent(db: Db, id: string, providerMessageId: string | null) {
  return db.$executeRaw`
    UPDATE "DeliveryAttempt" SET status = 'sent'::"AttemptStatus", "providerMessageId" = ${providerMessageId}, "finishedAt" = now() WHERE id = ${id}`;
}

export function closeAttemptFailed(db: Db, id: string, e: { code: string; message: string; retryable: boolean }) {
  return db.$executeRaw`
    UPDATE "DeliveryAttempt" SET status = 'failed'::"AttemptStatus", "errorCode" = ${e.code}, "errorMessage" = ${e.message},
      retryable = ${e.retryable}, "finishedAt" = now() WHERE id = ${id}`;
}

/** An earlier attempt still 'sending' died with its worker; say so rather than leave it open. */
export function abandonEarlierAttempts(db: Db, notificationId: string, deviceId: string | null, beforeAttempt: number) {
  return db.$executeRaw`
    UPDATE "DeliveryAttempt" SET status = 'failed'::"AttemptStatus", "errorCode" = 'abandoned',
      "errorMessage" = 'the worker stopped before the provider answered', retryable = true, "finishedAt" = now()
    WHERE "notificationId" = ${notificationId} AND "deviceId" IS NOT DISTINCT FROM ${deviceId} AND status = 'sending'::"AttemptStatus"
      AND "attemptNumber" < ${beforeAttempt}`;
}
