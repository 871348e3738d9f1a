// Which stored template serves a message: the lookup the worker's renderer and the template API share.
import type { Db } from '../lib/db';

export type RenderChannel = 'push' | 'email' | 'sms' | 'inapp';

export type TemplateRow = Awaited<ReturnType<Db['template']['findMany']>>[number];

/**
 * The template channels that may serve a channel, preferred first. The in-app inbox shows the push
 * title and body unless an `inapp` template has been published for the key.
 */
export function templateChannels(channel: RenderChannel): RenderChannel[] {
  return channel === 'inapp' ? ['inapp', 'push'] : [channel];
}

/**
 * The published template for the first locale of the chain that has one (for `inapp`, an `inapp`
 * template in a locale beats a `push` one in that locale, but the reader's language comes first).
 */
export async function publishedTemplateFor(db: Db, key: string, channel: RenderChannel, locales: string[]): Promise<TemplateRow | undefined> {
  const channels = templateChannels(channel);
  const candidates = await db.template.findMany({
    where: { key, channel: { in: channels }, state: 'published', locale: { in: locales } },
    orderBy: { version: 'desc' },
  });
  return locales.flatMap((l) => channels.map((c) => candidates.find((t) => t.locale === l && t.channel === c))).find((t) => t !== undefined);
}
