// The in-app inbox's shared SQL: adding a message announces itself on the `herald_inbox` channel in the same
// statement, so every API process can push it to the customer's open streams (api/inbox-hub.ts).
import { randomUUID } from 'node:crypto';
import type { NotificationCategory } from '../domain';
import type { Db } from '../lib/db';

/** The PostgreSQL channel the inbox announces changes on; payload: {@link InboxChange} as JSON. */
export const INBOX_CHANNEL = 'herald_inbox';

/** What an inbox NOTIFY says: which customer's inbox changed, and how. */
export type InboxChange =
  | { kind: 'created'; customerId: string; messageId: string }
  | { kind: 'read'; customerId: string; messageId: string }
  | { kind: 'read'; customerId: string; all: true };

export interface NewInboxMessage {
  /** The notification the message announces; adding the same notification again changes nothing. */
  notificationId: string;
  customerId: string;
  orderId: string | null;
  category: NotificationCategory;
  title: string;
  body: string;
  data: Record<string, unknown>;
}

export interface AddedInboxMessage {
  messageId: string;
  /** False when the notification was already in the inbox (a retried activity or a replayed event). */
  created: boolean;
}

/** The message's customer does not exist (the foreign key refused the row). */
export class InboxCustomerMissing extends Error {}

/** Adds the message unless its notification is there already, and announces it when (and only if) the row commits. */
export async function addInboxMessage(db: Db, input: NewInboxMessage): Promise<AddedInboxMessage> {
  const data = JSON.stringify(input.data ?? {});
  let inserted: Array<{ id: string }>;
  try {
    // Insert and NOTIFY in one statement: the notification is delivered when (and only if) the row commits.
    inserted = await db.$queryRaw<Array<{ id: string }>>`
      WITH inserted AS (
        INSERT INTO "InboxMessage" (id, "customerId", "notificationId", "orderId", category, title, body, data)
        VALUES (${randomUUID()}, ${input.customerId}, ${input.notificationId}, ${input.orderId}, ${input.category},
          ${input.title}, ${input.body}, ${data}::jsonb)
        ON CONFLICT ("notificationId") DO NOTHING
        RETURNING id, "customerId"
      )
      SELECT id, pg_notify(${INBOX_CHANNEL},
        json_build_object('kind', 'created', 'customerId', "customerId", 'messageId', id)::text)::text AS notified
      FROM inserted`;
  } catch (err) {
    if (isForeignKeyViolation(err)) throw new InboxCustomerMissing(`no customer ${input.customerId} for inbox message of notification ${input.notificationId}`);
    throw err;
  }
  if (inserted[0]) return { messageId: inserted[0].id, created: true };
  // Already there. A fresh statement (new snapshot) also sees a row a concurrent attempt just committed.
  const [existing] = await db.$queryRaw<Array<{ id: string }>>`
    SELECT id FROM "InboxMessage" WHERE "notificationId" = ${input.notificationId}`;
  if (!existing) throw new Error(`inbox message of notification ${input.notificationId} was neither inserted nor found`);
  return { messageId: existing.id, created: false };
}

function isForeignKeyViolation(err: unknown): boolean {
  // Raw queries surface the driver's SQLSTATE in the message (and, with the pg adapter, in meta).
  const text = err instanceof Error ? `${err.message} ${JSON.stringify((err as { meta?: unknown }).meta ?? {})}` : String(err);
  return /23503|foreign key constraint/i.test(text);
}
