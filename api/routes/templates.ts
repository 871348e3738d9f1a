import { Router } from 'express';
import { localeChain } from '../../domain';
import { exampleVariables, templateVariables } from '../../domain/template-variables';
import type { Db } from '../../lib/db';
import { createTemplateEngines, parseTemplate, renderSettings, renderTemplate, templateProblems } from '../../lib/liquid';
import { publishedTemplateFor, type RenderChannel, type TemplateRow } from '../../store/templates';
import { requireScope } from '../auth';
import { HttpError, validationError } from '../errors';
import type { TemplateKeyView, TemplatePreviewView, TemplatePublishedView, TemplateVersionView } from '../response-schemas';
import {
  localeSchema,
  templateChannelParamSchema,
  templateContentSchema,
  templateKeyQuerySchema,
  templateKeySchema,
  templateListQuerySchema,
  templatePreviewSchema,
  templateVersionInputSchema,
  templateVersionParamSchema,
  type TemplateVersionInput,
} from '../schemas';

type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];
type Selector = { key: string; channel: RenderChannel; locale: string };

function versionView(t: TemplateRow): TemplateVersionView {
  return {
    templateId: t.id,
    key: t.key,
    channel: t.channel,
    locale: t.locale,
    version: t.version,
    state: t.state,
    subject: t.subject,
    body: t.body,
    bodyHtml: t.bodyHtml,
    createdAt: t.createdAt,
  };
}

function keyParam(raw: string | undefined): string {
  const parsed = templateKeySchema.safeParse(raw);
  if (!parsed.success) throw new HttpError(400, 'validation_failed', `invalid key: ${parsed.error.issues[0]!.message}`, [{ field: 'key', reason: parsed.error.issues[0]!.message }]);
  return parsed.data;
}

/** The key, channel and locale of a path such as /templates/order.shipped/push/fr-CA/...; every bad one is named. */
function selectorParams(params: Record<string, string | undefined>): Selector {
  const checks = { key: templateKeySchema.safeParse(params.key), channel: templateChannelParamSchema.safeParse(params.channel), locale: localeSchema.safeParse(params.locale) };
  const fields = Object.entries(checks).flatMap(([field, result]) => (result.success ? [] : [{ field, reason: result.error.issues[0]!.message }]));
  if (fields.length) throw new HttpError(400, 'validation_failed', `invalid path: ${fields.map((f) => `${f.field}: ${f.reason}`).join('; ')}`, fields);
  return { key: checks.key.data!, channel: checks.channel.data as RenderChannel, locale: checks.locale.data! };
}

function versionParam(raw: string | undefined): number {
  const parsed = templateVersionParamSchema.safeParse(raw);
  if (!parsed.success) throw new HttpError(400, 'validation_failed', `invalid version: ${parsed.error.issues[0]!.message}`, [{ field: 'version', reason: parsed.error.issues[0]!.message }]);
  return Number(parsed.data);
}

const versionPath = (t: Selector & { version: number }) => `/v1/templates/${t.key}/${t.channel}/${t.locale}/versions/${t.version}`;

const describe = (s: Selector) => `${s.key} (${s.channel}, ${s.locale})`;

/** Serialises the writes to one key, channel and locale: version numbers and the one published version. */
async function lockSequence(tx: Tx, s: Selector): Promise<void> {
  await tx.$queryRaw`SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtext(${`herald-template:${s.key}|${s.channel}|${s.locale}`}))`;
}

/**
 * Template management, admin only: list, versions per key, drafts, publish, roll back, and preview.
 * A key has one sequence of versions per channel and locale, at /v1/templates/{key}/{channel}/{locale};
 * a new draft is posted to the key with its channel and locale in the body.
 */
