// The signature of the canonical and mapping sources: Herald's own webhook scheme (api/email-webhooks.ts),
// `X-Herald-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, under the source's secret.
import { HERALD_SIGNATURE_HEADER, heraldSignatureProblem } from '../email-webhooks';
import { parseSigningKeys } from '../../lib/signing-keys';
import type { RawSourceEvent, SourceConfig, Verification } from './adapter';

/** A source without a secret is authenticated by its API key alone; with one, every request must also carry a valid signature. */
export function verifyHeraldSignature(source: SourceConfig, raw: RawSourceEvent, now = Date.now()): Verification {
  if (!source.secret) return { ok: true };
  const problem = heraldSignatureProblem(parseSigningKeys(source.secret), raw.headers[HERALD_SIGNATURE_HEADER.toLowerCase()], raw.body, now, `source ${source.sourceId}'s secret`);
  return problem ? { ok: false, reason: `${problem.header} ${problem.reason}` } : { ok: true };
}
