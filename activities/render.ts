import { ApplicationFailure } from '@temporalio/activity';
import { localeChain, type PushRichContent } from '../domain';
import type { Db } from '../lib/db';
import { createTemplateEngines, parseTemplate, renderSettings, renderTemplate, type ParsedTemplate } from '../lib/liquid';
import { publishedTemplateFor, templateChannels, type RenderChannel, type TemplateRow } from '../store/templates';

export interface RenderRequest {
  key: string;
  channel: RenderChannel;
  locale: string | null;
  /** The reader's IANA time zone: dates (`local_date`, `datetime`, `date`) are shown in it; UTC when absent. */
  timeZone?: string;
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
  /** Push: the template's image, deep link and buttons, rendered (lib/push-content.ts); absent when it has none. */
  rich?: PushRichContent;
}

/**
 * Renders the newest published template for the first locale of the fallback chain that has one.
 * Which template applies is remembered for `cacheMs`, so a newly published version takes effect
 * within that time rather than costing a query on every message. `customerLocale` and
 * `customerTimeZone` default to the request's locale and time zone.
 */
export function createRenderer(db: Db, defaultLocale: string, cacheMs: number) {
  const chosen = new Map<string, { template: TemplateRow | undefined; until: number }>();
  const engines = createTemplateEngines();
  // Published versions never change, so their parsed form can be kept by template id.
  const parsed = new Map<string, ParsedTemplate>();

  return async function render(request: RenderRequest): Promise<RenderedMessage> {
    const locales = localeChain(request.locale, defaultLocale);
    const cacheKey = `${request.key}|${request.channel}|${locales.join(',')}`;
    let entry = chosen.get(cacheKey);
    if (!entry || entry.until < Date.now()) {
      entry = { template: await publishedTemplateFor(db, request.key, request.channel, locales), until: Date.now() + cacheMs };
      chosen.set(cacheKey, entry);
    }
    const template = entry.template;
    if (!template) {
      throw ApplicationFailure.nonRetryable(
        `no published ${templateChannels(request.channel).join(' or ')} template '${request.key}' for locales ${locales.join(', ')}`,
        'TemplateMissing',
      );
    }
    let compiled = parsed.get(template.id);
    if (!compiled) {
      compiled = parseTemplate(engines, template);
      parsed.set(template.id, compiled);
    }
    const variables = {
      customerLocale: request.locale,
      ...(request.timeZone ? { customerTimeZone: request.timeZone } : {}),
      ...request.variables,
    };
    const settings = renderSettings(template.locale, request.locale, request.timeZone ?? stringOrNull(request.variables.customerTimeZone));
    let rendered;
    try {
      rendered = await renderTemplate(engines, compiled, variables, settings);
    } catch (err) {
      // The same template and variables fail the same way on every retry (a render limit, say).
      throw ApplicationFailure.nonRetryable(`template ${template.key} v${template.version} (${template.channel}, ${template.locale}) failed to render: ${(err as Error).message}`, 'TemplateRenderFailed');
    }
    return { templateId: template.id, templateVersion: template.version, locale: template.locale, ...rendered };
  };
}

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' ? value : null);
