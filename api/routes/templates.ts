import { localeChain } from '../../domain';
import { exampleVariables, templateVariables } from '../../domain/template-variables';
import { Prisma, type Db } from '../../lib/db';
import { createTemplateEngines, parseTemplate, renderLiquid, renderSettings, renderTemplate, templateProblems, type TemplateProblem, type TemplateText } from '../../lib/liquid';
import { actionsOf, deepLinkProblem, imageUrlProblem, type PushActionSource } from '../../lib/push-content';
import { publishedTemplateFor, type RenderChannel, type TemplateRow } from '../../store/templates';
import { HttpError } from '../errors';
import {
  templateKeyResponse,
  templateListResponse,
  templatePreviewResponse,
  templatePublishedResponse,
  templateVersionResponse,
  type TemplateKeyView,
  type TemplatePreviewView,
  type TemplatePublishedView,
  type TemplateVersionView,
} from '../response-schemas';
import { defineRoute, type Route } from '../route';
import {
  templateContentSchema,
  templateKeyPath,
  templateKeyQuerySchema,
  templateListQuerySchema,
  templatePreviewSchema,
  templateSequencePath,
  templateVersionInputSchema,
  templateVersionPath,
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
    imageUrl: t.imageUrl,
    deepLink: t.deepLink,
    actions: actionsOf(t.actions).map((a) => ({ id: a.id, title: a.title, deepLink: a.deepLink ?? null })),
    actionCategory: t.actionCategory,
    createdAt: t.createdAt,
  };
}

type TemplateInput = TemplateText & { actions?: PushActionSource[] | null };

/** The rich push columns of a draft: what was given, null for the rest (a PUT replaces them all). */
function richColumns(input: TemplateInput) {
  const actions = input.actions?.map((a) => ({ id: a.id, title: a.title, ...(a.deepLink ? { deepLink: a.deepLink } : {}) })) ?? [];
  return {
    imageUrl: input.imageUrl ?? null,
    deepLink: input.deepLink ?? null,
    actions: actions.length > 0 ? actions : Prisma.DbNull,
    actionCategory: input.actionCategory ?? null,
  };
}

const versionPath = (t: Selector & { version: number }) => `/v1/templates/${t.key}/${t.channel}/${t.locale}/versions/${t.version}`;

const describe = (s: Selector) => `${s.key} (${s.channel}, ${s.locale})`;

/** Serialises the writes to one key, channel and locale: version numbers and the one published version. */
async function lockSequence(tx: Tx, s: Selector): Promise<void> {
  await tx.$queryRaw`SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtext(${`herald-template:${s.key}|${s.channel}|${s.locale}`}))`;
}

// One set of Liquid engines for the checks and previews of every request (they hold no request state).
const engines = createTemplateEngines();

/**
 * The strict-variable check: syntax, filters, and variables the key provides; then the URLs of a push
 * template, rendered with the key's example values: each must be an http(s) URL (a deep link may also be an
 * app link), or render to nothing.
 */
async function checkTemplate(key: string, input: TemplateInput): Promise<void> {
  const known = templateVariables(key)!.map((v) => v.name);
  const problems: TemplateProblem[] = templateProblems(engines, key, known, input);
  if (!problems.length) problems.push(...(await urlProblems(key, input)));
  if (problems.length) {
    throw new HttpError(400, 'validation_failed', `invalid template: ${problems.map((p) => `${p.field}: ${p.reason}`).join('; ')}`, problems);
  }
}

async function urlProblems(key: string, input: TemplateInput): Promise<TemplateProblem[]> {
  const variables = { ...exampleVariables(key), customerLocale: 'en', customerTimeZone: 'UTC' };
  const settings = renderSettings('en', 'en', 'UTC');
  const fields: Array<[string, string | null | undefined, (value: string) => string | null]> = [
    ['imageUrl', input.imageUrl, imageUrlProblem],
    ['deepLink', input.deepLink, deepLinkProblem],
    ...(input.actions ?? []).map((a, i): [string, string | null | undefined, (value: string) => string | null] => [`actions[${i}].deepLink`, a.deepLink, deepLinkProblem]),
  ];
  const problems: TemplateProblem[] = [];
  for (const [field, source, problemOf] of fields) {
    if (!source) continue;
    let value: string;
    try {
      value = (await renderLiquid(engines.text, engines.text.parse(source), variables, settings)).trim();
    } catch (err) {
      problems.push({ field, reason: `failed to render with the example values: ${(err as Error).message.split('\n')[0]}` });
      continue;
    }
    const problem = value ? problemOf(value) : null;
    if (problem) problems.push({ field, reason: `${problem} (with the example values it renders to '${value.slice(0, 200)}')` });
  }
  return problems;
}

// An HTML part on another channel would never be sent: named, rather than refused as an unknown field.
const htmlOnlyForEmail = () =>
  new HttpError(400, 'validation_failed', 'invalid template: bodyHtml: only email templates have an HTML part', [{ field: 'bodyHtml', reason: 'only email templates have an HTML part' }]);

