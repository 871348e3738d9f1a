import { Router } from 'express';
import type { Db } from '../../lib/db';
import { requireScope } from '../auth';
import { HttpError, validationError } from '../errors';
import { statsQuerySchema } from '../schemas';
import { bucketStarts, computeStats, STATS_MAX_BUCKETS } from '../stats';

/** GET /v1/stats: counts, rates and latency percentiles per group over a window (see api/stats.ts). */
export function statsRoutes(db: Db): Router {
  const router = Router();
  router.get('/stats', requireScope('read'), async (req, res) => {
    const parsed = statsQuerySchema.safeParse(req.query);
    if (!parsed.success) throw validationError(parsed.error, 'query');
    const query = parsed.data;
    if (query.bucket) {
      const buckets = bucketStarts(query.from, query.to, query.bucket).length;
      if (buckets > STATS_MAX_BUCKETS) {
        const reason = `makes ${buckets} buckets over this range; at most ${STATS_MAX_BUCKETS}: use a coarser bucket or a shorter range`;
        throw new HttpError(400, 'validation_failed', `invalid query: bucket: ${reason}`, [{ field: 'bucket', reason }]);
      }
    }
    res.json(await computeStats(db, query));
  });
  return router;
}
