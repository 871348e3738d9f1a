import type { RequestHandler } from 'express';
import { metrics } from '../lib/metrics';

/** The label of every request no route matched (unknown paths, and a 401 or 405 answered before a route ran). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Times every request, labelled by the template of the route that answered it (`/v1/orders/{orderId}/notifications`),
 * never by the raw path: anything no route matched shares one label, so random paths add no series.
 */
export const requestMetrics: RequestHandler = (req, res, next) => {
  const started = performance.now();
  res.on('finish', () => {
    const template = req.route?.path;
    const route = typeof template === 'string' ? `${req.baseUrl}${template}`.replace(/:(\w+)/g, '{$1}') : UNMATCHED_ROUTE;
    metrics.httpRequests.observe({ method: req.method, route, status: String(res.statusCode) }, (performance.now() - started) / 1000);
  });
  next();
};
