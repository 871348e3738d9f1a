import { registry } from '../../lib/metrics';
import { healthResponse, readinessResponse, type ReadinessView } from '../response-schemas';
import { defineRoute, type Route } from '../route';

async function check(probe: () => Promise<unknown>, timeoutMs = 2000): Promise<{ ok: boolean; error?: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([probe(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)))]);
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** /healthz: the process is up. /readyz: Temporal and PostgreSQL answer. /metrics: Prometheus text. */
export const healthRoutes: Route[] = [
  defineRoute({
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    tag: 'Operations',
    summary: 'The process is up',
    scope: null,
    responses: { 200: { description: 'Up.', body: healthResponse } },
    handler: (_request) => ({ status: 200, body: { status: 'ok' as const } }),
  }),
  defineRoute({
    method: 'get',
    path: '/readyz',
    operationId: 'readiness',
    tag: 'Operations',
    summary: 'Temporal and PostgreSQL both answer',
    scope: null,
    responses: {
      200: { description: 'Ready.', body: readinessResponse },
      503: { description: "Not ready: each check's error.", body: readinessResponse },
    },
    handler: async (_request, { db, connection }) => {
      const [database, temporal] = await Promise.all([
        check(() => db.$queryRaw`SELECT 1`),
        check(() => connection.workflowService.getSystemInfo({})),
      ]);
      const ready = database.ok && temporal.ok;
      const body: ReadinessView = { status: ready ? 'ready' : 'not_ready', checks: { database, temporal } };
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
    responses: { 200: { description: 'Prometheus text exposition format.', content: { mediaType: 'text/plain', schema: { type: 'string' } } } },
    handler: async ({ res }) => {
      res.type(registry.contentType).send(await registry.metrics());
    },
  }),
];
