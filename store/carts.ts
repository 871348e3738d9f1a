// Carts, their events and their reminders in PostgreSQL: what the API stores and reads, and what the cart
// workflow's activities record. Plain SQL where a statement runs for every event.
import type { CartClosedReason, CartItem, Channel, SuppressionReason } from '../domain';
import { CART_REMINDER_KIND } from '../domain';
import { Prisma, type Db } from '../lib/db';

export interface StoredCartEvent {
  eventId: string;
  cartId: string;
  customerId: string;
  type: string;
  occurredAt: Date;
  items: CartItem[];
  currency: string;
  /** Decimal, as text. */
  total: string;
  recoveryUrl: string | null;
  receivedAt: Date;
  signalledAt: Date | null;
}

export interface CartEventFields {
  eventId: string;
  cartId: string;
  customerId: string;
  type: string;
  occurredAt: string;
  items: CartItem[];
  currency: string;
  total: string;
  recoveryUrl: string | null;
}

/**
 * Stores a cart event unless its eventId is known, and moves the cart to it when it is the cart's newest:
 * one transaction, so the outbox row and the cart's state never disagree. Answers the stored row and whether
 * this call stored it.
 */
export async function storeCartEvent(db: Db, e: CartEventFields): Promise<{ row: StoredCartEvent; created: boolean }> {
  return db.$transaction(async (tx) => {
    // The cart row first: the event's foreign key needs it, and a newer event already applied is kept.
    await tx.$executeRaw`
      INSERT INTO "Cart" ("cartId", "customerId", status, items, currency, total, "recoveryUrl", "lastUpdatedAt", "lastEventId", "createdAt", "updatedAt")
      VALUES (${e.cartId}, ${e.customerId}, 'open'::"CartStatus", ${JSON.stringify(e.items)}::jsonb, ${e.currency}, ${e.total}::numeric,
        ${e.recoveryUrl}, ${e.occurredAt}::timestamptz AT TIME ZONE 'UTC', ${e.eventId}, now(), now())
      ON CONFLICT ("cartId") DO NOTHING`;
    const created = await tx.$queryRaw<StoredCartEvent[]>`
      INSERT INTO "CartEvent" ("eventId", "cartId", "customerId", type, "occurredAt", items, currency, total, "recoveryUrl", "receivedAt")
      VALUES (${e.eventId}, ${e.cartId}, ${e.customerId}, ${e.type}, ${e.occurredAt}::timestamptz AT TIME ZONE 'UTC',
        ${JSON.stringify(e.items)}::jsonb, ${e.currency}, ${e.total}::numeric, ${e.recoveryUrl}, now())
      ON CONFLICT ("eventId") DO NOTHING
      RETURNING "eventId", "cartId", "customerId", type, "occurredAt", items, currency, total::text AS total, "recoveryUrl", "receivedAt", "signalledAt"`;
    if (created[0]) {
      // An update reopens a cart its workflow closed (a new run starts); a checkout or emptying is left for the workflow to record.
      await tx.$executeRaw`
        UPDATE "Cart" SET items = ${JSON.stringify(e.items)}::jsonb, currency = ${e.currency}, total = ${e.total}::numeric,
          "recoveryUrl" = ${e.recoveryUrl}, "lastEventId" = ${e.eventId},
          "lastUpdatedAt" = CASE WHEN ${e.type} = 'updated' THEN ${e.occurredAt}::timestamptz AT TIME ZONE 'UTC' ELSE "lastUpdatedAt" END,
          status = CASE WHEN ${e.type} = 'updated' THEN 'open'::"CartStatus" ELSE status END,
          "closedAt" = CASE WHEN ${e.type} = 'updated' THEN NULL ELSE "closedAt" END,
          "closedReason" = CASE WHEN ${e.type} = 'updated' THEN NULL ELSE "closedReason" END,
          "updatedAt" = now()
        WHERE "cartId" = ${e.cartId} AND "lastUpdatedAt" <= ${e.occurredAt}::timestamptz AT TIME ZONE 'UTC'`;
      return { row: created[0], created: true };
    }
    const [row] = await tx.$queryRaw<StoredCartEvent[]>`
      SELECT "eventId", "cartId", "customerId", type, "occurredAt", items, currency, total::text AS total, "recoveryUrl", "receivedAt", "signalledAt"
      FROM "CartEvent" WHERE "eventId" = ${e.eventId}`;
    // The eventId belongs to another cart (a 409): the cart row made for it above holds no event and goes.
    if (row!.cartId !== e.cartId) await tx.$executeRaw`DELETE FROM "Cart" WHERE "cartId" = ${e.cartId} AND NOT EXISTS (SELECT 1 FROM "CartEvent" WHERE "cartId" = ${e.cartId})`;
    return { row: row!, created: false };
  });
}

