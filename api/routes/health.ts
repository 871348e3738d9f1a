import { Router } from 'express';
import type { Connection } from '@temporalio/client';
import type { Db } from '../../lib/db';
import type { ReadinessView } from '../response-schemas';

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

/** /healthz: the process is up. /readyz: Temporal and PostgreSQL answer. */
export function healthRoutes(db: Db, connection: Connection): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const [database, temporal] = await Promise.all([
      check(() => db.$queryRaw`SELECT 1`),
      check(() => connection.workflowService.getSystemInfo({})),
    ]);
    const ready = database.ok && temporal.ok;
    const body: ReadinessView = { status: ready ? 'ready' : 'not_ready', checks: { database, temporal } };
    res.status(ready ? 200 : 503).json(body);
  });
  return router;
}
