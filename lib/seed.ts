import type { Db } from './db';
import { DEFAULT_TEMPLATES } from './default-templates';

/** Publishes version 1 of each default template where no version of it exists yet; never overwrites edits. */
export async function ensureDefaultTemplates(db: Db): Promise<number> {
  const existing = await db.template.findMany({ select: { key: true, channel: true, locale: true }, distinct: ['key', 'channel', 'locale'] });
  const have = new Set(existing.map((t) => `${t.key}|${t.channel}|${t.locale}`));
  const missing = DEFAULT_TEMPLATES.filter((t) => !have.has(`${t.key}|${t.channel}|${t.locale}`));
  if (missing.length === 0) return 0;
  const result = await db.template.createMany({
    data: missing.map((t) => ({ ...t, version: 1, state: 'published' as const })),
    skipDuplicates: true,
  });
  return result.count;
}
