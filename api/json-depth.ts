import type { RequestHandler } from 'express';
import { HttpError } from './errors';

/** The deepest nesting of objects and arrays a JSON body may have below its top level. */
export const MAX_JSON_DEPTH = 32;

/** The first path segments a too-deep field is named by; the rest is elided. */
const SHOWN_SEGMENTS = 6;

/**
 * Where `value` nests objects and arrays deeper than `limit` levels (the body's own fields are level 1),
 * as a path; null when it does not. Iterative, so a body of any depth cannot exhaust the stack.
 */
export function tooDeep(value: unknown, limit = MAX_JSON_DEPTH): string[] | null {
  if (!value || typeof value !== 'object') return null;
  // Each entry: a container, its depth (the body is 0) and the key that led to it from its parent.
  const stack: { node: object; depth: number; parent: number; key: string }[] = [{ node: value, depth: 0, parent: -1, key: '' }];
  const seen: { parent: number; key: string }[] = [];
  while (stack.length) {
    const { node, depth, parent, key } = stack.pop()!;
    const index = seen.push({ parent, key }) - 1;
    if (depth > limit) {
      const path: string[] = [];
      for (let at = index; at > 0; at = seen[at]!.parent) path.push(seen[at]!.key);
      return path.reverse();
    }
    for (const [childKey, child] of Object.entries(node)) {
      if (child && typeof child === 'object') stack.push({ node: child, depth: depth + 1, parent: index, key: childKey });
    }
  }
  return null;
}

/** The 400 of a body too deep at `path` (tooDeep's answer), naming the field where the limit was passed. */
export function tooDeepError(path: string[]): HttpError {
  const shown = path.slice(0, SHOWN_SEGMENTS).join('.');
  const field = path.length > SHOWN_SEGMENTS ? `${shown}…` : shown;
  const reason = `nested deeper than ${MAX_JSON_DEPTH} levels`;
  return new HttpError(400, 'validation_failed', `invalid body: ${field}: ${reason}`, [{ field, reason }]);
}

/** Refuses a JSON body nested deeper than MAX_JSON_DEPTH (400 naming the field) before any schema walks it. */
export const jsonDepthLimit: RequestHandler = (req, _res, next) => {
  const path = tooDeep(req.body);
  if (!path) return next();
  next(tooDeepError(path));
};
