// A customer's preference rows and consent records, in the shape domain/preferences.ts decides on. One plain
// statement: it runs on the per-event path (see store/notifications.ts for why not the Prisma query compiler).
import type { PreferenceState } from '../domain';
import { Prisma, type Db } from '../lib/db';

/** Prisma keeps DateTime as UTC timestamp(3). */
const ISO = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';

/**
 * The two columns the decision reads, `preferences` and `consents`, for the customer `customerId` names
 * (a value or a column such as `c.id`): the preference rows and, of the append-only consent history,
 * only the latest record per (channel, category), which is all the decision reads (received together,
 * a withdrawal wins). Times are ISO strings, so the state crosses Temporal payloads unchanged. Shared
 * with the per-event recipient query (store/notifications.ts).
 */
export function preferenceStateColumns(customerId: Prisma.Sql): Prisma.Sql {
  return Prisma.sql`
      COALESCE((SELECT json_agg(json_build_object('channel', p.channel, 'category', p.category, 'optedIn', p."optedIn")
                                ORDER BY p.channel, p.category)
                FROM "Preference" p WHERE p."customerId" = ${customerId}), '[]'::json) AS preferences,
      COALESCE((SELECT json_agg(json_build_object('channel', r.channel, 'category', r.category, 'granted', r.granted,
                                  'source', r.source, 'recordedAt', to_char(r."recordedAt", ${ISO}),
                                  'receivedAt', to_char(r."receivedAt", ${ISO}))
                                ORDER BY r.channel, r.category)
                FROM (SELECT DISTINCT ON (channel, category) channel, category, granted, source, "recordedAt", "receivedAt"
                      FROM "ConsentRecord" WHERE "customerId" = ${customerId}
                      ORDER BY channel, category, "receivedAt" DESC, granted ASC) r), '[]'::json) AS consents`;
}

/** A customer's preference state; an unknown customer has neither rows nor records. */
export async function loadPreferenceState(db: Db, customerId: string): Promise<PreferenceState> {
  const [row] = await db.$queryRaw<PreferenceState[]>`SELECT ${preferenceStateColumns(Prisma.sql`${customerId}`)}`;
  return row!;
}
