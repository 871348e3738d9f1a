import path from 'node:path';
import { Router, type Response } from 'express';
import { defineRoute, type Route } from '../route';

const DASHBOARD_DIR = path.resolve(__dirname, '../dashboard');
const CHART_JS = path.join(path.dirname(require.resolve('chart.js')), 'chart.umd.js');

// Everything the page loads comes from this origin; the API key never leaves it.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

function send(res: Response, file: string, type: string, cache: string): void {
  res.set(SECURITY_HEADERS).set('cache-control', cache).type(type).sendFile(file);
}

/**
 * GET /dashboard: a static page (no build step) that asks for an API key, keeps it in sessionStorage and
 * charts /v1/stats and /v1/dead-letters with it, looks orders up (lookup.js: /v1/lookup and the timelines) and shows experiments' results (experiments.js) and the open critical rejected events first (quarantine.js). The page itself needs no key.
 */
export const dashboardRoutes: Route[] = [
  defineRoute({
    method: 'get',
    path: '/dashboard',
    operationId: 'dashboard',
    tag: 'Documentation',
    summary: 'The operations dashboard (it asks for an API key itself)',
    scope: null,
    responses: { 200: { description: 'An HTML page.', content: { mediaType: 'text/html', schema: { type: 'string' } } } },
    handler: ({ res }) => send(res, path.join(DASHBOARD_DIR, 'index.html'), 'html', 'no-cache'),
  }),
];

/** The files the dashboard page loads. */
export function dashboardAssets(): Router {
  const router = Router();
  router.get('/dashboard/assets/dashboard.js', (_req, res) => send(res, path.join(DASHBOARD_DIR, 'dashboard.js'), 'js', 'no-cache'));
  router.get('/dashboard/assets/api-client.js', (_req, res) => send(res, path.join(DASHBOARD_DIR, 'api-client.js'), 'js', 'no-cache'));
  router.get('/dashboard/assets/lookup.js', (_req, res) => send(res, path.join(DASHBOARD_DIR, 'lookup.js'), 'js', 'no-cache'));
  router.get('/dashboard/assets/experiments.js', (_req, res) => send(res, path.join(DASHBOARD_DIR, 'experiments.js'), 'js', 'no-cache'));
  router.get('/dashboard/assets/quarantine.js', (_req, res) => send(res, path.join(DASHBOARD_DIR, 'quarantine.js'), 'js', 'no-cache'));
  router.get('/dashboard/assets/dashboard.css', (_req, res) => send(res, path.join(DASHBOARD_DIR, 'dashboard.css'), 'css', 'no-cache'));
  router.get('/dashboard/assets/chart.umd.js', (_req, res) => send(res, CHART_JS, 'js', 'public, max-age=86400'));
  return router;
}
