// The inbox streams open on this API process. Each holds a socket, a hub subscription and a timer for as long as its
// client keeps it (a customer token's, up to a day), so they are capped: per customer (a new one beyond the cap ends
// that customer's oldest, so an app that reconnects never locks itself out) and per process (beyond it a new one is
// refused, 503). A stream opened with a server key ends when that key is revoked: at once when it is revoked here,
// and within AUTH_CACHE_TTL_MS when it is revoked on another instance (each such key is looked up again that often).
import { AUTH_CACHE_TTL_MS, type KeyPrincipal } from './auth';
import { HttpError } from './errors';
import { metrics } from '../lib/metrics';

/** What a refused stream's Retry-After says: streams end as their clients leave, at no time one can foretell. */
export const STREAMS_FULL_RETRY_AFTER_SECONDS = 10;

export interface InboxStreamLimits {
  /** HERALD_INBOX_STREAMS_PER_CUSTOMER: open streams per customer, whichever credential opened them. */
  perCustomer: number;
  /** HERALD_INBOX_STREAMS_MAX: open streams on this API process. */
  max: number;
}

/** Who opened a stream: a server key (its id, and the hash it is looked up by) or a customer token (which ends at its expiry). */
export interface StreamOpener {
  customerId: string;
  key: { keyId: string; hash: string } | null;
}

export interface InboxStreams {
  /** True when this process has its most streams open (HERALD_INBOX_STREAMS_MAX). */
  readonly full: boolean;
  /**
   * Counts a stream that is about to start, ending the customer's oldest when this one is beyond its cap; null when
   * the process is full. `end` ends the stream; the returned function forgets it (call it once the stream ended).
   */
  add(opener: StreamOpener, end: () => void): (() => void) | null;
  /** Ends the streams opened with this key (it was revoked here). */
  closeKey(keyId: string): void;
  readonly size: number;
}

interface OpenStream extends StreamOpener {
  end: () => void;
}

/** The answer to a stream beyond HERALD_INBOX_STREAMS_MAX; it goes with `Retry-After: STREAMS_FULL_RETRY_AFTER_SECONDS`. */
export const tooManyStreams = (): HttpError =>
  new HttpError(503, 'too_many_streams', `this API instance has its most inbox streams open (HERALD_INBOX_STREAMS_MAX); retry in ${STREAMS_FULL_RETRY_AFTER_SECONDS} s`);

/**
 * `recheck` looks a key up as authenticate() does (api/auth.ts lookupKey): null once it is revoked or gone.
 * A lookup that fails (the database away) ends nothing: the key is looked up again at the next pass.
 */
export function createInboxStreams(
  limits: InboxStreamLimits,
  recheck: (hash: string) => Promise<KeyPrincipal | null>,
  recheckEveryMs = AUTH_CACHE_TTL_MS,
): InboxStreams {
  /** In the order they opened: a customer's first is its oldest. */
  const open = new Set<OpenStream>();
  const byCustomer = new Map<string, Set<OpenStream>>();
  let timer: NodeJS.Timeout | undefined;
  let checking = false;

  const report = () => metrics.inboxStreamsOpen.set(open.size);

  function endEach(streams: Iterable<OpenStream>): void {
    for (const s of [...streams]) {
      s.end();
      forget(s);
    }
  }

  async function recheckKeys(): Promise<void> {
    if (checking) return;
    checking = true;
    try {
      const hashes = new Map<string, string>();
      for (const s of open) if (s.key) hashes.set(s.key.hash, s.key.keyId);
      for (const [hash, keyId] of hashes) {
        const principal = await recheck(hash).catch(() => undefined);
        if (principal === null || (principal && principal.keyId !== keyId)) endEach([...open].filter((s) => s.key?.hash === hash));
      }
    } finally {
      checking = false;
    }
  }

  function forget(stream: OpenStream): void {
    if (!open.delete(stream)) return;
    const mine = byCustomer.get(stream.customerId);
    mine?.delete(stream);
    if (mine?.size === 0) byCustomer.delete(stream.customerId);
    if (timer && ![...open].some((s) => s.key)) {
      clearInterval(timer);
      timer = undefined;
    }
    report();
  }

  return {
    get size() {
      return open.size;
    },

    get full() {
      return open.size >= limits.max;
    },

    add(opener, end) {
      if (open.size >= limits.max) return null;
      const stream: OpenStream = { ...opener, end };
      open.add(stream);
      let mine = byCustomer.get(opener.customerId);
      if (!mine) byCustomer.set(opener.customerId, (mine = new Set()));
      mine.add(stream);
      if (opener.key && !timer) {
        timer = setInterval(() => void recheckKeys(), recheckEveryMs);
        timer.unref();
      }
      report();
      // The oldest first, until the customer is within its cap (the new one is never among them).
      endEach([...mine].slice(0, Math.max(0, mine.size - limits.perCustomer)));
      return () => forget(stream);
    },

    closeKey(keyId) {
      endEach([...open].filter((s) => s.key?.keyId === keyId));
    },
  };
}
