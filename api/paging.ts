// Path ids and cursor pagination shared by the list endpoints.
import { HttpError } from './errors';
import { pathIdSchema } from './schemas';

/** A path parameter checked like every id (400 naming it when it is not one). */
export function idParam(name: string, raw: unknown): string {
  const parsed = pathIdSchema.safeParse(raw);
  if (!parsed.success) {
    const reason = parsed.error.issues[0]!.message;
    throw new HttpError(400, 'validation_failed', `invalid ${name}: ${reason}`, [{ field: name, reason }]);
  }
  return parsed.data;
}

export const invalidCursor = (): HttpError =>
  new HttpError(400, 'validation_failed', 'invalid cursor: use the nextCursor of a previous page', [{ field: 'cursor', reason: 'is not a cursor this API issued' }]);

/** Opaque cursor of a newest-first list ordered by (createdAt, id). */
export const encodeTimeCursor = (row: { createdAt: Date; id: string }): string =>
  Buffer.from(JSON.stringify([row.createdAt.toISOString(), row.id])).toString('base64url');

export function decodeTimeCursor(cursor: string): { createdAt: Date; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    const date = new Date(createdAt as string);
    if (typeof createdAt !== 'string' || typeof id !== 'string' || id.includes('\u0000') || Number.isNaN(date.getTime())) throw new Error('bad cursor');
    return { createdAt: date, id };
  } catch {
    throw invalidCursor();
  }
}

/** Rows strictly after the cursor in (createdAt desc, id desc) order. */
export const olderThan = (after: { createdAt: Date; id: string }) => ({
  OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
});
