import { Prisma } from '../../lib/db';
import { endpointRefusal, ENDPOINT_REFUSALS } from '../../lib/push-endpoints';
import { HttpError } from '../errors';
import { isPreferenceCategory } from '../../domain';
import { customerResponse, deviceListResponse, deviceResponse, type CustomerView, type DeviceView } from '../response-schemas';
import { defineRoute, type Route } from '../route';
import { customerPath, customerSchema, devicePath, deviceSchema } from '../schemas';

export function customerView(c: Prisma.CustomerGetPayload<{ include: { preferences: true } }>): CustomerView {
  return {
    customerId: c.id,
    name: c.name,
    email: c.email,
    phone: c.phone,
    locale: c.locale,
    timeZone: c.timeZone,
    country: c.country,
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


export const customerRoutes: Route[] = [
  defineRoute({
    method: 'put',
    path: '/v1/customers/{customerId}',
    operationId: 'putCustomer',
    tag: 'Customers',
    summary: 'Create or update a customer profile',
    description: 'Fields left out keep their value; null clears a nullable one.',
    scope: 'ingest',
    params: customerPath,
    body: customerSchema,
    responses: { 200: { description: 'Updated.', body: customerResponse }, 201: { description: 'Created.', body: customerResponse } },
    handler: async ({ params: { customerId }, body: c }, { db }) => {
      const values = {
        ...(c.name !== undefined ? { name: c.name } : {}),
        ...(c.email !== undefined ? { email: c.email } : {}),
        ...(c.phone !== undefined ? { phone: c.phone } : {}),
        ...(c.locale !== undefined ? { locale: Intl.getCanonicalLocales(c.locale)[0]! } : {}),
        ...(c.timeZone !== undefined ? { timeZone: c.timeZone } : {}),
        ...(c.country !== undefined ? { country: c.country } : {}),
        ...(c.quietHours !== undefined ? { quietHoursStart: c.quietHours?.start ?? null, quietHoursEnd: c.quietHours?.end ?? null } : {}),
      };
      const existed = await db.customer.findUnique({ where: { id: customerId }, select: { id: true } });
      const saved = await db.customer.upsert({
        where: { id: customerId },
        create: { id: customerId, ...values },
        update: values,
        include: { preferences: true },
      });
      return { status: existed ? 200 : 201, body: customerView(saved) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/customers/{customerId}',
    operationId: 'getCustomer',
    tag: 'Customers',
    summary: 'A customer profile and its preferences',
    scope: 'read',
    params: customerPath,
    responses: { 200: { description: 'The profile.', body: customerResponse } },
    errors: { 404: 'No such customer.' },
    handler: async ({ params: { customerId } }, { db }) => {
      const customer = await db.customer.findUnique({ where: { id: customerId }, include: { preferences: true } });
      if (!customer) throw new HttpError(404, 'not_found', `no customer ${customerId}`);
      return { status: 200, body: customerView(customer) };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/v1/customers/{customerId}/devices',
    operationId: 'postDevice',
    tag: 'Devices',
    summary: 'Register or refresh a device',
    description:
      'iOS devices send their APNs token (hex), Android devices their FCM registration token, web devices their PushSubscription. ' +
      'The same deviceId with a new token replaces the old token; a token that moves to another device leaves its previous owner.',
    scope: 'ingest',
    params: customerPath,
    body: deviceSchema,
    responses: { 200: { description: 'Refreshed.', body: deviceResponse }, 201: { description: 'Registered.', body: deviceResponse } },
    handler: async ({ params: { customerId }, body: d }, { db, webPushEndpoints }) => {
      const refusal = d.platform === 'web' ? endpointRefusal(d.subscription!.endpoint, webPushEndpoints) : undefined;
      if (refusal) {
        const reason = ENDPOINT_REFUSALS[refusal];
        throw new HttpError(400, 'validation_failed', `invalid body: subscription.endpoint: ${reason}`, [{ field: 'subscription.endpoint', reason }]);
      }
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
      return { status: created ? 201 : 200, body: deviceView(device) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/v1/customers/{customerId}/devices',
    operationId: 'listDevices',
    tag: 'Devices',
    summary: "A customer's devices, active or not",
    scope: 'read',
    params: customerPath,
    responses: { 200: { description: 'The devices, most recently seen first.', body: deviceListResponse } },
    handler: async ({ params: { customerId } }, { db }) => {
      const devices = await db.device.findMany({ where: { customerId }, orderBy: { lastSeenAt: 'desc' } });
      return { status: 200, body: { items: devices.map(deviceView) } };
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/v1/customers/{customerId}/devices/{deviceId}',
    operationId: 'deleteDevice',
    tag: 'Devices',
    summary: 'Deactivate a device',
    scope: 'ingest',
    params: devicePath,
    responses: { 204: { description: 'Deactivated.' } },
    errors: { 404: 'The customer has no such device.' },
    handler: async ({ params: { customerId, deviceId } }, { db }) => {
      const result = await db.device.updateMany({
        where: { customerId, deviceId },
        data: { active: false, invalidatedAt: new Date(), invalidatedReason: 'unregistered by client' },
      });
      if (result.count === 0) throw new HttpError(404, 'not_found', `customer ${customerId} has no device ${deviceId}`);
      return { status: 204 };
    },
  }),
];
