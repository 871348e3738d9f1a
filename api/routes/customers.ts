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

/** The reason of a device its customer (or the shop for them) removed: another customer's app may then take it over. */
export const UNREGISTERED_BY_CLIENT = 'unregistered by client';

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
      'A device is keyed by its customer and deviceId: the same deviceId with a new token replaces the old token, and a token that ' +
      "moves to another of the customer's devices leaves the one that had it. A deviceId or token another customer holds is never " +
      "taken silently: with a customer token it is a 409 `device_owned_by_other_customer` (unless that customer removed the device), " +
      'with a server key the device moves to this customer and the move is recorded (who, from whom, to whom; logged too).',
    scope: 'ingest',
    customer: { param: 'customerId' },
    params: customerPath,
    body: deviceSchema,
    responses: { 200: { description: 'Refreshed.', body: deviceResponse }, 201: { description: 'Registered (or moved here).', body: deviceResponse } },
    errors: { 409: '`device_owned_by_other_customer` (customer tokens only): another customer holds this deviceId or token; `error.fields` names which.' },
    handler: async ({ params: { customerId }, body: d, req }, { db, logger, webPushEndpoints }) => {
      const refusal = d.platform === 'web' ? endpointRefusal(d.subscription!.endpoint, webPushEndpoints) : undefined;
      if (refusal) {
        const reason = ENDPOINT_REFUSALS[refusal];
        throw new HttpError(400, 'validation_failed', `invalid body: subscription.endpoint: ${reason}`, [{ field: 'subscription.endpoint', reason }]);
      }
      const token = d.platform === 'web' ? d.subscription!.endpoint : d.token!;
      const tokenField = d.platform === 'web' ? 'subscription.endpoint' : 'token';
      const principal = req.principal!;
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
      const { device, created, moves } = await db.$transaction(async (tx) => {
        // Registrations naming the same device id or token wait for each other: none moves a device another is moving.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest(${[`device:${d.deviceId}`, `device-token:${token}`].sort()}::text[]) AS k`;
        const others = await tx.device.findMany({
          where: { OR: [{ deviceId: d.deviceId }, { token }], NOT: { customerId } },
          select: { id: true, customerId: true, deviceId: true, active: true, invalidatedReason: true },
        });
        if (principal.kind === 'customer') {
          // A device its customer removed is theirs no longer (a shared phone, signed in as someone else).
          const held = others.filter((o) => o.active || o.invalidatedReason !== UNREGISTERED_BY_CLIENT);
          if (held.length > 0) {
            const fields = [
              ...(held.some((o) => o.deviceId === d.deviceId) ? [{ field: 'deviceId', reason: 'is registered to another customer' }] : []),
              ...(held.some((o) => o.deviceId !== d.deviceId) ? [{ field: tokenField, reason: 'is registered to another customer' }] : []),
            ];
            throw new HttpError(
              409,
              'device_owned_by_other_customer',
              `another customer holds this device's ${fields.map((f) => f.field).join(' and ')}: only the shop's server can move it, unless that customer's app removes it first`,
              fields,
            );
          }
        }
        // A device may register before the customer profile syncs; keep a minimal profile until it does.
        await tx.customer.upsert({ where: { id: customerId }, create: { id: customerId }, update: {} });
        // A token belongs to one installation: if another of this customer's devices holds it, that installation is gone.
        await tx.device.deleteMany({ where: { customerId, token, NOT: { deviceId: d.deviceId } } });
        const existing = await tx.device.findUnique({ where: { customerId_deviceId: { customerId, deviceId: d.deviceId } }, select: { id: true } });
        // Another customer's device with this id moves here, keeping its row (and so its delivery history); one that
        // only held the token (another installation id) is gone, as above.
        let moved: string | null = null;
        for (const other of others) {
          if (!existing && !moved && other.deviceId === d.deviceId) {
            moved = other.id;
            await tx.device.update({ where: { id: other.id }, data: { customerId } });
          } else {
            await tx.device.delete({ where: { id: other.id } });
          }
        }
        const moves = others.map((o) => ({
          deviceId: d.deviceId,
          field: o.deviceId === d.deviceId ? 'deviceId' : 'token',
          fromCustomerId: o.customerId,
          toCustomerId: customerId,
          movedBy: `${principal.keyId} (${principal.name})`,
        }));
        if (moves.length > 0) await tx.deviceTransfer.createMany({ data: moves });
        const device = await tx.device.upsert({
          where: { customerId_deviceId: { customerId, deviceId: d.deviceId } },
          create: { deviceId: d.deviceId, ...values },
          update: values,
        });
        return { device, created: !existing, moves };
      });
      for (const move of moves) logger.warn(move, 'device moved to another customer');
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
    customer: { param: 'customerId' },
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
    customer: { param: 'customerId' },
    params: devicePath,
    responses: { 204: { description: 'Deactivated.' } },
    errors: { 404: 'The customer has no such device.' },
    handler: async ({ params: { customerId, deviceId } }, { db }) => {
      const result = await db.device.updateMany({
        where: { customerId, deviceId },
        data: { active: false, invalidatedAt: new Date(), invalidatedReason: UNREGISTERED_BY_CLIENT },
      });
      if (result.count === 0) throw new HttpError(404, 'not_found', `customer ${customerId} has no device ${deviceId}`);
      return { status: 204 };
    },
  }),
];
