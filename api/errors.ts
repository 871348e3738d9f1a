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
    logger.error({ err, errorId, method: req.method, path: req.path }, 'request failed');
    res.status(500).json(errorBody(new HttpError(500, 'internal', `internal error; the request was not completed (error id ${errorId})`)));
  };
}
