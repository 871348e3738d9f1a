import { Router } from 'express';
import { notificationKindFor, isOrderStatus } from '../../domain';
import type { Db } from '../../lib/db';
import { Prisma } from '../../lib/db';
import { metrics } from '../../lib/metrics';
import { requireScope } from '../auth';
import { validationError } from '../errors';
import type { Intake } from '../intake';
import { orderEventSchema } from '../schemas';

/** POST /v1/order-events: validate, keep, signal. Invalid payloads are kept as rejected events. */
export function orderEventRoutes(db: Db, intake: Intake): Router {
  const router = Router();
  router.post('/order-events', requireScope('ingest'), async (req, res) => {
    const parsed = orderEventSchema.safeParse(req.body);
    if (!parsed.success) {
      const error = validationError(parsed.error, 'order event');
      const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
      const text = (v: unknown) => (typeof v === 'string' ? v.slice(0, 200) : null);
      const rejected = await db.rejectedEvent.create({
        data: {
          source: text(body.source),
          eventId: text(body.eventId),
          orderId: text(body.orderId),
          status: text(body.status),
          // Critical statuses are surfaced first to whoever fixes rejected events.
          critical: isOrderStatus(body.status) && notificationKindFor(body.status).priority === 'critical',
          payload: (req.body ?? null) as Prisma.InputJsonValue,
          errors: error.fields as unknown as Prisma.InputJsonValue,
        },
      });
      metrics.eventsRejected.inc({ source: rejected.source ?? 'unknown', critical: String(rejected.critical) });
      res.status(400).json({ error: { code: error.code, message: error.message, fields: error.fields }, rejectedEventId: rejected.id });
      return;
    }
    const accepted = await intake.accept(parsed.data);
    metrics.eventsAccepted.inc({ source: parsed.data.source, status: parsed.data.status, duplicate: String(accepted.duplicate) });
    res.status(202).json({ eventId: accepted.eventId, workflowId: accepted.workflowId, duplicate: accepted.duplicate });
  });
  return router;
}
