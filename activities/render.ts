import { Liquid, type Template as LiquidTemplate } from 'liquidjs';
import { ApplicationFailure } from '@temporalio/activity';
import { localeChain } from '../domain';
import type { Db } from '../lib/db';

export type RenderChannel = 'push' | 'email' | 'sms' | 'inapp';

export interface RenderRequest {
  key: string;
  channel: RenderChannel;
  locale: string | null;
  variables: Record<string, unknown>;
}

export interface RenderedMessage {
  templateId: string;
  templateVersion: number;
  locale: string;
  subject: string;
  body: string;
  /** The HTML part, rendered with output escaping; only when the template has `bodyHtml` (email). */
  html?: string;
}

type TemplateRow = Awaited<ReturnType<Db['template']['findMany']>>[number];

/**
 * The template channels that may serve a channel, preferred first. The in-app inbox shows the push
 * title and body unless an `inapp` template has been published for the key.
 */
function templateChannels(channel: RenderChannel): RenderChannel[] {
  return channel === 'inapp' ? ['inapp', 'push'] : [channel];
}

/**
 * Renders the newest published template for the first locale of the fallback chain that has one
 * (for `inapp`, an `inapp` template in a locale beats a `push` one in that locale, but the reader's
 * language comes first). Which template applies is remembered for `cacheMs`, so a newly published
 * version takes effect within that time rather than costing a query on every message.
 */
export function createRenderer(db: Db, defaultLocale = 'en', cacheMs = 30_000) {
  const chosen = new Map<string, { template: TemplateRow | undefined; until: number }>();
  const liquid = new Liquid({ cache: false, strictFilters: true, ownPropertyOnly: true });
  // HTML escapes every output at parse time, so customer data (a name, a reason) cannot inject markup.
  const htmlLiquid = new Liquid({ cache: false, strictFilters: true, ownPropertyOnly: true, outputEscape: 'escape' });
  // Published versions never change, so their parsed form can be kept by template id.
  const parsed = new Map<string, { subject: LiquidTemplate[]; body: LiquidTemplate[]; html: LiquidTemplate[] | null }>();

  return async function render(request: RenderRequest): Promise<RenderedMessage> {
    const locales = localeChain(request.locale, defaultLocale);
    const channels = templateChannels(request.channel);
    const cacheKey = `${request.key}|${request.channel}|${locales.join(',')}`;
    let entry = chosen.get(cacheKey);
    if (!entry || entry.until < Date.now()) {
      const candidates = await db.template.findMany({
        where: { key: request.key, channel: { in: channels }, state: 'published', locale: { in: locales } },
        orderBy: { version: 'desc' },
      });
      const template = locales
        .flatMap((l) => channels.map((c) => candidates.find((t) => t.locale === l && t.channel === c)))
        .find((t) => t !== undefined);
      entry = { template, until: Date.now() + cacheMs };
      chosen.set(cacheKey, entry);
    }
    const template = entry.template;
    if (!template) {
      throw ApplicationFailure.nonRetryable(
        `no published ${channels.join(' or ')} template '${request.key}' for locales ${locales.join(', ')}`,
        'TemplateMissing',
      );
    }
    let compiled = parsed.get(template.id);
    if (!compiled) {
      compiled = {
        subject: liquid.parse(template.subject),
        body: liquid.parse(template.body),
        html: template.bodyHtml ? htmlLiquid.parse(template.bodyHtml) : null,
      };
      parsed.set(template.id, compiled);
    }
    const [subject, body, html] = await Promise.all([
      liquid.render(compiled.subject, request.variables),
      liquid.render(compiled.body, request.variables),
      compiled.html ? htmlLiquid.render(compiled.html, request.variables) : undefined,
    ]);
    return {
      templateId: template.id,
      templateVersion: template.version,
      locale: template.locale,
      subject: subject.trim(),
      body: body.trim(),
      ...(typeof html === 'string' ? { html: html.trim() } : {}),
    };
  };
}
