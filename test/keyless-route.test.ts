// A route's keyless requests (api/route.ts `keyless`, what a Shopify source's webhooks are): let through without a key,
// spending the intake bucket the route names rather than the client address's, while every other request to the same
// route still needs a key with its scope. The real router, authentication and rate limiter, without the stack.
import type { AddressInfo } from 'node:net';
import express from 'express';
import { z } from 'zod';
import type { ApiServices } from '../api/app';
import { authenticate } from '../api/auth';
import { errorHandler } from '../api/errors';
import { openApiDocument } from '../api/openapi';
import { createRateLimiter } from '../api/rate-limits';
import { defineRoute, routeRouter } from '../api/route';
import type { Db } from '../lib/db';
import { logger } from './support/logger';

const route = defineRoute({
  method: 'post',
  path: '/v1/things/{thingId}/events',
  operationId: 'postThingEvent',
  tag: 'Test',
  summary: 'A thing signs its own events',
  scope: 'ingest',
  budget: 'intake',
  params: z.object({ thingId: z.string().regex(/^[a-z]+$/) }),
  // Signed things (here: a header says so) need no key; the handler would check the signature.
  keyless: async (req) => (req.header('x-signed') ? `thing:${req.params.thingId}` : null),
  responses: { 202: { description: 'Taken.', body: z.object({ principal: z.string() }) } },
  handler: ({ req }) => ({ status: 202, body: { principal: req.principal ? 'key' : 'none' } }),
});

let server: ReturnType<express.Express['listen']>;
let url: string;

beforeAll(async () => {
  // No request here looks a key up: a missing one is refused before any lookup.
  const db = {} as Db;
  const limits = createRateLimiter({ intake: { perSecond: 0.001, burst: 2 }, address: { perSecond: 0.001, burst: 100 } });
  const services = { limits } as unknown as ApiServices;
  const app = express();
  app.use(routeRouter([route], services, authenticate(db, { beforeLookup: (req, res) => limits.spend('address', req, res) })));
  app.use(errorHandler(logger));
  server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise((resolve) => server.close(resolve)));

const post = async (thingId: string, headers: Record<string, string> = {}) => {
  const res = await fetch(`${url}/v1/things/${thingId}/events`, { method: 'POST', headers });
  return { status: res.status, body: (await res.json()) as any, rateLimit: res.headers.get('ratelimit') };
};

test("a keyless request needs no key and spends its own intake bucket; the others need a key", async () => {
  expect(await post('alpha', { 'x-signed': '1' })).toEqual({ status: 202, body: { principal: 'none' }, rateLimit: '"intake";r=1;t=1000' });
  expect((await post('alpha', { 'x-signed': '1' })).status).toBe(202);
  // Its bucket is the thing's: spent for alpha, full for beta, and the address budget untouched.
  expect(await post('alpha', { 'x-signed': '1' })).toMatchObject({ status: 429, body: { error: { code: 'rate_limited', message: expect.stringMatching(/^too many intake requests/) } } });
  expect((await post('beta', { 'x-signed': '1' })).status).toBe(202);
  // Not keyless: the /v1 key check as on any keyed route (a 401 that spends the address budget, which has plenty left).
  expect(await post('alpha')).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated' } }, rateLimit: '"address";r=99;t=1000' });
});

test('the document says the key is optional there', () => {
  const op = openApiDocument([route]).paths['/v1/things/{thingId}/events']!.post!;
  expect(op).toMatchObject({ security: [{ bearer: [] }, {}], 'x-required-scope': 'ingest', 'x-keyless': true });
  expect(op.description).toContain('except the requests the description says are authenticated otherwise');
});

test('keyless is an exception to a scope: a route that needs no key cannot declare it', () => {
  expect(() => defineRoute({ ...route, scope: null, budget: undefined } as never)).toThrow(/keyless requests are an exception to a key's scope/);
});
