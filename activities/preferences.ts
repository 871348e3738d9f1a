// A customer's preference rows and consent records, in the shape domain/preferences.ts decides on. One plain
// statement: it runs on the per-event path (see activities/store.ts for why not the Prisma query compiler).
import type { PreferenceState } from '../domain';
import type { Db } from '../lib/db';

/**
 * Loads the customer's preference rows and, of the append-only consent history, only the latest record per
 * (channel, category), which is all the decision reads (received together, a withdrawal wins). An unknown
 * customer has neither. Times are ISO strings, so the state crosses Temporal payloads unchanged.
 */
/** Prisma keeps DateTime as UTC timestamp(3). */
const ISO = 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"';

export async function loadPreferenceState(db: Db, customerId: string): Promise<PreferenceState> {
  const [row] = await db.$queryRaw<PreferenceState[]>`
    SELECT
      COALESCE((SELECT json_agg(json_build_object('channel', p.channel, 'category', p.category, 'optedIn', p."optedIn")
                                ORDER BY p.channel, p.category)
                FROM "Preference" p WHERE p."customerId" = ${customerId}), '[]'::json) AS preferences,
      COALESCE((SELECT json_agg(json_build_object('channel', c.channel, 'category', c.category, 'granted', c.granted,
                                  'source', c.source, 'recordedAt', to_char(c."recordedAt", ${ISO}),
                                  'receivedAt', to_char(c."receivedAt", ${ISO}))
                                ORDER BY c.channel, c.category)
                FROM (SELECT DISTINCT ON (channel, category) channel, category, granted, source, "recordedAt", "receivedAt"
                      FROM "ConsentRecord" WHERE "customerId" = ${customerId}
                      ORDER BY channel, category, "receivedAt" DESC, granted ASC) c), '[]'::json) AS consents`;
  return row!;
}
