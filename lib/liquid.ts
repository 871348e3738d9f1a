// The one Liquid setup of Herald, shared by the renderer (activities/render.ts) and the template API
// (api/routes/templates.ts): the same filters, the same limits, and the strict-variable check that runs
// when a template is saved.
import { Liquid, type Context, type Template as LiquidTemplate } from 'liquidjs';
import type { PushRichContent } from '../domain';
import { actionsOf, hasRichContent, richContentOf, type PushRichSource } from './push-content';

// What a filter's `this` holds (liquidjs does not export its FilterImpl type).
interface FilterImpl {
  context: Context;
}

/** Where a message is read: the locale numbers and dates are formatted in, and the customer's time zone. */
export interface RenderSettings {
  locale: string;
  timeZone: string;
}

/** The filters Herald adds to Liquid's standard ones. */
export const HERALD_FILTERS = ['money', 'local_date', 'local_time', 'datetime', 'pluralize'] as const;

/** The `money` filter's currency when neither its argument nor a `currency` variable gives one. */
export const DEFAULT_CURRENCY = 'EUR';

// Not a string, so no Liquid expression can reach it (or overwrite it with an event field).
const SETTINGS = Symbol('herald.renderSettings');

type Scope = Record<string | symbol, unknown>;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/i;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
const STYLES = ['full', 'long', 'medium', 'short'] as const;
type Style = (typeof STYLES)[number];

function settingsOf(filter: FilterImpl): RenderSettings {
  const scope = filter.context.environments as Scope;
  return (scope[SETTINGS] as RenderSettings | undefined) ?? { locale: 'en', timeZone: 'UTC' };
}

// Intl puts no-break spaces (U+00A0, U+202F) in amounts and times; plain spaces keep an SMS in GSM-7.
const plainSpaces = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

function numberOf(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && DECIMAL.test(value.trim())) return Number(value.trim());
  return null;
}

const styleOf = (style: unknown, fallback: Style): Style => ((STYLES as readonly unknown[]).includes(style) ? (style as Style) : fallback);

/** An instant (an ISO date-time with its zone) or a calendar date (an ISO date, shown as it is, in UTC). */
function moment(value: unknown): { date: Date; calendarDate: boolean } | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : { date: value, calendarDate: false };
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (DATE_ONLY.test(text)) {
    const date = new Date(`${text}T00:00:00Z`);
    return Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== text ? null : { date, calendarDate: true };
  }
  if (!DATE_TIME_WITH_ZONE.test(text)) return null;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? null : { date, calendarDate: false };
}

function formatMoment(filter: FilterImpl, value: unknown, options: Intl.DateTimeFormatOptions, needsTime: boolean): unknown {
  const found = moment(value);
  if (!found || (needsTime && found.calendarDate)) return value;
  const { locale, timeZone } = settingsOf(filter);
  const format = new Intl.DateTimeFormat(locale, { ...options, timeZone: found.calendarDate ? 'UTC' : timeZone });
  return plainSpaces(format.format(found.date));
}

/**
 * `{{ amount | money }}`, `{{ amount | money: 'USD' }}`: an amount in major units (a number or a decimal
 * string) in the render locale. The currency is the argument, else the `currency` variable, else EUR.
 * Anything that is not a number, or an unknown currency code, is shown as given.
 */
function money(this: FilterImpl, value: unknown, currency?: unknown): unknown {
  const amount = numberOf(value);
  if (amount === null) return value;
  const fromScope = this.context.getSync(['currency']);
  const code = [currency, fromScope].find((c): c is string => typeof c === 'string' && c.trim() !== '')?.trim().toUpperCase() ?? DEFAULT_CURRENCY;
  try {
    return plainSpaces(new Intl.NumberFormat(settingsOf(this).locale, { style: 'currency', currency: code }).format(amount));
  } catch {
    return `${String(value)} ${code}`;
  }
}

/** `{{ eta | local_date }}`, `{{ eta | local_date: 'short' }}`: the date in the customer's time zone and locale. */
function localDate(this: FilterImpl, value: unknown, style?: unknown): unknown {
  return formatMoment(this, value, { dateStyle: styleOf(style, 'medium') }, false);
}

/** `{{ eta | local_time }}`: the time of day (an ISO date-time only) in the customer's time zone and locale. */
function localTime(this: FilterImpl, value: unknown, style?: unknown): unknown {
  return formatMoment(this, value, { timeStyle: styleOf(style, 'short') }, true);
}

/** `{{ occurredAt | datetime }}`: date and time (short time); a bare ISO date gives the date alone. */
function dateTime(this: FilterImpl, value: unknown, style?: unknown): unknown {
  const dateStyle = styleOf(style, 'medium');
  const found = moment(value);
  if (found?.calendarDate) return formatMoment(this, value, { dateStyle }, false);
  return formatMoment(this, value, { dateStyle, timeStyle: 'short' }, true);
}

