import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { z } from 'zod';
import type { Logger } from '../lib/logger';
import type { errorResponse, fieldErrorResponse } from './response-schemas';

export type FieldError = z.output<typeof fieldErrorResponse>;

/** The one error shape every endpoint answers with (documented as `Error` in the OpenAPI document). */
export type ErrorBody = z.output<typeof errorResponse>;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields?: FieldError[],
  ) {
    super(message);
  }
}

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.map(String).join('.') : '(body)',
    reason: issue.message,
  }));
}

export function validationError(error: z.ZodError, what = 'request'): HttpError {
  const fields = fieldErrors(error);
  return new HttpError(400, 'validation_failed', `invalid ${what}: ${fields.map((f) => `${f.field}: ${f.reason}`).join('; ')}`, fields);
}

export function errorBody(err: HttpError): ErrorBody {
  return { error: { code: err.code, message: err.message, ...(err.fields ? { fields: err.fields } : {}) } };
}

/** What a 503 `database_unavailable` asks the client to wait before it sends again. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** The driver adapter's kinds (@prisma/adapter-pg) that say the database is not there, not that the request is wrong. */
const UNREACHABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
/** Prisma's codes for the same: cannot reach, timed out, closed the connection, no connection from the pool in time. */
const UNREACHABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
/** PostgreSQL's: shutting down or starting (57P0x), too many connections (53300), connection exceptions (08xxx). */
const UNAVAILABLE_SQLSTATE = /^(57P0[123]|53300|08...)$/;
/** node-postgres's own, which carry no code: its pool's connection timeout and a connection the server dropped. */
const UNREACHABLE_MESSAGES = /timeout exceeded when trying to connect|Connection terminated (unexpectedly|due to connection timeout)|Client has encountered a connection error/;
/** Prisma's P2028 is any transaction API error; only this one says no connection came in time. */
const NO_TRANSACTION_IN_TIME = /Unable to start a transaction in the given time/;

/**
 * Whether an error means the database could not take the request at all (down, unreachable, out of connections):
 * a 503 the client retries, never a 500, and never an answer that something was stored.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!err || typeof err !== 'object' || depth > 5) return false;
  const e = err as { code?: unknown; message?: unknown; cause?: unknown; meta?: { driverAdapterError?: { cause?: { kind?: unknown; originalCode?: unknown; code?: unknown } } } };
  const adapter = e.meta?.driverAdapterError?.cause;
  if (adapter) {
    if (UNREACHABLE_KINDS.has(String(adapter.kind))) return true;
    if (adapter.kind === 'postgres' && UNAVAILABLE_SQLSTATE.test(String(adapter.originalCode ?? adapter.code ?? ''))) return true;
  }
  if (typeof e.code === 'string' && (UNREACHABLE_CODES.has(e.code) || UNAVAILABLE_SQLSTATE.test(e.code))) return true;
  if (typeof e.message === 'string' && UNREACHABLE_MESSAGES.test(e.message)) return true;
  if (e.code === 'P2028' && typeof e.message === 'string' && NO_TRANSACTION_IN_TIME.test(e.message)) return true;
  return isDatabaseUnavailable(e.cause, depth + 1);
}

/** How an intake operation documents its 503 (the error handler answers it for every route). */
export const DATABASE_UNAVAILABLE_DOC = {
  errors: {
    503: '`database_unavailable`: PostgreSQL could not take the event (down, unreachable, or no connection within 5 s): nothing was stored. Send it again after `Retry-After` seconds; the same eventId is never notified twice.',
  },
  errorHeaders: { 503: { 'Retry-After': { description: 'Whole seconds to wait before sending the event again.', schema: { type: 'integer', minimum: 1 } } } },
} as const;

export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (err instanceof HttpError) {
      res.status(err.status).json(errorBody(err));
      return;
    }
    // Body-parser errors carry a status and a type.
    if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) {
      const code = err.type === 'entity.parse.failed' ? 'invalid_json' : err.type === 'entity.too.large' ? 'payload_too_large' : 'bad_request';
      const message = code === 'invalid_json' ? `body is not valid JSON: ${err.message}` : err.message;
      res.status(err.status).json(errorBody(new HttpError(err.status, code, message, [{ field: '(body)', reason: message }])));
      return;
    }
    // The exception's text stays in the log; the answer carries only the id that finds it there.
    const errorId = randomUUID();
    if (isDatabaseUnavailable(err)) {
      logger.warn({ err, errorId, method: req.method, path: req.path }, 'database unavailable; answered 503');
      res.set('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
      const message = `the database is unavailable: nothing was stored; retry in ${DATABASE_RETRY_AFTER_SECONDS} s (error id ${errorId})`;
      res.status(503).json(errorBody(new HttpError(503, 'database_unavailable', message)));
      return;
    }
    logger.error({ err, errorId, method: req.method, path: req.path }, 'request failed');
    res.status(500).json(errorBody(new HttpError(500, 'internal', `internal error; the request was not completed (error id ${errorId})`)));
  };
}