export function templateRoutes(db: Db): Router {
  const router = Router();
  const engines = createTemplateEngines();
  router.use('/templates', requireScope('admin'));

  /** The strict-variable check: syntax, filters, and variables the key provides. */
  function checkTemplate(key: string, input: { subject: string; body: string; bodyHtml?: string | null }): void {
    const known = templateVariables(key)!.map((v) => v.name);
    const problems = templateProblems(engines, key, known, input);
    if (problems.length) {
      throw new HttpError(400, 'validation_failed', `invalid template: ${problems.map((p) => `${p.field}: ${p.reason}`).join('; ')}`, problems);
    }
  }

  // An HTML part on another channel would never be sent: named, rather than refused as an unknown field.
  const htmlOnlyForEmail = () =>
    new HttpError(400, 'validation_failed', 'invalid template: bodyHtml: only email templates have an HTML part', [{ field: 'bodyHtml', reason: 'only email templates have an HTML part' }]);

  function parseVersionInput(body: unknown): TemplateVersionInput {
    const raw = body as { channel?: unknown; bodyHtml?: unknown } | null;
    if (raw && typeof raw === 'object' && raw.bodyHtml !== undefined && typeof raw.channel === 'string' && raw.channel !== 'email') throw htmlOnlyForEmail();
    const parsed = templateVersionInputSchema.safeParse(body);
    if (!parsed.success) throw validationError(parsed.error, 'template');
    return parsed.data;
  }

  async function findVersion(selector: Selector, version: number): Promise<TemplateRow> {
    const row = await db.template.findUnique({ where: { key_channel_locale_version: { ...selector, version } } });
    if (!row) throw new HttpError(404, 'not_found', `no version ${version} of template ${describe(selector)}`);
    return row;
  }

  router.get('/templates', async (req, res) => {
    const parsed = templateListQuerySchema.safeParse(req.query);
    if (!parsed.success) throw validationError(parsed.error, 'query');
    const where = parsed.data;
    const [groups, published] = await Promise.all([
      db.template.groupBy({ by: ['key', 'channel', 'locale'], where, _max: { version: true }, _count: { _all: true } }),
      db.template.findMany({ where: { ...where, state: 'published' }, select: { key: true, channel: true, locale: true, version: true } }),
    ]);
    const publishedVersion = new Map<string, number>();
    for (const p of published) {
      const id = `${p.key}|${p.channel}|${p.locale}`;
      publishedVersion.set(id, Math.max(publishedVersion.get(id) ?? 0, p.version));
    }
    const items = groups
      .map((g) => ({
        key: g.key,
        channel: g.channel,
        locale: g.locale,
        publishedVersion: publishedVersion.get(`${g.key}|${g.channel}|${g.locale}`) ?? null,
        latestVersion: g._max.version ?? 0,
        versionCount: g._count._all,
      }))
      .sort((a, b) => a.key.localeCompare(b.key) || a.channel.localeCompare(b.channel) || a.locale.localeCompare(b.locale));
    res.json({ items });
  });

  router.get('/templates/:key', async (req, res) => {
    const key = keyParam(req.params.key);
    const parsed = templateKeyQuerySchema.safeParse(req.query);
    if (!parsed.success) throw validationError(parsed.error, 'query');
    const rows = await db.template.findMany({
      where: { key, ...parsed.data },
      orderBy: [{ channel: 'asc' }, { locale: 'asc' }, { version: 'desc' }],
    });
    const groups = new Map<string, TemplateKeyView['templates'][number]>();
    for (const row of rows) {
      const id = `${row.channel}|${row.locale}`;
      let group = groups.get(id);
      if (!group) {
        group = { channel: row.channel, locale: row.locale, publishedVersion: null, latestVersion: row.version, versions: [] };
        groups.set(id, group);
      }
      if (row.state === 'published' && (group.publishedVersion ?? 0) < row.version) group.publishedVersion = row.version;
      group.versions.push(versionView(row));
    }
    const view: TemplateKeyView = {
      key,
      variables: templateVariables(key)!.map(({ name, description }) => ({ name, description })),
      templates: [...groups.values()],
    };
    res.json(view);
  });

  router.post('/templates/:key/versions', async (req, res) => {
    const key = keyParam(req.params.key);
    const input = parseVersionInput(req.body);
    checkTemplate(key, { subject: input.subject, body: input.body, bodyHtml: input.channel === 'email' ? input.bodyHtml : null });
    const selector: Selector = { key, channel: input.channel, locale: input.locale };
    const created = await db.$transaction(async (tx) => {
      await lockSequence(tx, selector);
      const latest = await tx.template.aggregate({ where: selector, _max: { version: true } });
      return tx.template.create({
        data: {
          ...selector,
          version: (latest._max.version ?? 0) + 1,
          state: 'draft',
          subject: input.subject,
          body: input.body,
          bodyHtml: input.channel === 'email' ? (input.bodyHtml ?? null) : null,
        },
      });
    });
    res.status(201).location(versionPath(created)).json(versionView(created));
  });

  router.get('/templates/:key/:channel/:locale/versions/:version', async (req, res) => {
    const selector = selectorParams(req.params);
    res.json(versionView(await findVersion(selector, versionParam(req.params.version))));
  });

  router.put('/templates/:key/:channel/:locale/versions/:version', async (req, res) => {
    const selector = selectorParams(req.params);
    const version = versionParam(req.params.version);
    const parsed = templateContentSchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'template');
    const input = parsed.data;
    const existing = await findVersion(selector, version);
    if (selector.channel !== 'email' && input.bodyHtml !== undefined) throw htmlOnlyForEmail();
    if (existing.state !== 'draft') {
      throw new HttpError(409, 'template_not_draft', `version ${version} of ${describe(selector)} is ${existing.state}; only drafts can be edited (create a new version)`);
    }
    checkTemplate(selector.key, input);
    const updated = await db.$transaction(async (tx) => {
      await lockSequence(tx, selector);
      // Published between the read and the lock: refuse rather than change a version in use.
      const result = await tx.template.updateMany({
        where: { id: existing.id, state: 'draft' },
        data: { subject: input.subject, body: input.body, bodyHtml: input.bodyHtml ?? null },
      });
      if (result.count === 0) throw new HttpError(409, 'template_not_draft', `version ${version} of ${describe(selector)} is no longer a draft`);
      return tx.template.findUniqueOrThrow({ where: { id: existing.id } });
    });
    res.json(versionView(updated));
  });

  /** Makes `target` the published version of its sequence; the one it replaces becomes archived. */
  async function publish(tx: Tx, target: TemplateRow): Promise<TemplatePublishedView> {
    if (target.state === 'published') return { published: versionView(target), archived: null };
    const selector = { key: target.key, channel: target.channel, locale: target.locale };
    const current = await tx.template.findMany({ where: { ...selector, state: 'published' }, orderBy: { version: 'desc' } });
    await tx.template.updateMany({ where: { ...selector, state: 'published' }, data: { state: 'archived' } });
    const published = await tx.template.update({ where: { id: target.id }, data: { state: 'published' } });
    return { published: versionView(published), archived: current[0] ? versionView({ ...current[0], state: 'archived' }) : null };
  }

  router.post('/templates/:key/:channel/:locale/versions/:version/publish', async (req, res) => {
    const selector = selectorParams(req.params);
    const version = versionParam(req.params.version);
    const result = await db.$transaction(async (tx) => {
      await lockSequence(tx, selector);
      const target = await tx.template.findUnique({ where: { key_channel_locale_version: { ...selector, version } } });
      if (!target) throw new HttpError(404, 'not_found', `no version ${version} of template ${describe(selector)}`);
      return publish(tx, target);
    });
    res.json(result);
  });

  router.post('/templates/:key/:channel/:locale/rollback', async (req, res) => {
    const selector = selectorParams(req.params);
    const result = await db.$transaction(async (tx) => {
      await lockSequence(tx, selector);
      const current = await tx.template.findFirst({ where: { ...selector, state: 'published' }, orderBy: { version: 'desc' } });
      if (!current) throw new HttpError(409, 'no_previous_version', `${describe(selector)} has no published version to roll back`);
      // Archived versions are the ones published before; the newest older than the current one was in use before it.
      const previous = await tx.template.findFirst({ where: { ...selector, state: 'archived', version: { lt: current.version } }, orderBy: { version: 'desc' } });
      if (!previous) throw new HttpError(409, 'no_previous_version', `${describe(selector)} has no archived version older than version ${current.version}`);
      return publish(tx, previous);
    });
    res.json(result);
  });

  router.post('/templates/:key/preview', async (req, res) => {
    const key = keyParam(req.params.key);
    const parsed = templatePreviewSchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'preview');
    const input = parsed.data;

    const stored = input.customerId
      ? await db.customer.findUnique({ where: { id: input.customerId }, select: { name: true, locale: true, timeZone: true } })
      : null;
    if (input.customerId && !stored) throw new HttpError(404, 'not_found', `no customer ${input.customerId}`);
    const examples = exampleVariables(key);
    const customer = {
      name: input.customer?.name !== undefined ? input.customer.name : stored ? stored.name : examples.customerName,
      locale: input.customer?.locale ?? stored?.locale ?? null,
      timeZone: input.customer?.timeZone ?? stored?.timeZone ?? null,
    };
    const readerLocale = input.locale ?? customer.locale ?? 'en';

    const locales = localeChain(readerLocale, 'en');
    let template: TemplateRow | undefined;
    if (input.version !== undefined) {
      // That version in the first locale of the chain that has one (a draft in `fr` previews for a fr-CA reader).
      const candidates = await db.template.findMany({ where: { key, channel: input.channel, locale: { in: locales }, version: input.version } });
      template = locales.map((l) => candidates.find((t) => t.locale === l)).find((t) => t !== undefined);
      if (!template) throw new HttpError(404, 'not_found', `no version ${input.version} of ${input.channel} template '${key}' for locales ${locales.join(', ')}`);
    } else {
      template = await publishedTemplateFor(db, key, input.channel, locales);
      if (!template) throw new HttpError(404, 'not_found', `no published ${input.channel} template '${key}' for locales ${locales.join(', ')}`);
    }

    // The event's data replaces the example data; the common variables keep their examples unless given.
    const common = Object.fromEntries(['orderId', 'status', 'occurredAt'].map((name) => [name, examples[name]]));
    const variables: Record<string, unknown> = {
      ...(input.event?.data !== undefined ? common : examples),
      ...(input.event?.data ?? {}),
      ...(input.event?.orderId ? { orderId: input.event.orderId } : {}),
      ...(input.event?.status ? { status: input.event.status } : {}),
      ...(input.event?.occurredAt ? { occurredAt: input.event.occurredAt } : {}),
      customerName: customer.name ?? null,
      customerLocale: readerLocale,
      customerTimeZone: customer.timeZone ?? 'UTC',
    };
    const settings = renderSettings(template.locale, readerLocale, customer.timeZone);
    let rendered;
    try {
      // A version stored before the strict check (or by hand) may not even parse: a 400 naming it, not a 500.
      rendered = await renderTemplate(engines, parseTemplate(engines, template), variables, settings);
    } catch (err) {
      const reason = (err as Error).message.split('\n')[0]!;
      throw new HttpError(400, 'render_failed', `version ${template.version} of ${describe(template)} failed to render: ${reason}`, [{ field: '(template)', reason }]);
    }
    const view: TemplatePreviewView = {
      templateId: template.id,
      key: template.key,
      channel: template.channel,
      locale: template.locale,
      version: template.version,
      state: template.state,
      subject: rendered.subject,
      body: rendered.body,
      html: rendered.html ?? null,
      formatting: settings,
      variables,
    };
    res.json(view);
  });

  return router;
}
