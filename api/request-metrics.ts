import type { RequestHandler } from 'express';
import { metrics } from '../lib/metrics';

/** Times every request, labelled by its route pattern (not the raw path, which would explode the label set). */
export const requestMetrics: RequestHandler = (req, res, next) => {
  const started = performance.now();
  res.on('finish', () => {
    const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : res.statusCode === 404 ? 'unmatched' : req.baseUrl || req.path;
    metrics.httpRequests.observe({ method: req.method, route, status: String(res.statusCode) }, (performance.now() - started) / 1000);
  });
  next();
};
