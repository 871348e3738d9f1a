// One LISTEN connection per API process for the in-app inbox. Whoever changes an inbox (the addToInbox
// activity in a worker, or any API instance marking messages read) runs pg_notify('herald_inbox', ...)
// in the same statement; each API process hears it here and hands it to the streams of that customer.
import { Client } from 'pg';
import { INBOX_CHANNEL, type InboxChange } from '../store/inbox';
import { connectionFields } from '../lib/database-url';
import type { Logger } from '../lib/logger';

/**
 * What a subscriber hears: a change to its customer's inbox, or `resync` after the hub (re)started
 * listening. Changes made while it was not listening were not heard, so a subscriber should catch up
 * from the database on `resync`.
 */
export type InboxHubEvent = InboxChange | { kind: 'resync' };

export interface InboxHub {
  /**
   * Calls `listener` for each change to the customer's inbox until the returned function is called.
   * `onClose` is called if the hub closes first (the process is stopping): end the stream then.
   */
  subscribe(customerId: string, listener: (event: InboxHubEvent) => void, onClose: () => void): () => void;
  /** True while the LISTEN connection is up. */
  readonly listening: boolean;
  /** Closes every subscription (their onClose) and the LISTEN connection. */
  close(): Promise<void>;
}

export interface InboxHubOptions {
  databaseUrl: string;
  logger: Logger;
  /** First and longest wait before reconnecting after the connection is lost (doubling in between). */
  reconnectDelayMs?: { min: number; max: number };
  /** How often an idle connection is checked with a query, so a silently dead one is noticed. */
  pingIntervalMs?: number;
}

interface Subscriber {
  listener: (event: InboxHubEvent) => void;
  onClose: () => void;
}

const isChange = (value: unknown): value is InboxChange => {
  const v = value as Partial<Record<string, unknown>> | null;
  return !!v && typeof v.customerId === 'string' && (v.kind === 'created' || v.kind === 'read');
};

/** Starts listening at once (in the background); reconnects with backoff whenever the connection fails. */
export function createInboxHub({ databaseUrl, logger, reconnectDelayMs = { min: 500, max: 15_000 }, pingIntervalMs = 30_000 }: InboxHubOptions): InboxHub {
  const log = logger.child({ component: 'inbox-hub' });
  const subscribers = new Map<string, Set<Subscriber>>();
  let client: Client | null = null;
  let listening = false;
  let closed = false;
  let failures = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let pingTimer: NodeJS.Timeout | undefined;

  const each = (fn: (s: Subscriber) => void) => {
    for (const set of subscribers.values()) for (const s of [...set]) fn(s);
  };

  function deliver(payload: string | undefined): void {
    let change: unknown;
    try {
      change = JSON.parse(payload ?? '');
    } catch {
      log.warn({ payload }, 'ignored an inbox notification that is not JSON');
      return;
    }
    if (!isChange(change)) {
      log.warn({ payload }, 'ignored an inbox notification of unknown shape');
      return;
    }
    const set = subscribers.get(change.customerId);
    if (!set) return;
    for (const s of [...set]) {
      try {
        s.listener(change);
      } catch (err) {
        log.error({ err }, 'an inbox subscriber failed');
      }
    }
  }

  function lost(c: Client, err?: unknown): void {
    if (client !== c) return; // an older connection, already handled
    client = null;
    listening = false;
    clearInterval(pingTimer);
    c.removeAllListeners('notification');
    c.end().catch(() => undefined);
    if (closed) return;
    const delay = Math.min(reconnectDelayMs.max, reconnectDelayMs.min * 2 ** failures++);
    log.warn({ err, retryInMs: delay }, 'inbox LISTEN connection lost; reconnecting');
    retryTimer = setTimeout(() => void connect(), delay);
    retryTimer.unref();
  }

  async function connect(): Promise<void> {
    if (closed) return;
    const c = new Client({ ...connectionFields(databaseUrl), application_name: 'herald-inbox-hub', keepAlive: true });
    client = c;
    // Keep an error listener for the client's whole life: an unhandled 'error' would crash the process.
    c.on('error', (err) => lost(c, err));
    c.on('end', () => lost(c, new Error('connection ended')));
    c.on('notification', (msg) => {
      if (msg.channel === INBOX_CHANNEL) deliver(msg.payload);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${INBOX_CHANNEL}`);
    } catch (err) {
      lost(c, err);
      return;
    }
    if (client !== c) return;
    if (closed) {
      c.end().catch(() => undefined);
      return;
    }
    listening = true;
    if (failures > 0) log.info('inbox LISTEN connection restored');
    failures = 0;
    pingTimer = setInterval(() => {
      c.query('SELECT 1').catch((err: unknown) => lost(c, err));
    }, pingIntervalMs);
    pingTimer.unref();
    // Whatever happened before this LISTEN was not heard: every open stream catches up from the database.
    each((s) => {
      try {
        s.listener({ kind: 'resync' });
      } catch (err) {
        log.error({ err }, 'an inbox subscriber failed');
      }
    });
  }

  void connect();

  return {
    get listening() {
      return listening;
    },

    subscribe(customerId, listener, onClose) {
      const subscriber: Subscriber = { listener, onClose };
      if (closed) {
        queueMicrotask(onClose);
        return () => undefined;
      }
      let set = subscribers.get(customerId);
      if (!set) subscribers.set(customerId, (set = new Set()));
      set.add(subscriber);
      return () => {
        const current = subscribers.get(customerId);
        if (!current) return;
        current.delete(subscriber);
        if (current.size === 0) subscribers.delete(customerId);
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(retryTimer);
      clearInterval(pingTimer);
      each((s) => {
        try {
          s.onClose();
        } catch (err) {
          log.error({ err }, 'an inbox subscriber failed to close');
        }
      });
      subscribers.clear();
      const c = client;
      client = null;
      listening = false;
      if (c) {
        c.removeAllListeners('notification');
        await c.end().catch(() => undefined);
      }
    },
  };
}
