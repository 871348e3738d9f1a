import { HttpError } from '../errors';
import { statsResponse } from '../response-schemas';
import { defineRoute, type Route } from '../route';
import { STATS_MAX_RANGE_DAYS, statsQuerySchema } from '../schemas';
import { bucketStarts, computeStats, STATS_MAX_BUCKETS } from '../stats';

/** GET /v1/stats: counts, rates and latency percentiles per group over a window (see api/stats.ts). */
export const statsRoutes: Route[] = [
  defineRoute({
    method: 'get',
    path: '/v1/stats',
    operationId: 'getStats',
    tag: 'Statistics',
    summary: 'Delivery counts, rates and latency percentiles over a window',
    description:
      `The window [from, to) defaults to the last 24 hours and spans at most ${STATS_MAX_RANGE_DAYS} days; to must be later than from. ` +
      `With \`bucket\`, every group has a time series of at most ${STATS_MAX_BUCKETS} buckets; \`bucket=auto\` fits the bucket and the series' start to the data. ` +
      'Latency leaves out deliberate waits (holds, the wait before a backup), which `deliberateWaits` reports on their own. ' +
      '`intake` is the intake backlog as of now (not over the window): order events stored and not yet signalled, and the signalling pool of the instance that answered.',
    scope: 'read',
    query: statsQuerySchema,
    responses: { 200: { description: 'Totals, groups and their series.', body: statsResponse } },
    handler: async ({ query }, { db, intake }) => {
      if (query.bucket && query.bucket !== 'auto') {
        const buckets = bucketStarts(query.from, query.to, query.bucket).length;
        if (buckets > STATS_MAX_BUCKETS) {
          const reason = `makes ${buckets} buckets over this range; at most ${STATS_MAX_BUCKETS}: use a coarser bucket or a shorter range`;
          throw new HttpError(400, 'validation_failed', `invalid query: bucket: ${reason}`, [{ field: 'bucket', reason }]);
        }
      }
      return { status: 200, body: { ...(await computeStats(db, query)), intake: await intake.backlog() } };
    },
  }),
];
