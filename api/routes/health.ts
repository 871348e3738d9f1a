import { randomUUID } from 'node:crypto';
import type { Logger } from '../../lib/logger';
import { registry } from '../../lib/metrics';
import { healthResponse, readinessResponse, type ReadinessView } from '../response-schemas';
import { defineRoute, type Route } from '../route';

/**
 * One dependency's check. A failure answers only a generic reason and an error id: the exception's own text (hosts,
 * ports, SQL, driver codes) goes to the log line that carries the same id, never to an unauthenticated caller.
 */
async function check(name: string, logger: Logger, probe: () => Promise<unknown>, timeoutMs = 2000): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([probe(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)))]);
    return { ok: true };
  } catch (err) {
    const errorId = randomUUID();
    logger.error({ err, errorId, check: name }, 'readiness check failed');
    return { ok: false, error: `${name} did not answer (error id ${errorId})` };
  } finally {
    clearTimeout(timer);
  }
}

/** How long one readiness answer is reused: probes and scrapers are never limited, so a flood of them costs one check a second. */
const READINESS_REUSE_MS = 1_000;
type Readiness = { ready: boolean; body: ReadinessView };
/** Per database handle (one app each): the check running or last finished, and when it finished. */
const readinessChecks = new WeakMap<object, { result: Promise<Readiness>; finishedAt: number | null }>();

function readiness(db: object, run: () => Promise<Readiness>): Promise<Readiness> {
  const last = readinessChecks.get(db);
  if (last && (last.finishedAt === null || Date.now() - last.finishedAt < READINESS_REUSE_MS)) return last.result;
  const entry: { result: Promise<Readiness>; finishedAt: number | null } = { result: run(), finishedAt: null };
  void entry.result.finally(() => (entry.finishedAt = Date.now()));
  readinessChecks.set(db, entry);
  return entry.result;
}

/** /healthz: the process is up. /readyz: Temporal and PostgreSQL answer. /metrics: Prometheus text. Never rate-limited: probes and scrapers must always get an answer. */
export const healthRoutes: Route[] = [
  defineRoute({
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    tag: 'Operations',
    summary: 'The process is up',
    scope: null,
    budget: null,
    responses: { 200: { description: 'Up.', body: healthResponse } },
    handler: (_request) => ({ status: 200, body: { status: 'ok' as const } }),
  }),
  defineRoute({
    method: 'get',
    path: '/readyz',
    operationId: 'readiness',
    tag: 'Operations',
    summary: 'Temporal and PostgreSQL both answer',
    description: 'Requests at once share one check, and its answer serves for a second after it, so probes cost the dependencies one check a second at most.',
    scope: null,
    budget: null,
    responses: {
      200: { description: 'Ready.', body: readinessResponse },
      503: { description: "Not ready: each failed check's generic reason and the error id its log line carries.", body: readinessResponse },
    },
    handler: async (_request, { db, connection, logger }) => {
      // Requests at once share one check, and its answer serves for a second after it.
      const { ready, body } = await readiness(db, async () => {
        const [database, temporal] = await Promise.all([
          check('database', logger, () => db.$queryRaw`SELECT 1`),
          check('temporal', logger, () => connection.workflowService.getSystemInfo({})),
        ]);
        const ok = database.ok && temporal.ok;
        return { ready: ok, body: { status: ok ? 'ready' : 'not_ready', checks: { database, temporal } } };
      });
      return { status: ready ? 200 : 503, body };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'Operations',
    summary: 'Prometheus metrics of the API process',
    scope: null,
    budget: null,
    responses: { 200: { description: 'Prometheus text exposition format.', content: { mediaType: 'text/plain', schema: { type: 'string' } } } },
    handler: async ({ res }) => {
      res.type(registry.contentType).send(await registry.metrics());
    },
  }),
];
