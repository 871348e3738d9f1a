import { Prisma, type Db } from './db';
import { DEFAULT_TEMPLATES } from './default-templates';

/**
 * Publishes version 1 of each default template (every channel and locale) where no version of that
 * key, channel and locale exists yet; never overwrites edits. A database seeded by an older release
 * gets only the templates it lacks, such as the email and SMS ones next to its push ones.
 */
export async function ensureDefaultTemplates(db: Db): Promise<number> {
  const existing = await db.template.findMany({ select: { key: true, channel: true, locale: true }, distinct: ['key', 'channel', 'locale'] });
  const have = new Set(existing.map((t) => `${t.key}|${t.channel}|${t.locale}`));
  const missing = DEFAULT_TEMPLATES.filter((t) => !have.has(`${t.key}|${t.channel}|${t.locale}`));
  if (missing.length === 0) return 0;
  const result = await db.template.createMany({
    data: missing.map((t) => ({
      key: t.key,
      channel: t.channel,
      locale: t.locale,
      subject: t.subject,
      body: t.body,
      bodyHtml: t.bodyHtml ?? null,
      imageUrl: t.imageUrl ?? null,
      deepLink: t.deepLink ?? null,
      actions: t.actions?.length ? t.actions : Prisma.DbNull,
      actionCategory: t.actionCategory ?? null,
      version: 1,
      state: 'published' as const,
    })),
    // Two processes seeding at once: the unique (key, channel, locale, version) keeps one of each.
    skipDuplicates: true,
  });
  return result.count;
}
