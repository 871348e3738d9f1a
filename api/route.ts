// Every HTTP operation is declared once, with defineRoute: its method and path, the scope its key needs,
// the zod schemas of its path parameters, query, body and answers, a summary, and its handler. The Express
// router (routeRouter, below) and the OpenAPI document (api/openapi.ts) are both built from these
// declarations, so what is served is what is documented.
import express, { Router, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { ApiServices } from './app';
import { requireScope, type Scope } from './auth';
import { TOKEN_QUERY_PARAMETER } from './customer-tokens';
import { HttpError, fieldErrors, validationError } from './errors';
import type { Budget } from './rate-limits';

export type Method = 'get' | 'put' | 'patch' | 'post' | 'delete';

declare module 'express-serve-static-core' {
  interface Request {
    /** The bytes of a raw JSON body as sent (rawJsonReaders). */
    rawBody?: Buffer;
  }
}
export type JsonSchema = Record<string, unknown>;

/** Routes under this prefix need an API key; the others (health, docs, signed webhooks) declare `scope: null`. */
export const API_PREFIX = '/v1';

/** An answer other than the error shape: a success, or a body such as readiness's 503. */
export interface Answer {
  description: string;
  /** A JSON body of this schema; the handler returns it (`{ status, body }`). */
  body?: z.ZodType;
  /** A body of another media type (a page, a stream, metrics text), which the handler writes itself. */
  content?: { mediaType: string; schema: JsonSchema };
  /** Response headers the answer carries, such as Location. */
  headers?: Record<string, { description: string; schema: JsonSchema }>;
}

/** The error statuses an operation may add to (or describe in place of) those every such operation has (401/403, 400, 413/415). */
export type ErrorStatus = 401 | 403 | 404 | 409 | 413 | 503;

/**
 * A body the handler reads as text, because a signature covers its bytes (Twilio's form-encoded callback, the signed
 * JSON of the email webhooks): `schema` documents its fields, and the handler checks them once the signature holds.
 * A JSON one is read before the app's JSON parser (rawJsonReaders), under its own `limit`.
 */
export interface RawBody {
  mediaType: string;
  limit: string;
  schema: z.ZodType;
}

/**
 * Whom a customer token (api/customer-tokens.ts) may call the operation for. An operation without it refuses every
 * customer token with 403; with it, a token is taken only for the customer it names, so no handler checks this itself.
 */
export type CustomerAccess<P> =
  | {
      /** The path parameter that names the customer: a token for anyone else gets 403. */
      param: keyof Output<P> & string;
      /** The token may come as the `access_token` query parameter too (a browser's EventSource cannot send headers). */
      tokenInQuery?: boolean;
    }
  | {
      /** The customer the resource of these (checked) parameters belongs to; null when there is no such resource. */
      owner(params: Output<P>, services: ApiServices): Promise<string | null>;
      /** What another customer's resource answers: what a missing one does, so the token does not learn that it exists. */
      hidden(params: Output<P>): HttpError;
    };

/** A header the operation reads (a webhook's signature, an event stream's Last-Event-ID). */
export interface HeaderParameter {
  name: string;
  description: string;
  required: boolean;
  schema: JsonSchema;
}

type Output<S> = S extends z.ZodType ? z.output<S> : S extends RawBody ? string | undefined : Record<string, never>;

export interface RouteRequest<P, Q, B> {
  params: Output<P>;
  query: Output<Q>;
  body: Output<B>;
  req: Request;
  res: Response;
}

/** What a handler answers: one of its declared statuses with that answer's body. */
export type Reply<R extends Record<number, Answer>> = {
  [S in keyof R & number]: R[S] extends { body: infer T extends z.ZodType }
    ? { status: S; body: z.output<T>; headers?: Record<string, string> }
    : R[S] extends { content: object }
      ? never
      : { status: S; body?: undefined; headers?: Record<string, string> };
}[keyof R & number];

export interface RouteDeclaration<
  P extends z.ZodType | undefined,
  Q extends z.ZodType | undefined,
  B extends z.ZodType | RawBody | undefined,
  R extends Record<number, Answer>,
  E extends z.ZodType = z.ZodType,
> {
  method: Method;
  /** The OpenAPI path template, such as `/v1/customers/{customerId}`. */
  path: `/${string}`;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** The scope the key needs (admin keys may do everything); null for an operation that needs no key. */
  scope: Scope | null;
  /**
   * The rate-limit budget a request spends (api/rate-limits.ts): by default its key's, or its client address's when the
   * operation needs no key; `intake` is the key's larger intake budget; null: never limited (health, readiness, metrics).
   */
  budget?: 'intake' | null;
  /**
   * Lets some requests through without a key, because they are authenticated another way the handler checks (a Shopify
   * source's webhooks carry Shopify's signature and cannot send a key): resolves to the intake bucket such a request spends
   * (its source's, not its address's); null: it needs a key of `scope` like any other. Runs before the key is checked.
   */
  keyless?(req: Request, res: Response, services: ApiServices): Promise<string | null>;
  /** Whether, and for whom, a customer token may call it (besides a key of `scope`); unset: no customer token may. */
  customer?: CustomerAccess<NoInfer<P>>;
  /** The path parameters: an object with exactly the path's `{names}`, checked before the query and body. */
  params?: P;
  query?: Q;
  /** A JSON body schema, checked after the parameters; or a raw body the handler reads itself. */
  body?: B;
  headers?: HeaderParameter[];
  /** The answers besides the error shape, by status. */
  responses: R;
  /** Further error statuses, each with what it means here. */
  errors?: Partial<Record<ErrorStatus, string>>;
  /** Headers some of those error answers carry (a 503's Retry-After). */
  errorHeaders?: Partial<Record<ErrorStatus, NonNullable<Answer['headers']>>>;
  /** What an invalid body answers, when it is more than the error (a kept rejected event): its 400 body and how to make it. */
  invalidBody?: {
    body: E;
    /** Unset: the handler answers that 400 itself (a raw body it reads and refuses, with what it kept). */
    answer?(error: HttpError, req: Request, services: ApiServices): Promise<z.output<E>>;
  };
  /**
   * Answers `{ status, body, headers? }` with a declared status and its body's type. A handler of an answer with `content`
   * (a page, a stream) writes the response itself and returns nothing. It takes its request parameter even when it does not
   * use it: that is what lets the compiler check the reply against the declared answers.
   */
  handler(request: RouteRequest<NoInfer<P>, NoInfer<Q>, NoInfer<B>>, services: ApiServices): Promise<Reply<NoInfer<R>> | void> | Reply<NoInfer<R>> | void;
}

/** A declaration of any shape, as lists hold them. */
export type Route = RouteDeclaration<any, any, any, Record<number, Answer>, any>;

export function defineRoute<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | RawBody | undefined = undefined,
  R extends Record<number, Answer> = Record<number, Answer>,
  E extends z.ZodType = z.ZodType,
>(route: RouteDeclaration<P, Q, B, R, E>): Route {
  const declared = paramNames(route as Route);
  const inPath = pathParameterNames(route.path);
  if (declared.join() !== [...inPath].sort().join()) {
    throw new Error(`${route.method.toUpperCase()} ${route.path}: params declare [${declared.join(', ')}], the path has [${inPath.join(', ')}]`);
  }
  if (route.budget === 'intake' && !route.scope) throw new Error(`${route.method.toUpperCase()} ${route.path}: the intake budget is a key's, and the operation needs none`);
  if (route.customer && !route.scope) throw new Error(`${route.method.toUpperCase()} ${route.path}: customer tokens are checked on operations that need a key`);
  if (route.keyless && !route.scope) throw new Error(`${route.method.toUpperCase()} ${route.path}: keyless requests are an exception to a key's scope, and the operation needs none`);
  if (route.customer && 'param' in route.customer && !inPath.includes(route.customer.param)) {
    throw new Error(`${route.method.toUpperCase()} ${route.path}: customer.param '${route.customer.param}' is not a path parameter`);
  }
  return route as Route;
}

export const pathParameterNames = (path: string): string[] => [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => name!);

export const isRawBody = (body: unknown): body is RawBody => !!body && !(body instanceof z.ZodType) && typeof (body as RawBody).mediaType === 'string';

/** The object schema whose properties are the path parameters (a piped one checks in stages; its last stage names them all). */
export function paramsShape(params: z.ZodType | undefined): Record<string, z.ZodType> {
  let schema: unknown = params;
  while (schema instanceof z.ZodPipe) schema = schema.out;
  if (schema === undefined) return {};
  if (!(schema instanceof z.ZodObject)) throw new Error('params must be a z.object (or a pipe ending in one)');
  return schema.shape as Record<string, z.ZodType>;
}

const paramNames = (route: Route): string[] => Object.keys(paramsShape(route.params)).sort();

/** The budget a route's requests spend; null when they are never limited. */
export const routeBudget = (route: Route): Budget | null => (route.budget === null ? null : (route.budget ?? (route.scope ? 'key' : 'address')));

const expressPath = (path: string): string => path.replace(/\{(\w+)\}/g, ':$1');

function parsed(schema: z.ZodType | undefined, value: unknown, part: 'path' | 'query' | 'body'): unknown {
  if (!schema) return {};
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  if (part !== 'path') throw validationError(result.error, part);
  // A path parameter is one segment: named once, with its first reason.
  const fields = fieldErrors(result.error).filter((f, i, all) => all.findIndex((g) => g.field === f.field) === i);
  throw new HttpError(400, 'validation_failed', `invalid path: ${fields.map((f) => `${f.field}: ${f.reason}`).join('; ')}`, fields);
}

function send(res: Response, route: Route, reply: { status: number; body?: unknown; headers?: Record<string, string> }): void {
  // The types allow only declared statuses; this keeps an undeclared answer from ever leaving (a 500 names it).
  if (!(reply.status in route.responses)) throw new Error(`${route.operationId} answered ${reply.status}, which it does not declare`);
  res.status(reply.status);
  if (reply.headers) res.set(reply.headers);
  if (reply.body === undefined) res.end();
  else res.json(reply.body);
}

/**
 * Who may call the route: a key with its scope, or a customer token where the route declares `customer`, for the
 * customer its path names (the `owner` kind is checked once the parameters are, in the route's handler step).
 */
function authorize(route: Route & { scope: Scope }): RequestHandler {
  const scoped = requireScope(route.scope);
  return (req, res, next) => {
    const principal = req.principal;
    if (principal?.kind !== 'customer') return scoped(req, res, next);
    const access = route.customer;
    if (!access) {
      return next(new HttpError(403, 'forbidden', `a customer token may not call this operation: it needs a server key with the '${route.scope}' scope`));
    }
    if (principal.via === 'query' && !('param' in access && access.tokenInQuery)) {
      return next(new HttpError(401, 'unauthenticated', `${route.operationId} does not take a customer token in the ${TOKEN_QUERY_PARAMETER} query parameter: send it as Authorization: Bearer <token>`));
    }
    if ('param' in access && req.params[access.param] !== principal.customerId) {
      return next(new HttpError(403, 'forbidden', `this customer token is for another customer than the ${access.param} in the path`));
    }
    next();
  };
}

/** The handlers run one after the other as one (an error or a handler that answers stops them). */
function inSequence(handlers: RequestHandler[]): RequestHandler {
  return (req, res, next) => {
    const step = (i: number) => (err?: unknown) => {
      if (err !== undefined && err !== null) return next(err);
      if (i === handlers.length) return next();
      try {
        void handlers[i]!(req, res, step(i + 1));
      } catch (thrown) {
        next(thrown);
      }
    };
    step(0)();
  };
}

/** A keyless route's access: the request its `keyless` lets through spends its named intake bucket; any other is keyed as usual. */
function keylessOr(route: Route, services: ApiServices, keyed: RequestHandler): RequestHandler {
  return async (req, res, next) => {
    let bucket: string | null;
    try {
      bucket = await route.keyless!(req, res, services);
      if (bucket !== null) services.limits.spend('intake', req, res, bucket);
    } catch (err) {
      return next(err);
    }
    if (bucket !== null) return next();
    keyed(req, res, next);
  };
}

/** The chain of one route: its rate limit, who may call it, then path parameters, query and body, then the handler. */
function chain(route: Route, services: ApiServices, authenticate: RequestHandler): RequestHandler[] {
  const access: RequestHandler[] = [];
  const budget = routeBudget(route);
  if (budget) access.push(services.limits.handler(budget));
  if (route.scope) access.push(authorize({ ...route, scope: route.scope }));
  // A keyless route is mounted before the /v1 key check: it checks the key itself when the request needs one.
  const handlers = route.keyless ? [keylessOr(route, services, inSequence([authenticate, ...access]))] : access;
  if (isRawBody(route.body)) handlers.push(express.text({ type: route.body.mediaType, limit: route.body.limit }));
  handlers.push(async (req, res) => {
    const params = parsed(route.params, req.params, 'path');
    const principal = req.principal;
    if (principal?.kind === 'customer' && route.customer && 'owner' in route.customer) {
      if ((await route.customer.owner(params, services)) !== principal.customerId) throw route.customer.hidden(params);
    }
    const query = parsed(route.query, req.query, 'query');
    let body: unknown = req.body;
    if (route.body instanceof z.ZodType) {
      const result = route.body.safeParse(req.body);
      if (!result.success) {
        const error = validationError(result.error, 'body');
        if (!route.invalidBody?.answer) throw error;
        res.status(400).json(await route.invalidBody.answer(error, req, services));
        return;
      }
      body = result.data;
    }
    const reply = await route.handler({ params, query, body, req, res }, services);
    if (reply) send(res, route, reply);
  });
  return handlers;
}

/**
 * Text readers for the raw JSON bodies routes declare, to mount before the app's JSON parser: that one would read such
 * a body first (parsed, under its 256 kB limit), and the signature covers the text as sent, which is checked before
 * anything parses it. The route's own chain then finds the body read and hands the handler that text.
 */
export function rawJsonReaders(routes: Route[]): Router {
  const router = Router();
  for (const route of routes) {
    if (isRawBody(route.body) && route.body.mediaType === 'application/json') {
      // The bytes as sent are kept too (req.rawBody), for a signature over them exactly (a BOM or invalid UTF-8 included).
      router[route.method](expressPath(route.path), express.text({ type: 'application/json', limit: route.body.limit, verify: (req, _res, bytes) => ((req as Request).rawBody = bytes) }));
    }
  }
  return router;
}

/**
 * A known path with a method it does not have is a 405 with an Allow header (the error shape), rather than
 * a 404. OPTIONS is left to Express, which answers it with the same methods.
 */
export function methodNotAllowed(routes: Route[]): RequestHandler {
  const paths = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  for (const route of routes) {
    const entry = paths.get(route.path) ?? {
      pattern: new RegExp(`^${route.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{\w+\}/g, '[^/]+')}/?$`),
      methods: new Set<string>(),
    };
    entry.methods.add(route.method.toUpperCase());
    if (route.method === 'get') entry.methods.add('HEAD');
    paths.set(route.path, entry);
  }
  return (req, res, next) => {
    if (req.method === 'OPTIONS') return next();
    const allowed = new Set<string>();
    for (const { pattern, methods } of paths.values()) if (pattern.test(req.path)) methods.forEach((m) => allowed.add(m));
    if (allowed.size === 0 || allowed.has(req.method)) return next();
    const allow = [...allowed].join(', ');
    res.set('allow', allow);
    next(new HttpError(405, 'method_not_allowed', `${req.method} is not allowed on ${req.path}; use ${allow}`));
  };
}

/**
 * The router of every declared route. Those that need no key come first; then every path under /v1 needs a
 * known key (so an unknown /v1 path without one is a 401, as a known one is), and each route its scope.
 */
export function routeRouter(routes: Route[], services: ApiServices, authenticate: RequestHandler): Router {
  const seen = new Set<string>();
  for (const route of routes) {
    const id = `${route.method} ${route.path}`;
    if (seen.has(id) || seen.has(route.operationId)) throw new Error(`${id} (${route.operationId}) is declared twice`);
    seen.add(id).add(route.operationId);
    if (route.scope && !route.path.startsWith(`${API_PREFIX}/`)) throw new Error(`${id} needs the ${route.scope} scope but is outside ${API_PREFIX}, where keys are checked`);
  }
  const router = Router();
  const mount = (route: Route) => router[route.method](expressPath(route.path), ...chain(route, services, authenticate));
  routes.filter((route) => !route.scope || route.keyless).forEach(mount);
  router.use(API_PREFIX, authenticate);
  routes.filter((route) => route.scope && !route.keyless).forEach(mount);
  // A path no route took (a 404 or a 405 next) spends a budget too: its key's, or without one its address's.
  router.use(services.limits.handler('unmatched'));
  router.use(methodNotAllowed(routes));
  return router;
}