const RICH_FIELDS = ['imageUrl', 'deepLink', 'actions', 'actionCategory'] as const;
const richOnlyForPush = (field: string) =>
  new HttpError(400, 'validation_failed', `invalid template: ${field}: only push templates have an image, a deep link and buttons`, [
    { field, reason: 'only push templates have an image, a deep link and buttons' },
  ]);

async function findVersion(db: Db, selector: Selector, version: number): Promise<TemplateRow> {
  const row = await db.template.findUnique({ where: { key_channel_locale_version: { ...selector, version } } });
  if (!row) throw new HttpError(404, 'not_found', `no version ${version} of template ${describe(selector)}`);
  return row;
}

/** Makes `target` the published version of its sequence; the one it replaces becomes archived. */
async function publish(tx: Tx, target: TemplateRow): Promise<TemplatePublishedView> {
  if (target.state === 'published') return { published: versionView(target), archived: null };
  const selector = { key: target.key, channel: target.channel, locale: target.locale };
  const current = await tx.template.findMany({ where: { ...selector, state: 'published' }, orderBy: { version: 'desc' } });
  await tx.template.updateMany({ where: { ...selector, state: 'published' }, data: { state: 'archived' } });
  const published = await tx.template.update({ where: { id: target.id }, data: { state: 'published' } });
  return { published: versionView(published), archived: current[0] ? versionView({ ...current[0], state: 'archived' }) : null };
}


const NO_VERSION = 'No such version of the template.';

/**
 * Template management, admin only: list, versions per key, drafts, publish, roll back, and preview.
 * A key has one sequence of versions per channel and locale, at /v1/templates/{key}/{channel}/{locale};
 * a new draft is posted to the key with its channel and locale in the body.
 */
