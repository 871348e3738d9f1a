// Experiments (README, "Experiments"): create or replace one, read it and the list, stop it, and its results per
// variant: engagement, unsubscribes and conversions (orders confirmed within the attribution window after the
// send), each variant's conversion rate against the control and the holdout (lift, z-test p-value, 95% interval).
import { classOf, compareProportions, HOLDOUT, proportionInterval, isOrderStatus, isPreferenceCategory, notificationKindFor, type ExperimentVariant } from '../../domain';
import type { Db } from '../../lib/db';
import { assignedCounts, variantCounts, type VariantCounts } from '../../store/experiment-results';
import { HttpError } from '../errors';
import {
  DEFAULT_ATTRIBUTION_WINDOW_SECONDS,
  experimentListQuerySchema,
  experimentPageResponse,
  experimentPath,
  experimentResponse,
  experimentResultsResponse,
  experimentSchema,
  variantsOf,
  type ExperimentInput,
  type ExperimentResultsView,
  type ExperimentView,
  type VariantResultView,
} from '../experiment-schemas';
import { decodeTimeCursor, encodeTimeCursor, olderThan } from '../paging';
import { defineRoute, type Route } from '../route';

const CONFIDENCE = 0.95;

type ExperimentRow = NonNullable<Awaited<ReturnType<typeof findExperiment>>>;

function findExperiment(db: Db, id: string) {
  return db.experiment.findUnique({ where: { id }, include: { campaign: { select: { id: true } } } });
}

async function experimentOrNotFound(db: Db, id: string): Promise<ExperimentRow> {
  const row = await findExperiment(db, id);
  if (!row) throw new HttpError(404, 'not_found', `no experiment ${id}`);
  return row;
}

