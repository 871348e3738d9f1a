import { Router } from 'express';
import type { Db } from '../../lib/db';
import { Prisma } from '../../lib/db';
import { requireScope } from '../auth';
import { idParam } from '../paging';
import { HttpError, validationError } from '../errors';
import { isPreferenceCategory } from '../../domain';
import type { CustomerView, DeviceView } from '../response-schemas';
import { customerSchema, deviceSchema } from '../schemas';

export function customerView(c: Prisma.CustomerGetPayload<{ include: { preferences: true } }>): CustomerView {
  return {
    customerId: c.id,
    name: c.name,
    email: c.email,
    phone: c.phone,
    locale: c.locale,
    timeZone: c.timeZone,
    quietHours: c.quietHoursStart && c.quietHoursEnd ? { start: c.quietHoursStart, end: c.quietHoursEnd } : null,
    // A row of a topic since removed from domain/preferences.ts no longer means anything: not shown.
    preferences: c.preferences.flatMap((p) => (isPreferenceCategory(p.category) ? [{ channel: p.channel, category: p.category, optedIn: p.optedIn }] : [])),
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

function deviceView(d: Prisma.DeviceGetPayload<object>): DeviceView {
  return {
    deviceId: d.deviceId,
    customerId: d.customerId,
    platform: d.platform,
    app: d.app,
    locale: d.locale,
    timeZone: d.timeZone,
    active: d.active,
    lastSeenAt: d.lastSeenAt,
    invalidatedAt: d.invalidatedAt,
    invalidatedReason: d.invalidatedReason,
  };
}


const customerIdParam = (raw: unknown): string => idParam('customerId', raw);

export function customerRoutes(db: Db): Router {
  const router = Router();

  router.put('/customers/:customerId', requireScope('ingest'), async (req, res) => {
    const customerId = customerIdParam(req.params.customerId);
    const parsed = customerSchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'customer');
    const c = parsed.data;
    const values = {
      ...(c.name !== undefined ? { name: c.name } : {}),
      ...(c.email !== undefined ? { email: c.email } : {}),
      ...(c.phone !== undefined ? { phone: c.phone } : {}),
      ...(c.locale !== undefined ? { locale: Intl.getCanonicalLocales(c.locale)[0]! } : {}),
      ...(c.timeZone !== undefined ? { timeZone: c.timeZone } : {}),
      ...(c.quietHours !== undefined ? { quietHoursStart: c.quietHours?.start ?? null, quietHoursEnd: c.quietHours?.end ?? null } : {}),
    };
    const existed = await db.customer.findUnique({ where: { id: customerId }, select: { id: true } });
    const saved = await db.customer.upsert({
      where: { id: customerId },
      create: { id: customerId, ...values },
      update: values,
      include: { preferences: true },
    });
    res.status(existed ? 200 : 201).json(customerView(saved));
  });

  router.get('/customers/:customerId', requireScope('read'), async (req, res) => {
    const customerId = customerIdParam(req.params.customerId);
    const customer = await db.customer.findUnique({ where: { id: customerId }, include: { preferences: true } });
    if (!customer) throw new HttpError(404, 'not_found', `no customer ${customerId}`);
    res.json(customerView(customer));
  });

  router.post('/customers/:customerId/devices', requireScope('ingest'), async (req, res) => {
    const customerId = customerIdParam(req.params.customerId);
    const parsed = deviceSchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, 'device');
    const d = parsed.data;
    const token = d.platform === 'web' ? d.subscription!.endpoint : d.token!;
    const values = {
      customerId,
      platform: d.platform,
      token,
      webPushKeys: d.platform === 'web' ? (d.subscription!.keys as Prisma.InputJsonValue) : Prisma.DbNull,
      app: d.app ?? null,
      locale: d.locale ?? null,
      timeZone: d.timeZone ?? null,
      active: true,
      lastSeenAt: new Date(),
      invalidatedAt: null,
      invalidatedReason: null,
    };
    const { device, created } = await db.$transaction(async (tx) => {
      // A device may register before the customer profile syncs; keep a minimal profile until it does.
      await tx.customer.upsert({ where: { id: customerId }, create: { id: customerId }, update: {} });
      // A token belongs to one installation: if another device row holds it, that installation is gone.
      await tx.device.deleteMany({ where: { token, NOT: { deviceId: d.deviceId } } });
      const existing = await tx.device.findUnique({ where: { deviceId: d.deviceId }, select: { id: true } });
      const device = await tx.device.upsert({ where: { deviceId: d.deviceId }, create: { deviceId: d.deviceId, ...values }, update: values });
      return { device, created: !existing };
    });
    res.status(created ? 201 : 200).json(deviceView(device));
  });

  router.get('/customers/:customerId/devices', requireScope('read'), async (req, res) => {
    const customerId = customerIdParam(req.params.customerId);
    const devices = await db.device.findMany({ where: { customerId }, orderBy: { lastSeenAt: 'desc' } });
    res.json({ items: devices.map(deviceView) });
  });

  router.delete('/customers/:customerId/devices/:deviceId', requireScope('ingest'), async (req, res) => {
    const customerId = customerIdParam(req.params.customerId);
    const deviceId = idParam('deviceId', req.params.deviceId);
    const result = await db.device.updateMany({
      where: { customerId, deviceId },
      data: { active: false, invalidatedAt: new Date(), invalidatedReason: 'unregistered by client' },
    });
    if (result.count === 0) throw new HttpError(404, 'not_found', `customer ${customerId} has no device ${deviceId}`);
    res.status(204).end();
  });

  return router;
}