export function markCartEventSignalled(db: Db, eventId: string) {
  return db.$executeRaw`UPDATE "CartEvent" SET "signalledAt" = now() WHERE "eventId" = ${eventId}`;
}

/** A stored cart event's columns as StoredCartEvent has them, over `alias`: what the relay reads of the rows it owes. */
export function cartEventColumns(alias: string) {
  const c = (name: string) => `${alias}."${name}"`;
  return Prisma.raw(
    [c('eventId'), c('cartId'), c('customerId'), `${alias}.type`, c('occurredAt'), `${alias}.items`, `${alias}.currency`, `${alias}.total::text AS total`, c('recoveryUrl'), c('receivedAt'), c('signalledAt')].join(', '),
  );
}

/** Whether an earlier event of the cart is not signalled yet (being retried, or Temporal was away): a later one waits behind it, so the cart's run gets them in order. */
export async function cartEventWaiting(db: Db, cartId: string, eventId: string): Promise<boolean> {
  const [row] = await db.$queryRaw<Array<{ waiting: boolean }>>`
    SELECT EXISTS (SELECT 1 FROM "CartEvent" WHERE "cartId" = ${cartId} AND "signalledAt" IS NULL AND "eventId" <> ${eventId}) AS waiting`;
  return row?.waiting === true;
}

/** The open carts an order may end: the one it names, or every open cart of its customer. */
export async function openCartsFor(db: Db, customerId: string, cartId: string | null): Promise<string[]> {
  const rows = cartId
    ? await db.$queryRaw<Array<{ cartId: string }>>`SELECT "cartId" FROM "Cart" WHERE "cartId" = ${cartId} AND status = 'open'::"CartStatus"`
    : await db.$queryRaw<Array<{ cartId: string }>>`SELECT "cartId" FROM "Cart" WHERE "customerId" = ${customerId} AND status = 'open'::"CartStatus"`;
  return rows.map((r) => r.cartId);
}

export function loadCartEvent(db: Db, eventId: string) {
  return db.$queryRaw<StoredCartEvent[]>`
    SELECT "eventId", "cartId", "customerId", type, "occurredAt", items, currency, total::text AS total, "recoveryUrl", "receivedAt", "signalledAt"
    FROM "CartEvent" WHERE "eventId" = ${eventId}`.then((rows) => rows[0] ?? null);
}

export interface CartReminderFields {
  id: string;
  cartId: string;
  cartEventId: string;
  customerId: string;
  channel: Channel;
  address: string | null;
  status: 'queued' | 'suppressed' | 'failed';
  suppressionReason?: SuppressionReason | null;
  failureReason?: string | null;
  template?: { id: string; version: number; locale: string; title: string; body: string } | null;
  held?: { reason: 'quiet_hours'; until: string } | null;
}

/**
 * Records a reminder's decision. A reminder still queued (it waited for quiet hours to end) takes the new
 * decision, and keeps when it was first held; one already sent, suppressed or failed keeps what it was.
 */
