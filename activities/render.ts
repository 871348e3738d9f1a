import { Liquid, type Template as LiquidTemplate } from 'liquidjs';
import { ApplicationFailure } from '@temporalio/activity';
import { localeChain } from '../domain';
import type { Db } from '../lib/db';

export interface RenderRequest {
  key: string;
  channel: 'push';
  locale: string | null;
  variables: Record<string, unknown>;
}

export interface RenderedMessage {
  templateId: string;
  templateVersion: number;
  locale: string;
  subject: string;
  body: string;
}

type TemplateRow = Awaited<ReturnType<Db['template']['findMany']>>[number];

/**
 * Renders the newest published template for the first locale of the fallback chain that has one.
 * Which template applies is remembered for `cacheMs`, so a newly published version takes effect
 * within that time rather than costing a query on every message.
 */
export function createRenderer(db: Db, defaultLocale = 'en', cacheMs = 30_000) {
  const chosen = new Map<string, { template: TemplateRow | undefined; until: number }>();
  const liquid = new Liquid({ cache: false, strictFilters: true, ownPropertyOnly: true });
  // Published versions never change, so their parsed form can be kept by template id.
  const parsed = new Map<string, { subject: LiquidTemplate[]; body: LiquidTemplate[] }>();

  return async function render(request: RenderRequest): Promise<RenderedMessage> {
    const locales = localeChain(request.locale, defaultLocale);
    const cacheKey = `${request.key}|${request.channel}|${locales.join(',')}`;
    let entry = chosen.get(cacheKey);
    if (!entry || entry.until < Date.now()) {
      const candidates = await db.template.findMany({
        where: { key: request.key, channel: request.channel, state: 'published', locale: { in: locales } },
        orderBy: { version: 'desc' },
      });
      entry = { template: locales.map((l) => candidates.find((t) => t.locale === l)).find((t) => t !== undefined), until: Date.now() + cacheMs };
      chosen.set(cacheKey, entry);
    }
    const template = entry.template;
    if (!template) {
      throw ApplicationFailure.nonRetryable(
        `no published ${request.channel} template '${request.key}' for locales ${locales.join(', ')}`,
        'TemplateMissing',
      );
    }
    let compiled = parsed.get(template.id);
    if (!compiled) {
      compiled = { subject: liquid.parse(template.subject), body: liquid.parse(template.body) };
      parsed.set(template.id, compiled);
    }
    const [subject, body] = await Promise.all([
      liquid.render(compiled.subject, request.variables),
      liquid.render(compiled.body, request.variables),
    ]);
    return {
      templateId: template.id,
      templateVersion: template.version,
      locale: template.locale,
      subject: subject.trim(),
      body: body.trim(),
    };
  };
}
