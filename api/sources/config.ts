// Configured sources as the pipeline and the routes use them: a Source row read into a SourceConfig.
import type { OrderStatus } from '../../domain';
import type { Db, Prisma } from '../../lib/db';
import type { AdapterName, SourceConfig, ValidationProfile } from './adapter';

export type SourceRow = Prisma.SourceGetPayload<object>;

export function sourceConfigOf(row: SourceRow): SourceConfig {
  return {
    sourceId: row.sourceId,
    adapter: row.adapter as AdapterName,
    secret: row.secret,
    profile: row.profile as unknown as ValidationProfile,
    statusMap: row.statusMap as Record<string, OrderStatus | null>,
    mapping: (row.mapping as Record<string, string> | null) ?? null,
    enabled: row.enabled,
  };
}

/** The configuration of a source, or null when none has this id. */
export async function loadSource(db: Db, sourceId: string): Promise<SourceConfig | null> {
  const row = await db.source.findUnique({ where: { sourceId } });
  return row ? sourceConfigOf(row) : null;
}