/**
 * `{{ itemCount | pluralize: 'item', 'items' }}` → "1 item", "3 items": the count in the render locale
 * and the word its plural rules ask for (Intl.PluralRules: `one` takes the singular, every other
 * category the plural, which defaults to the singular plus "s"). A value that is not a number is shown as given.
 */
function pluralize(this: FilterImpl, value: unknown, singular?: unknown, plural?: unknown): unknown {
  const count = numberOf(value);
  if (count === null) return value;
  const one = typeof singular === 'string' ? singular : '';
  const other = typeof plural === 'string' ? plural : `${one}s`;
  const { locale } = settingsOf(this);
  const word = new Intl.PluralRules(locale).select(count) === 'one' ? one : other;
  const number = plainSpaces(new Intl.NumberFormat(locale).format(count));
  return word ? `${number} ${word}` : number;
}

export interface HeraldLiquidOptions {
  /** Escape every output for HTML (the HTML part of an email). */
  html?: boolean;
}

/**
 * A Liquid engine with Herald's filters. Unknown filters are errors (strictFilters); unknown variables
 * render empty here and are refused earlier, when the template is saved (see `templateProblems`).
 * Templates cannot read files (no include, render or layout of files) and a render is bounded.
 */
export function createLiquid(options: HeraldLiquidOptions = {}): Liquid {
  const liquid = new Liquid({
    cache: false,
    strictFilters: true,
    ownPropertyOnly: true,
    // An in-memory (empty) file system: `{% include %}` and friends find nothing rather than read the disk.
    templates: {},
    parseLimit: 1_000_000,
    renderLimit: 2_000,
    memoryLimit: 50_000_000,
    ...(options.html ? { outputEscape: 'escape' as const } : {}),
  });
  // Herald's templates are self-contained: a file tag could only fail when the message is rendered.
  for (const tag of ['include', 'render', 'layout']) delete liquid.tags[tag];
  liquid.registerFilter('money', money);
  liquid.registerFilter('local_date', localDate);
  liquid.registerFilter('local_time', localTime);
  liquid.registerFilter('datetime', dateTime);
  liquid.registerFilter('pluralize', pluralize);
  // Liquid's own `date` filter, in the customer's time zone unless a zone is given.
  const builtinDate = liquid.filters.date;
  if (typeof builtinDate === 'function') {
    liquid.registerFilter('date', function (value: unknown, format?: unknown, timeZone?: unknown) {
      return builtinDate.call(this, value, format, timeZone ?? settingsOf(this).timeZone);
    });
  }
  return liquid;
}

/** The two engines a message needs: plain text, and HTML with every output escaped. */
export interface TemplateEngines {
  text: Liquid;
  html: Liquid;
}

export function createTemplateEngines(): TemplateEngines {
  return { text: createLiquid(), html: createLiquid({ html: true }) };
}

const isTimeZone = (timeZone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
};

const canonicalLocale = (locale: string): string | null => {
  try {
    return Intl.getCanonicalLocales(locale.replace(/_/g, '-'))[0] ?? null;
  } catch {
    return null;
  }
};

/**
 * The settings of one render. Numbers and dates follow the reader's own locale when the template is in
 * its language (a fr-CA reader of the fr template gets Canadian formats), and the template's locale
 * otherwise (a de reader of the en fallback reads English throughout). An unknown time zone is UTC.
 */
export function renderSettings(templateLocale: string, readerLocale: string | null | undefined, timeZone: string | null | undefined): RenderSettings {
  const template = canonicalLocale(templateLocale) ?? 'en';
  const reader = readerLocale ? canonicalLocale(readerLocale) : null;
  const language = (l: string) => l.split('-')[0]!.toLowerCase();
  return {
    locale: reader && language(reader) === language(template) ? reader : template,
    timeZone: timeZone && isTimeZone(timeZone) ? timeZone : 'UTC',
  };
}

/** Renders parsed Liquid with the variables, the filters reading the settings. */
export async function renderLiquid(liquid: Liquid, template: LiquidTemplate[], variables: Record<string, unknown>, settings: RenderSettings): Promise<string> {
  const scope: Scope = { ...variables, [SETTINGS]: settings };
  return String(await liquid.render(template, scope));
}

/** A template version's text, as stored; the rich push fields (lib/push-content.ts) only on push templates. */
export interface TemplateText extends Omit<PushRichSource, 'actions'> {
  subject: string;
  body: string;
  bodyHtml?: string | null;
  /** The stored JSON column, read with `actionsOf`. */
  actions?: unknown;
}

interface ParsedRich {
  source: PushRichSource;
  imageUrl: LiquidTemplate[];
  deepLink: LiquidTemplate[];
  actions: Array<{ id: string; title: LiquidTemplate[]; deepLink: LiquidTemplate[] }>;
}

