// The examples of the experiment operations (api/examples.ts spreads them into OPERATION_EXAMPLES): the shop
// tries a shorter push when an order ships. Half of the customers get `order.shipped` as it is (the control),
// half `order.shipped.short`; the results are the ones the README's worked example computes by hand.
import type { z } from 'zod';
import { compareProportions, proportionInterval } from '../domain/experiments';
import * as x from './experiment-schemas';
import * as res from './response-schemas';
import type { Example, OperationExamples } from './examples';

const body = <S extends z.ZodType>(_schema: S, value: z.input<S>): z.input<S> => value;
const answer = <S extends z.ZodType>(_schema: S, summary: string, value: z.input<S>): Example => ({ summary, value });
const error = (summary: string, code: string, message: string, fields?: Array<{ field: string; reason: string }>): Example =>
  answer(res.errorResponse, summary, { error: { code, message, ...(fields ? { fields } : {}) } });
const invalid = (part: 'path' | 'query' | 'body', field: string, reason: string, summary: string): Example =>
  error(summary, 'validation_failed', `invalid ${part}: ${field}: ${reason}`, [{ field, reason }]);

export const EXPERIMENT_ID = 'exp-shipped-copy';
const PATH = { experimentId: EXPERIMENT_ID };

export const EXPERIMENT_INPUT = body(x.experimentSchema, {
  name: 'Shorter shipped push',
  kind: 'content',
  variants: [
    { id: 'control', weight: 1, templates: { push: 'order.shipped' } },
    { id: 'short', weight: 1, templates: { push: 'order.shipped.short' } },
  ],
  control: 'control',
  attributionWindow: '7d',
  notificationType: 'shipped',
});

const EXPERIMENT = {
  experimentId: EXPERIMENT_ID,
  name: 'Shorter shipped push',
  kind: 'content',
  variants: [
    { id: 'control', weight: 1, templates: { push: 'order.shipped' } },
    { id: 'short', weight: 1, templates: { push: 'order.shipped.short' } },
  ],
  control: 'control',
  holdout: 0,
  attributionWindowSeconds: 604800,
  notificationType: 'shipped',
  status: 'active',
  campaignId: null,
  assigned: 0,
  createdAt: '2026-12-01T10:00:00.000Z',
  updatedAt: '2026-12-01T10:00:00.000Z',
} satisfies z.input<typeof x.experimentResponse>;
const RUNNING = { ...EXPERIMENT, assigned: 4000, updatedAt: '2026-12-08T10:00:00.000Z' } satisfies z.input<typeof x.experimentResponse>;

const NO_EXPERIMENT = error('No such experiment', 'not_found', 'no experiment exp-unknown');
const INVALID_PATH = invalid('path', 'experimentId', "may contain only letters, digits, '.', '_', ':' and '-'", 'An invalid experiment id');

const counts = (variant: string, conversions: number) => ({
  variant,
  isControl: variant === 'control',
  assigned: 2000,
  exposed: 1990,
  sent: 1990,
  delivered: 1962,
  opened: variant === 'control' ? 612 : 655,
  clicked: variant === 'control' ? 118 : 141,
  unsubscribed: variant === 'control' ? 4 : 3,
  conversions,
  conversionRate: conversions / 2000,
  conversionRateInterval: proportionInterval(conversions, 2000),
  maturing: 0,
});
const { difference, lift, z: zScore, pValue, confidenceInterval } = compareProportions(250, 2000, 200, 2000);

export const EXPERIMENT_EXAMPLES: Record<string, OperationExamples> = {
  putExperiment: {
    params: PATH,
    body: EXPERIMENT_INPUT,
    responses: {
      201: { created: answer(x.experimentResponse, 'Created', EXPERIMENT) },
      200: { renamed: answer(x.experimentResponse, 'Replaced (before anyone was assigned), or renamed', { ...EXPERIMENT, updatedAt: '2026-12-01T10:05:00.000Z' }) },
      400: {
        holdout: invalid(
          'body',
          'holdout',
          'order updates are transactional and never withheld: an order-update experiment cannot have a holdout (use 0)',
          'A holdout on an order update',
        ),
      },
      409: {
        assigned: error(
          'New weights once customers are assigned',
          'experiment_has_assignments',
          `experiment ${EXPERIMENT_ID} has 4000 assigned customers: its variants, control, holdout, attribution window and notification type can no longer change (only name and status); create a new experiment instead`,
        ),
      },
    },
  },
  getExperiment: {
    params: PATH,
    responses: { 200: { experiment: answer(x.experimentResponse, 'Running, 4000 customers assigned', RUNNING) }, 400: { invalidPath: INVALID_PATH }, 404: { unknown: NO_EXPERIMENT } },
  },
  listExperiments: {
    query: { limit: '20' },
    responses: {
      200: { page: answer(x.experimentPageResponse, 'The one experiment', { items: [RUNNING], nextCursor: null }) },
      400: { invalidStatus: invalid('query', 'status', 'must be active or stopped', 'An unknown status') },
    },
  },
  stopExperiment: {
    params: PATH,
    responses: {
      200: { stopped: answer(x.experimentResponse, 'Stopped', { ...RUNNING, status: 'stopped', updatedAt: '2026-12-15T10:00:00.000Z' }) },
      400: { invalidPath: INVALID_PATH },
      404: { unknown: NO_EXPERIMENT },
    },
  },
  getExperimentResults: {
    params: PATH,
    responses: {
      200: {
        results: answer(x.experimentResultsResponse, 'The shorter push converts 12.5% against 10% (p = 0.012)', {
          experimentId: EXPERIMENT_ID,
          name: 'Shorter shipped push',
          kind: 'content',
          status: 'stopped',
          control: 'control',
          attributionWindowSeconds: 604800,
          confidence: 0.95,
          computedAt: '2026-12-23T10:00:00.000Z',
          firstExposedAt: '2026-12-01T10:02:11.000Z',
          variants: [
            { ...counts('control', 200), vsControl: null, vsHoldout: null },
            {
              ...counts('short', 250),
              vsControl: { baseline: 'control', difference, lift, z: zScore, pValue, confidenceInterval },
              vsHoldout: null,
            },
          ],
        }),
      },
      400: { invalidPath: INVALID_PATH },
      404: { unknown: NO_EXPERIMENT },
    },
  },
};