function experimentView(row: ExperimentRow, assigned: number): ExperimentView {
  return {
    experimentId: row.id,
    name: row.name,
    kind: row.kind as ExperimentView['kind'],
    variants: row.variants as unknown as ExperimentVariant[],
    control: row.control,
    holdout: row.holdout,
    attributionWindowSeconds: row.attributionWindowSeconds,
    notificationType: isOrderStatus(row.notificationType) ? row.notificationType : null,
    status: row.status === 'stopped' ? 'stopped' : 'active',
    campaignId: row.campaign?.id ?? null,
    assigned,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** What the experiment's results compare: the design fixed once anyone is assigned (the name and the status may change). */
const designOf = (e: { kind: string; variants: unknown; control: string; holdout: number; attributionWindowSeconds: number; notificationType: string | null }) =>
  canonical([e.kind, e.variants, e.control, e.holdout, e.attributionWindowSeconds, e.notificationType ?? null]);

/** JSON with every object's keys sorted: jsonb gives keys back in its own order. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );

function columnsOf(input: ExperimentInput) {
  return {
    name: input.name,
    kind: input.kind,
    variants: variantsOf(input) as unknown as object,
    control: input.control,
    holdout: input.holdout,
    attributionWindowSeconds: input.attributionWindow ?? DEFAULT_ATTRIBUTION_WINDOW_SECONDS,
    notificationType: input.notificationType ?? null,
    status: input.status,
  };
}

/** The preference categories of the experiment's messages: an order update's topic and class, or the campaign's category and class. */
async function categoriesOf(db: Db, row: ExperimentRow): Promise<string[]> {
  if (isOrderStatus(row.notificationType)) {
    const kind = notificationKindFor(row.notificationType);
    return [kind.category, ...(kind.topic ? [kind.topic] : [])];
  }
  const campaign = row.campaign ? await db.campaign.findUnique({ where: { id: row.campaign.id }, select: { category: true } }) : null;
  const category = campaign?.category ?? 'marketing';
  return isPreferenceCategory(category) ? [...new Set([category, classOf(category)])] : [category];
}

const emptyCounts = (variant: string): VariantCounts => ({
  variant,
  assigned: 0,
  exposed: 0,
  sent: 0,
  delivered: 0,
  opened: 0,
  clicked: 0,
  unsubscribed: 0,
  conversions: 0,
  maturing: 0,
  firstStart: null,
});

function comparison(variant: VariantCounts, baseline: VariantCounts, name: string): NonNullable<VariantResultView['vsControl']> {
  const c = compareProportions(variant.conversions, variant.assigned, baseline.conversions, baseline.assigned, CONFIDENCE);
  return { baseline: name, difference: c.difference, lift: c.lift, z: c.z, pValue: c.pValue, confidenceInterval: c.confidenceInterval };
}

/** The results of an experiment: its counts per variant (store/experiment-results.ts) and the statistics on them. */
export async function experimentResults(db: Db, row: ExperimentRow): Promise<ExperimentResultsView> {
  const counted = await variantCounts(db, { experimentId: row.id, windowSeconds: row.attributionWindowSeconds, categories: await categoriesOf(db, row) });
  const byVariant = new Map(counted.map((c) => [c.variant, c]));
  const declared = (row.variants as unknown as ExperimentVariant[]).map((v) => v.id);
  const hasHoldout = row.holdout > 0 || byVariant.has(HOLDOUT);
  // Declared variants first, then the holdout; a variant found only in assignments (written by hand) is still shown.
  const names = [...declared, ...(hasHoldout ? [HOLDOUT] : []), ...counted.map((c) => c.variant).filter((v) => !declared.includes(v) && v !== HOLDOUT)];
  const counts = (name: string) => byVariant.get(name) ?? emptyCounts(name);
  const control = counts(row.control);
  const holdout = hasHoldout ? counts(HOLDOUT) : null;
  const variants = names.map((name): VariantResultView => {
    const c = counts(name);
    return {
      variant: name,
      isControl: name === row.control,
      assigned: c.assigned,
      exposed: c.exposed,
      sent: c.sent,
      delivered: c.delivered,
      opened: c.opened,
      clicked: c.clicked,
      unsubscribed: c.unsubscribed,
      conversions: c.conversions,
      conversionRate: c.assigned > 0 ? c.conversions / c.assigned : null,
      conversionRateInterval: proportionInterval(c.conversions, c.assigned, CONFIDENCE),
      maturing: c.maturing,
      vsControl: name === row.control ? null : comparison(c, control, row.control),
      vsHoldout: holdout && name !== HOLDOUT ? comparison(c, holdout, HOLDOUT) : null,
    };
  });
  const starts = counted.map((c) => c.firstStart).filter((d): d is Date => d !== null);
  return {
    experimentId: row.id,
    name: row.name,
    kind: row.kind as ExperimentResultsView['kind'],
    status: row.status === 'stopped' ? 'stopped' : 'active',
    control: row.control,
    attributionWindowSeconds: row.attributionWindowSeconds,
    confidence: CONFIDENCE,
    computedAt: new Date(),
    firstExposedAt: starts.length ? new Date(Math.min(...starts.map((d) => d.getTime()))) : null,
    variants,
  };
}

const NO_EXPERIMENT = 'No such experiment.';

export const experimentRoutes: Route[] = [
  defineRoute({
    method: 'put',
    path: '/v1/experiments/{experimentId}',
    operationId: 'putExperiment',
    tag: 'Experiments',
    summary: 'Create or replace an experiment',
    description:
      'Variants of content (`templates` per channel), send time (`sendAt`) or channel (`channel`), with weights and an optional holdout share that gets ' +
      'nothing. Customers are assigned by a hash of the experiment id and their id, once, and keep their variant. An order-update experiment ' +
      '(`notificationType`, such as `shipped`) varies the templates of that order notification; it is kind `content` and has no holdout, since order ' +
      'updates are never withheld. A campaign names its experiment by `experimentId`. Once anyone is assigned, only `name` and `status` may change (409 otherwise).',
    scope: 'admin',
    params: experimentPath,
    body: experimentSchema,
    responses: {
      200: { description: 'The experiment was replaced.', body: experimentResponse },
      201: { description: 'The experiment was created.', body: experimentResponse },
    },
    errors: {
      409:
        '`experiment_has_assignments`: customers are assigned already, so the variants, control, holdout, window and notification type are fixed; ' +
        '`experiment_conflict`: another active experiment varies the same order notification, or a campaign runs this one.',
    },
    handler: async ({ params: { experimentId }, body: input }, { db }) => {
      const columns = columnsOf(input);
      const { row, created } = await db.$transaction(async (tx) => {
        // One writer per experiment, and per order notification type, at a time: the checks below then hold.
        await tx.$queryRaw`SELECT 1 AS locked FROM pg_advisory_xact_lock(hashtext(${`herald-experiment:${columns.notificationType ?? experimentId}`}))`;
        const existing = await tx.experiment.findUnique({ where: { id: experimentId }, include: { campaign: { select: { id: true } } } });
        if (existing && designOf(existing) !== designOf(columns)) {
          const assigned = await tx.experimentAssignment.count({ where: { experimentId } });
          if (assigned > 0) {
            throw new HttpError(
              409,
              'experiment_has_assignments',
              `experiment ${experimentId} has ${assigned} assigned customers: its variants, control, holdout, attribution window and notification type can no longer change (only name and status); create a new experiment instead`,
            );
          }
        }
        if (columns.notificationType && existing?.campaign) {
          throw new HttpError(409, 'experiment_conflict', `campaign ${existing.campaign.id} runs experiment ${experimentId}: it cannot also vary an order notification`);
        }
        if (columns.notificationType && columns.status === 'active') {
          const other = await tx.experiment.findFirst({ where: { notificationType: columns.notificationType, status: 'active', id: { not: experimentId } }, select: { id: true } });
          if (other) {
            throw new HttpError(409, 'experiment_conflict', `experiment ${other.id} already varies the ${columns.notificationType} notification: stop it first (POST /v1/experiments/${other.id}/stop)`);
          }
        }
        const saved = await tx.experiment.upsert({
          where: { id: experimentId },
          create: { id: experimentId, ...columns },
          update: columns,
          include: { campaign: { select: { id: true } } },
        });
        return { row: saved, created: !existing };
      });
      const assigned = (await assignedCounts(db, [row.id])).get(row.id) ?? 0;
      return { status: created ? 201 : 200, body: experimentView(row, assigned) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/experiments/{experimentId}',
    operationId: 'getExperiment',
    tag: 'Experiments',
    summary: 'One experiment',
    scope: 'read',
    params: experimentPath,
    responses: { 200: { description: 'The experiment and how many customers are assigned.', body: experimentResponse } },
    errors: { 404: NO_EXPERIMENT },
    handler: async ({ params: { experimentId } }, { db }) => {
      const row = await experimentOrNotFound(db, experimentId);
      return { status: 200, body: experimentView(row, (await assignedCounts(db, [row.id])).get(row.id) ?? 0) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/experiments',
    operationId: 'listExperiments',
    tag: 'Experiments',
    summary: 'Experiments, newest first',
    scope: 'read',
    query: experimentListQuerySchema,
    responses: { 200: { description: 'A page of experiments.', body: experimentPageResponse } },
    handler: async ({ query: { limit, cursor, status } }, { db }) => {
      const after = cursor ? decodeTimeCursor(cursor) : null;
      const rows = await db.experiment.findMany({
        where: { ...(status ? { status } : {}), ...(after ? olderThan(after) : {}) },
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: limit + 1,
        include: { campaign: { select: { id: true } } },
      });
      const page = rows.slice(0, limit);
      const assigned = await assignedCounts(db, page.map((r) => r.id));
      return {
        status: 200,
        body: { items: page.map((r) => experimentView(r, assigned.get(r.id) ?? 0)), nextCursor: rows.length > limit ? encodeTimeCursor(page.at(-1)!) : null },
      };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/experiments/{experimentId}/stop',
    operationId: 'stopExperiment',
    tag: 'Experiments',
    summary: 'Stop an experiment: nobody new is assigned',
    description: 'The customers assigned keep their variant in the results, which go on counting conversions until their windows close. Stopping a stopped experiment changes nothing.',
    scope: 'admin',
    params: experimentPath,
    responses: { 200: { description: 'The stopped experiment.', body: experimentResponse } },
    errors: { 404: NO_EXPERIMENT },
    handler: async ({ params: { experimentId } }, { db }) => {
      await experimentOrNotFound(db, experimentId);
      await db.experiment.updateMany({ where: { id: experimentId, status: { not: 'stopped' } }, data: { status: 'stopped' } });
      const row = await experimentOrNotFound(db, experimentId);
      return { status: 200, body: experimentView(row, (await assignedCounts(db, [row.id])).get(row.id) ?? 0) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/experiments/{experimentId}/results',
    operationId: 'getExperimentResults',
    tag: 'Experiments',
    summary: 'Results per variant: engagement, unsubscribes, conversions, lift and significance',
    description:
      'Counts of customers per variant (and the holdout): assigned, exposed, sent, delivered, opened, clicked, unsubscribed, and conversions: ' +
      'customers with a `confirmed` order event whose occurredAt falls after their exposure and within the attribution window. Rates divide by every ' +
      'assigned customer (intent to treat; one never sent counts from their assignment). Each variant is compared with the control and, when there is ' +
      'one, the holdout: lift, a pooled two-proportion z-test (two-sided p-value) and a 95% Wald interval of the difference. `maturing` counts the ' +
      'customers whose window is still open.',
    scope: 'read',
    params: experimentPath,
    responses: { 200: { description: 'The results.', body: experimentResultsResponse } },
    errors: { 404: NO_EXPERIMENT },
    handler: async ({ params: { experimentId } }, { db }) => ({ status: 200, body: await experimentResults(db, await experimentOrNotFound(db, experimentId)) }),
  }),
];
