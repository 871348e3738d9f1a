// The mapping adapter: any other OMS's payload read onto the canonical event by a declarative mapping, one JSONata
// expression (https://jsonata.org) per canonical field, set in the source's configuration. `status` gives the source's
// own word, which the source's status map turns into a Herald status; `customer.<field>` fills the carried profile.
import jsonata from 'jsonata';
import type { FieldError } from '../errors';
import { LruMap } from '../../lib/lru';
import type { CustomerFromEvent, Normalised, RawSourceEvent, SourceAdapter, SourceConfig } from './adapter';
import { CUSTOMER_FIELDS, NormaliseFailure } from './profile';
import { verifyHeraldSignature } from './signature';

/** The canonical fields a mapping may fill. */
export const MAPPABLE_FIELD = new RegExp(`^(eventId|orderId|customerId|status|occurredAt|data|data\\.[A-Za-z0-9_]{1,64}|customer|customer\\.(${CUSTOMER_FIELDS.join('|')}))$`);
export const MAPPABLE_REASON = `must be eventId, orderId, customerId, status, occurredAt, data, data.<key>, customer or customer.<${CUSTOMER_FIELDS.join('|')}>`;
/** What every mapping must give (customerId may come from the order's first event). */
export const MAPPING_REQUIRED = ['eventId', 'orderId', 'status'] as const;
export const MAX_MAPPING_FIELDS = 64;
export const MAX_EXPRESSION_LENGTH = 2000;

/** Bounds of one evaluation: an expression that loops or recurses without end fails (mapping_failed) instead of holding the API. */
const EVALUATION = { timeout: 100, stack: 200 };
/** Ids and status words may come as numbers (many OMSes number their orders): they are taken as their decimal text. */
const TEXT_FIELDS = new Set(['eventId', 'orderId', 'customerId', 'status']);

const compiled = new LruMap<string, jsonata.Expression>(1000);

function compile(expression: string): jsonata.Expression {
  let expr = compiled.get(expression);
  if (!expr) compiled.set(expression, (expr = jsonata(expression, EVALUATION)));
  return expr;
}

const messageOf = (err: unknown): string => {
  const e = err as { message?: string; code?: string; position?: number };
  const text = e?.message ?? String(err);
  return e?.position !== undefined ? `${text} (at character ${e.position})` : text;
};

/** What is wrong with a mapping as configured (field errors under `mapping.`): unknown fields, missing ones, expressions that do not compile. */
export function mappingProblems(mapping: Record<string, string>): FieldError[] {
  const problems: FieldError[] = [];
  const fields = Object.keys(mapping);
  if (fields.length > MAX_MAPPING_FIELDS) problems.push({ field: 'mapping', reason: `must map at most ${MAX_MAPPING_FIELDS} fields` });
  for (const field of MAPPING_REQUIRED) if (!(field in mapping)) problems.push({ field: `mapping.${field}`, reason: 'is required: every event needs it' });
  for (const [field, expression] of Object.entries(mapping)) {
    if (!MAPPABLE_FIELD.test(field)) {
      problems.push({ field: `mapping.${field}`, reason: MAPPABLE_REASON });
      continue;
    }
    if (expression.length > MAX_EXPRESSION_LENGTH) {
      problems.push({ field: `mapping.${field}`, reason: `must be at most ${MAX_EXPRESSION_LENGTH} characters` });
      continue;
    }
    try {
      compile(expression);
    } catch (err) {
      problems.push({ field: `mapping.${field}`, reason: `is not a JSONata expression: ${messageOf(err)}` });
    }
  }
  return problems;
}

/** A JSONata result as JSON: sequences become arrays, functions and undefined are dropped. */
const asJson = (value: unknown): unknown => (value === undefined ? undefined : (JSON.parse(JSON.stringify(value) ?? 'null') as unknown));

function setAt(target: Record<string, unknown>, path: string, value: unknown): void {
  const [head, ...rest] = path.split('.');
  if (rest.length === 0) {
    target[head!] = value;
    return;
  }
  const node = target[head!];
  const child = node && typeof node === 'object' && !Array.isArray(node) ? (node as Record<string, unknown>) : (target[head!] = {});
  setAt(child as Record<string, unknown>, rest.join('.'), value);
}

/** Every expression of the mapping evaluated on the payload; an expression that throws is a mapping_failed naming its field. */
export async function evaluateMapping(mapping: Record<string, string>, payload: unknown): Promise<{ event: Record<string, unknown>; customer?: Record<string, unknown> }> {
  const event: Record<string, unknown> = {};
  let customer: Record<string, unknown> | undefined;
  const failures: FieldError[] = [];
  // The whole `customer` and `data` first, so that their single fields refine them.
  const fields = Object.keys(mapping).sort((a, b) => a.split('.').length - b.split('.').length);
  for (const field of fields) {
    let value: unknown;
    try {
      value = asJson(await compile(mapping[field]!).evaluate(payload));
    } catch (err) {
      failures.push({ field, reason: `mapping failed: ${messageOf(err)}` });
      continue;
    }
    if (value === undefined) continue;
    if (TEXT_FIELDS.has(field) && typeof value === 'number' && Number.isSafeInteger(value)) value = String(value);
    if (field === 'customer') {
      if (value !== null && (typeof value !== 'object' || Array.isArray(value))) failures.push({ field, reason: 'mapping failed: must give an object' });
      else if (value) customer = { ...(customer ?? {}), ...(value as Record<string, unknown>) };
    } else if (field.startsWith('customer.')) {
      (customer ??= {})[field.slice('customer.'.length)] = value;
    } else {
      setAt(event, field, value);
    }
  }
  if (failures.length) throw new NormaliseFailure('mapping_failed', failures);
  return { event, ...(customer ? { customer } : {}) };
}

export const mappingAdapter: SourceAdapter = {
  name: 'mapping',
  // No words of its own: every status comes through the source's status map.
  defaultStatusMap: {},
  verify: (source, raw) => verifyHeraldSignature(source, raw),
  async normalise(source: SourceConfig, raw: RawSourceEvent): Promise<Normalised> {
    if (!source.mapping) throw new NormaliseFailure('mapping_failed', [{ field: 'mapping', reason: 'the source has no mapping' }]);
    const { event, customer } = await evaluateMapping(source.mapping, raw.payload);
    const status = event.status;
    const carried = customer
      ? ({ ...Object.fromEntries(CUSTOMER_FIELDS.filter((f) => customer[f] !== undefined).map((f) => [f, customer[f]])), customerId: typeof event.customerId === 'string' ? event.customerId : '' } as CustomerFromEvent)
      : undefined;
    return { kind: 'event', sourceStatus: typeof status === 'string' ? status : '', event, ...(carried ? { customer: carried } : {}) };
  },
};