export const templateRoutes: Route[] = [
  defineRoute({
    method: 'get',
    path: '/v1/templates',
    operationId: 'listTemplates',
    tag: 'Templates',
    summary: 'Templates per key, channel and locale, with their published and latest versions',
    scope: 'admin',
    query: templateListQuerySchema,
    responses: { 200: { description: 'One item per key, channel and locale, sorted by them.', body: templateListResponse } },
    handler: async ({ query: where }, { db }) => {
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
      return { status: 200, body: { items } };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/templates/{key}',
    operationId: 'getTemplate',
    tag: 'Templates',
    summary: 'Every version of a key, per channel and locale, and the variables it may use',
    scope: 'admin',
    params: templateKeyPath,
    query: templateKeyQuerySchema,
    responses: { 200: { description: 'The versions, newest first, grouped by channel and locale.', body: templateKeyResponse } },
    handler: async ({ params: { key }, query }, { db }) => {
      const rows = await db.template.findMany({
        where: { key, ...query },
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
      return { status: 200, body: view };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/templates/{key}/versions',
    operationId: 'createTemplateVersion',
    tag: 'Templates',
    summary: 'Create a draft version',
    description:
      'The new version is the next number for the key, channel and locale, as a draft: nothing renders it for customers until it is ' +
      'published; it lives at `/v1/templates/{key}/{channel}/{locale}/versions/{version}` (the Location header). Strict variables: a template that uses a variable the key does not provide (see `GET /v1/templates/{key}`), an ' +
      'unknown filter, or invalid Liquid is a 400 naming the field (`subject`, `body`, `bodyHtml`, `imageUrl`, `deepLink`, `actions[0].title`...) and the variable. ' +
      'Only email has `bodyHtml`; only push has `imageUrl`, `deepLink`, `actions` and `actionCategory` (README, "Rich push"), whose URLs are rendered with the ' +
      "key's example values and must then be http(s) (a deep link may also be an app link such as `myshop://orders/1`), or empty.",
    scope: 'admin',
    params: templateKeyPath,
    body: templateVersionInputSchema,
    responses: {
      201: {
        description: 'The draft.',
        body: templateVersionResponse,
        headers: { Location: { description: 'The path of the new version.', schema: { type: 'string' } } },
      },
    },
    handler: async ({ params: { key }, body: input }, { db }) => {
      const content: TemplateInput = input.channel === 'push' ? input : { subject: input.subject, body: input.body, bodyHtml: input.channel === 'email' ? input.bodyHtml : null };
      await checkTemplate(key, content);
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
            ...richColumns(content),
          },
        });
      });
      return { status: 201, headers: { location: versionPath(created) }, body: versionView(created) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/templates/{key}/{channel}/{locale}/versions/{version}',
    operationId: 'getTemplateVersion',
    tag: 'Templates',
    summary: 'One version of a template',
    scope: 'admin',
    params: templateVersionPath,
    responses: { 200: { description: 'The version.', body: templateVersionResponse } },
    errors: { 404: NO_VERSION },
    handler: async ({ params: { version, ...selector } }, { db }) => ({ status: 200, body: versionView(await findVersion(db, selector as Selector, version)) }),
  }),
  defineRoute({
    method: 'put',
    path: '/v1/templates/{key}/{channel}/{locale}/versions/{version}',
    operationId: 'updateTemplateVersion',
    tag: 'Templates',
    summary: 'Edit a draft',
    description:
      'Replaces the subject, body, HTML part (email only) and rich push fields (push only: what is not given is removed) of a draft, with the same checks as creating one. Published and ' +
      'archived versions never change (409).',
    scope: 'admin',
    params: templateVersionPath,
    body: templateContentSchema,
    responses: { 200: { description: 'The draft.', body: templateVersionResponse } },
    errors: { 404: NO_VERSION, 409: '`template_not_draft`: the version is published or archived; create a new version instead.' },
    handler: async ({ params: { version, ...path }, body: input }, { db }) => {
      const selector = path as Selector;
      const existing = await findVersion(db, selector, version);
      if (selector.channel !== 'email' && input.bodyHtml !== undefined) throw htmlOnlyForEmail();
      const notForThisChannel = selector.channel === 'push' ? undefined : RICH_FIELDS.find((f) => input[f] !== undefined && input[f] !== null);
      if (notForThisChannel) throw richOnlyForPush(notForThisChannel);
      if (existing.state !== 'draft') {
        throw new HttpError(409, 'template_not_draft', `version ${version} of ${describe(selector)} is ${existing.state}; only drafts can be edited (create a new version)`);
      }
      await checkTemplate(selector.key, input);
      const updated = await db.$transaction(async (tx) => {
        await lockSequence(tx, selector);
        // Published between the read and the lock: refuse rather than change a version in use.
        const result = await tx.template.updateMany({
          where: { id: existing.id, state: 'draft' },
          data: { subject: input.subject, body: input.body, bodyHtml: input.bodyHtml ?? null, ...richColumns(input) },
        });
        if (result.count === 0) throw new HttpError(409, 'template_not_draft', `version ${version} of ${describe(selector)} is no longer a draft`);
        return tx.template.findUniqueOrThrow({ where: { id: existing.id } });
      });
      return { status: 200, body: versionView(updated) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/templates/{key}/{channel}/{locale}/versions/{version}/publish',
    operationId: 'publishTemplateVersion',
    tag: 'Templates',
    summary: 'Publish a version (a draft, or an archived one to roll back to it)',
    description:
      'In one transaction, the published version of the key, channel and locale becomes archived and this one published. New ' +
      "messages use it within the renderer's cache time (`HERALD_TEMPLATE_CACHE_MS`, 30 s by default). Publishing the published " +
      'version changes nothing.',
    scope: 'admin',
    params: templateVersionPath,
    responses: { 200: { description: 'The published version and the one it replaced.', body: templatePublishedResponse } },
    errors: { 404: NO_VERSION },
    handler: async ({ params: { version, ...path } }, { db }) => {
      const selector = path as Selector;
      const result = await db.$transaction(async (tx) => {
        await lockSequence(tx, selector);
        const target = await tx.template.findUnique({ where: { key_channel_locale_version: { ...selector, version } } });
        if (!target) throw new HttpError(404, 'not_found', `no version ${version} of template ${describe(selector)}`);
        return publish(tx, target);
      });
      return { status: 200, body: result };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/templates/{key}/{channel}/{locale}/rollback',
    operationId: 'rollbackTemplate',
    tag: 'Templates',
    summary: 'Republish the version in use before the current one',
    description: 'Publishes the newest archived version older than the published one, and archives the published one. Each call steps back once more.',
    scope: 'admin',
    params: templateSequencePath,
    responses: { 200: { description: 'The republished version and the one it replaced.', body: templatePublishedResponse } },
    errors: { 409: '`no_previous_version`: nothing is published, or no older version was published before.' },
    handler: async ({ params }, { db }) => {
      const selector = params as Selector;
      const result = await db.$transaction(async (tx) => {
        await lockSequence(tx, selector);
        const current = await tx.template.findFirst({ where: { ...selector, state: 'published' }, orderBy: { version: 'desc' } });
        if (!current) throw new HttpError(409, 'no_previous_version', `${describe(selector)} has no published version to roll back`);
        // Archived versions are the ones published before; the newest older than the current one was in use before it.
        const previous = await tx.template.findFirst({ where: { ...selector, state: 'archived', version: { lt: current.version } }, orderBy: { version: 'desc' } });
        if (!previous) throw new HttpError(409, 'no_previous_version', `${describe(selector)} has no archived version older than version ${current.version}`);
        return publish(tx, previous);
      });
      return { status: 200, body: result };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/templates/{key}/preview',
    operationId: 'previewTemplate',
    tag: 'Templates',
    summary: 'Render a template for a sample event and customer, without sending or storing anything',
    description:
      "Renders the published version for the first locale of the fallback chain (`fr-CA` → `fr` → `en`) that has one, or the given " +
      "`version` (a draft, say) in the first locale that has it. The key's example values fill in what the sample event and customer do not give.",
    scope: 'admin',
    params: templateKeyPath,
    body: templatePreviewSchema,
    responses: { 200: { description: 'The rendered message and the template that made it.', body: templatePreviewResponse } },
    errors: { 404: 'No such template version, no published template along the fallback chain, or no such customer.' },
    handler: async ({ params: { key }, body: input }, { db }) => {
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
        rich: rendered.rich ?? null,
        formatting: settings,
        variables,
      };
      return { status: 200, body: view };
    },
  }),
];
