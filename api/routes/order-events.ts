import { Router } from 'express';
import type { z } from 'zod';
import { notificationKindFor, isOrderStatus } from '../../domain';
import type { Db } from '../../lib/db';
import { Prisma } from '../../lib/db';
import { metrics } from '../../lib/metrics';
import { requireScope } from '../auth';
import { validationError } from '../errors';
import type { Intake } from '../intake';
import type { acceptedEventResponse, orderEventErrorResponse } from '../response-schemas';
import { orderEventSchema } from '../schemas';

/** PostgreSQL cannot store U+0000 in text or jsonb: the kept copy of a rejected payload has U+FFFD instead. */
function storable(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('\u0000', '\uFFFD');
  if (Array.isArray(value)) return value.map(storable);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [storable(k), storable(v)]));
  return value;
}

/** POST /v1/order-events: validate, keep, signal. Invalid payloads are kept as rejected events. */
export function orderEventRoutes(db: Db, intake: Intake): Router {
  const router = Router();
  router.post('/order-events', requireScope('ingest'), async (req, res) => {
    const parsed = orderEventSchema.safeParse(req.body);
    if (!parsed.success) {
      const error = validationError(parsed.error, 'order event');
      const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
      const text = (v: unknown) => (typeof v === 'string' ? (storable(v) as string).slice(0, 200) : null);
      const rejected = await db.rejectedEvent.create({
        data: {
          source: text(body.source),
          eventId: text(body.eventId),
          orderId: text(body.orderId),
          status: text(body.status),
          // Critical statuses are surfaced first to whoever fixes rejected events.
          critical: isOrderStatus(body.status) && notificationKindFor(body.status).priority === 'critical',
          // No JSON body at all (another content type) is kept as JSON null.
          payload: req.body === undefined || req.body === null ? Prisma.JsonNull : (storable(req.body) as Prisma.InputJsonValue),
          errors: storable(error.fields) as Prisma.InputJsonValue,
        },
      });
      metrics.eventsRejected.inc({ source: rejected.source ?? 'unknown', critical: String(rejected.critical) });
      const answer: z.output<typeof orderEventErrorResponse> = { error: { code: error.code, message: error.message, fields: error.fields }, rejectedEventId: rejected.id };
      res.status(400).json(answer);
      return;
    }
    const accepted = await intake.accept(parsed.data);
    metrics.eventsAccepted.inc({ source: parsed.data.source, status: parsed.data.status, duplicate: String(accepted.duplicate) });
    const body: z.output<typeof acceptedEventResponse> = { eventId: accepted.eventId, workflowId: accepted.workflowId, duplicate: accepted.duplicate };
    res.status(202).json(body);
  });
  return router;
}