export function upsertCartReminder(db: Db, n: CartReminderFields) {
  const t = n.template ?? null;
  const kind = CART_REMINDER_KIND;
  return db.$executeRaw`
    INSERT INTO "Notification" (id, "orderId", "customerId", "eventId", "cartId", "cartEventId", type, priority, category, channel, status,
      "suppressionReason", "failureReason", "templateId", "templateVersion", locale, title, body, address, "heldUntil", "holdReason", "createdAt", "updatedAt")
    VALUES (${n.id}, NULL, ${n.customerId}, NULL, ${n.cartId}, ${n.cartEventId}, ${kind.type}, ${kind.priority}::"Priority", ${kind.category}::"Category",
      ${n.channel}::"Channel", ${n.status}::"NotificationStatus", ${n.suppressionReason ?? null}, ${n.failureReason ?? null},
      ${t?.id ?? null}, ${t?.version ?? null}, ${t?.locale ?? null}, ${t?.title ?? null}, ${t?.body ?? null}, ${n.address},
      ${n.held ? new Date(n.held.until) : null}, ${n.held?.reason ?? null}, now(), now())
    ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, "suppressionReason" = EXCLUDED."suppressionReason",
      "failureReason" = EXCLUDED."failureReason", "templateId" = EXCLUDED."templateId", "templateVersion" = EXCLUDED."templateVersion",
      locale = EXCLUDED.locale, title = EXCLUDED.title, body = EXCLUDED.body, address = EXCLUDED.address,
      "heldUntil" = COALESCE("Notification"."heldUntil", EXCLUDED."heldUntil"), "holdReason" = COALESCE("Notification"."holdReason", EXCLUDED."holdReason"),
      "updatedAt" = now()
    WHERE "Notification".status = 'queued'::"NotificationStatus" AND "Notification"."sentAt" IS NULL`;
}

/** A reminder's current status, or null before it was first recorded. */
export async function cartReminderStatus(db: Db, id: string): Promise<{ status: string; suppressionReason: string | null; failureReason: string | null } | null> {
  const [row] = await db.$queryRaw<Array<{ status: string; suppressionReason: string | null; failureReason: string | null }>>`
    SELECT status::text AS status, "suppressionReason", "failureReason" FROM "Notification" WHERE id = ${id}`;
  return row ?? null;
}

/** A reminder that waited and will not go: the cart changed or ended first. */
export function withdrawCartReminder(db: Db, id: string, reason: 'cart_updated' | 'cart_closed') {
  return db.$executeRaw`
    UPDATE "Notification" SET status = 'suppressed'::"NotificationStatus", "suppressionReason" = ${reason}, "updatedAt" = now()
    WHERE id = ${id} AND status = 'queued'::"NotificationStatus" AND "sentAt" IS NULL`;
}

export interface CartClosure {
  cartId: string;
  reason: CartClosedReason;
  /** The order that ended it, and whether a reminder had gone before it (the cart converted). */
  orderId?: string | null;
  converted?: boolean;
}

/** Records how the cart ended, unless a newer update reopened it meanwhile (that run records its own end). */
export function closeCart(db: Db, c: CartClosure, sinceUpdate: string | null) {
  return db.$executeRaw`
    UPDATE "Cart" SET status = ${c.reason}::"CartStatus", "closedAt" = now(), "closedReason" = ${c.reason},
      "convertedAt" = CASE WHEN ${c.converted ?? false} THEN now() ELSE "convertedAt" END,
      "convertedOrderId" = CASE WHEN ${c.converted ?? false} THEN ${c.orderId ?? null} ELSE "convertedOrderId" END,
      "updatedAt" = now()
    WHERE "cartId" = ${c.cartId}
      AND (${sinceUpdate}::timestamptz IS NULL OR "lastUpdatedAt" <= ${sinceUpdate}::timestamptz AT TIME ZONE 'UTC')`;
}
