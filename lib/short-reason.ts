// The one way a text from outside (a provider's answer, a Temporal error) is kept in the database, in workflow
// history or in the log: short, one line, no markup or control characters. A push service, a relay or a proxy
// in front of one can answer a megabyte of HTML with tokens in it; none of that may be stored.

/** The most characters of a reason kept anywhere. */
export const REASON_MAX_CHARS = 200;
/** The most characters of a provider's reason code (`BadDeviceToken`, `UNREGISTERED`, `404`). */
export const REASON_CODE_MAX_CHARS = 64;

// Only this much of a text is looked at: what is kept is far shorter, and the patterns below stay linear.
const SCAN_CHARS = 4 * 1024;

/** `text` as a short reason: script and style bodies and tags dropped, control and format characters gone, one line, at most `max` characters. */
export function shortReason(text: string, max = REASON_MAX_CHARS): string {
  const plain = text
    .slice(0, SCAN_CHARS)
    .replace(/<(script|style)\b[\s\S]*?(?:<\/\1\s*>|$)/gi, ' ')
    .replace(/<\/?[A-Za-z!?][^>]*(?:>|$)/g, ' ')
    // C0/C1 controls, and format characters (bidi overrides, zero-width) that make a log line lie.
    .replace(/[\p{Cc}\p{Cf}\u2028\u2029]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return plain.length <= max ? plain : `${plain.slice(0, max - 1).trimEnd()}…`;
}

/** A reason code as a token: letters, digits and `_ . : -` only, at most REASON_CODE_MAX_CHARS; `unknown` when nothing is left. */
export function reasonCode(code: string): string {
  const token = code.slice(0, SCAN_CHARS).replace(/[^A-Za-z0-9_.:-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, REASON_CODE_MAX_CHARS);
  return token || 'unknown';
}

/** An error's message and its causes' (gRPC errors say little at the top), as one short reason. */
export function errorReason(err: unknown, max = REASON_MAX_CHARS): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 3 && current !== undefined && current !== null; depth++) {
    const message = typeof current === 'object' && typeof (current as { message?: unknown }).message === 'string' ? (current as { message: string }).message : String(current);
    if (message && !parts.some((p) => p.includes(message))) parts.push(message);
    current = typeof current === 'object' ? (current as { cause?: unknown }).cause : undefined;
  }
  return shortReason(parts.join(': ') || 'unknown error', max);
}