export interface ParsedTemplate {
  subject: LiquidTemplate[];
  body: LiquidTemplate[];
  html: LiquidTemplate[] | null;
  /** The image, deep link and buttons; null when the template has none. */
  rich: ParsedRich | null;
}

export function parseTemplate(engines: TemplateEngines, text: TemplateText): ParsedTemplate {
  const actions = actionsOf(text.actions);
  const source: PushRichSource = { imageUrl: text.imageUrl ?? null, deepLink: text.deepLink ?? null, actions, actionCategory: text.actionCategory ?? null };
  const parse = (value: string | null | undefined) => engines.text.parse(value ?? '');
  return {
    subject: engines.text.parse(text.subject),
    body: engines.text.parse(text.body),
    html: text.bodyHtml ? engines.html.parse(text.bodyHtml) : null,
    rich: hasRichContent(source)
      ? { source, imageUrl: parse(text.imageUrl), deepLink: parse(text.deepLink), actions: actions.map((a) => ({ id: a.id, title: parse(a.title), deepLink: parse(a.deepLink) })) }
      : null,
  };
}

export interface RenderedText {
  subject: string;
  body: string;
  html?: string;
  /** The rendered image, deep link and buttons; only when the template has some that rendered to something. */
  rich?: PushRichContent;
}

/** Renders a parsed template's parts, trimmed; the HTML part only when the template has one. */
export async function renderTemplate(engines: TemplateEngines, parsed: ParsedTemplate, variables: Record<string, unknown>, settings: RenderSettings): Promise<RenderedText> {
  const text = (template: LiquidTemplate[]) => renderLiquid(engines.text, template, variables, settings);
  const [subject, body, html, rich] = await Promise.all([
    text(parsed.subject),
    text(parsed.body),
    parsed.html ? renderLiquid(engines.html, parsed.html, variables, settings) : undefined,
    parsed.rich ? renderRich(parsed.rich, text) : null,
  ]);
  return { subject: subject.trim(), body: body.trim(), ...(typeof html === 'string' ? { html: html.trim() } : {}), ...(rich ? { rich } : {}) };
}

async function renderRich(parsed: ParsedRich, text: (template: LiquidTemplate[]) => Promise<string>): Promise<PushRichContent | null> {
  const [imageUrl, deepLink, actions] = await Promise.all([
    text(parsed.imageUrl),
    text(parsed.deepLink),
    Promise.all(parsed.actions.map(async (a) => ({ id: a.id, title: await text(a.title), deepLink: await text(a.deepLink) }))),
  ]);
  return richContentOf(parsed.source, { imageUrl, deepLink, actions });
}

export interface TemplateProblem {
  /** `subject`, `body`, `bodyHtml`, `imageUrl`, `deepLink`, `actions[0].title`, `actions[0].deepLink`... */
  field: string;
  reason: string;
}

/** The first line of a Liquid error (its message carries the line and column, not the source). */
const liquidReason = (err: unknown): string => (err instanceof Error ? err.message.split('\n')[0]! : String(err));

/**
 * What is wrong with a template's text for a key: syntax errors and unknown filters (from parsing), and
 * variables the key does not provide (static analysis: variables the template assigns, captures or
 * loops over itself are fine). Empty when the template may be saved.
 */
export function templateProblems(engines: TemplateEngines, key: string, known: readonly string[], text: TemplateText): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  const knownSet = new Set(known);
  const parts: Array<[TemplateProblem['field'], string | null | undefined, 'text' | 'html']> = [
    ['subject', text.subject, 'text'],
    ['body', text.body, 'text'],
    ['bodyHtml', text.bodyHtml, 'html'],
    ['imageUrl', text.imageUrl, 'text'],
    ['deepLink', text.deepLink, 'text'],
    ...actionsOf(text.actions).flatMap((a, i): Array<[string, string | null | undefined, 'text']> => [
      [`actions[${i}].title`, a.title, 'text'],
      [`actions[${i}].deepLink`, a.deepLink, 'text'],
    ]),
  ];
  for (const [field, source, engine] of parts) {
    if (source === null || source === undefined) continue;
    const liquid = engines[engine];
    let parsed: LiquidTemplate[];
    try {
      parsed = liquid.parse(source);
    } catch (err) {
      problems.push({ field, reason: `invalid Liquid: ${liquidReason(err)}` });
      continue;
    }
    let globals: string[];
    try {
      globals = liquid.globalVariablesSync(parsed, { partials: false });
    } catch (err) {
      problems.push({ field, reason: `invalid Liquid: ${liquidReason(err)}` });
      continue;
    }
    for (const name of globals) {
      if (!knownSet.has(name)) problems.push({ field, reason: `unknown variable '${name}' for ${key}; known: ${known.join(', ')}` });
    }
  }
  return problems;
}
