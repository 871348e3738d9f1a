import { createHash } from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import { domainToASCII } from 'node:url';
import { createTransport } from 'nodemailer';
import addressparser from 'nodemailer/lib/addressparser';
import type { NodemailerError } from 'nodemailer/lib/errors';
import type Mail from 'nodemailer/lib/mailer';
import type { SendMailOptions } from 'nodemailer/lib/mailer';
import type { SMTPPoolOptions } from 'nodemailer/lib/smtp-pool';
import type { SmtpConfig } from '../../lib/config';
import type { Logger } from '../../lib/logger';
import type { EmailMessage, EmailProvider } from './message-provider';
import { ProviderError, type ProviderErrorKind, type ProviderReceipt } from './push-provider';

const NAME = 'smtp';
const FALLBACK_NAME = 'smtp-fallback';
const CONNECT_TIMEOUT_MS = 10_000;
const SOCKET_TIMEOUT_MS = 30_000;
const MAX_METADATA_HEADERS = 20;
const MAX_HEADER_VALUE_CHARS = 256;
/** Failures that happen before a relay looks at the message: the relay is unusable, not the message. */
const RELAY_COMMANDS = /^(CONN|EHLO|HELO|LHLO|STARTTLS|AUTH\b)/;
const RELAY_ERROR_CODES = new Set(['ETLS', 'EAUTH', 'ENOAUTH', 'EOAUTH2', 'EREQUIRETLS']);
/** Nodemailer codes for a message or configuration it refused to send; retrying would not help. */
const PERMANENT_ERROR_CODES = new Set([
  'EAUTH', 'ENOAUTH', 'EREQUIRETLS', 'ECONFIG', 'EFILEACCESS', 'EURLACCESS', 'ESTREAM', 'EOTP', 'EMESSAGE', 'EENVELOPE',
]);

interface Relay {
  name: typeof NAME | typeof FALLBACK_NAME;
  /** host:port, safe to log (no credentials). */
  address: string;
  transport: Mail;
}

/** A failed attempt on one relay, classified. */
interface RelayFailure {
  relay: Relay;
  error: ProviderError;
  /** The relay itself failed (connect, TLS, greeting, AUTH) before it judged this message. */
  relayLevel: boolean;
}

/**
 * Email over SMTP with nodemailer: one pooled transport per relay (primary, optional fallback). A message
 * the primary cannot take for a transient or relay-level reason goes to the fallback within the same send;
 * a verdict on the message itself (recipient, sender or content rejected) is final.
 */
export function createSmtpProvider(config: SmtpConfig, logger: Logger): EmailProvider {
  const sender = parseFrom(config.from);
  const ca = config.caFile ? [...tls.rootCertificates, fs.readFileSync(config.caFile, 'utf8')] : undefined;
  const relays: Relay[] = [createRelay(NAME, config.url, config, ca)];
  if (config.fallbackUrl) relays.push(createRelay(FALLBACK_NAME, config.fallbackUrl, config, ca));
  const log = logger.child({ provider: NAME });
  let closed = false;

  async function sendVia(relay: Relay, mail: SendMailOptions, deliveryKey: string): Promise<ProviderReceipt> {
    // A copy per attempt: nodemailer normalises what it is given, and the fallback must get the same message.
    const info = (await relay.transport.sendMail(structuredClone(mail))) as { response?: string; serverMessageId?: string };
    log.debug(
      { relay: relay.name, address: relay.address, deliveryKey, messageId: mail.messageId, response: info.response,
        serverMessageId: info.serverMessageId },
      'smtp message accepted',
    );
    return { provider: relay.name, providerMessageId: mail.messageId ?? null };
  }

  return {
    name: NAME,
    mode: 'live',

    async send(message: EmailMessage, deliveryKey: string): Promise<ProviderReceipt> {
      const mail = buildMail(message, deliveryKey, sender);
      const failures: RelayFailure[] = [];
      for (const relay of relays) {
        try {
          return await sendVia(relay, mail, deliveryKey);
        } catch (err) {
          const failure = classifyFailure(relay, err);
          failures.push(failure);
          const { kind, code } = failure.error;
          const next = relays[relays.indexOf(relay) + 1];
          const failover = next !== undefined && !closed && (kind === 'transient' || failure.relayLevel);
          log.warn(
            { relay: relay.name, address: relay.address, deliveryKey, messageId: mail.messageId, kind, code,
              detail: failure.error.message, failover: failover ? next.name : undefined },
            'smtp send failed',
          );
          if (!failover) break;
        }
      }
      throw finalError(failures);
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      // Idle pooled connections are closed at once; one delivering a message finishes it first.
      for (const relay of relays) relay.transport.close();
    },
  };
}

function createRelay(name: Relay['name'], url: string, config: SmtpConfig, ca: string[] | undefined): Relay {
  const parsed = parseSmtpUrl(url, name === NAME ? 'SMTP_URL' : 'SMTP_FALLBACK_URL');
  const connectTimeout = config.timeoutMs ?? CONNECT_TIMEOUT_MS;
  const options: SMTPPoolOptions & { pool: true } = {
    pool: true,
    host: parsed.host,
    port: parsed.port,
    secure: parsed.secure,
    requireTLS: parsed.requireTLS,
    ...(parsed.auth ? { auth: parsed.auth } : {}),
    tls: { minVersion: 'TLSv1.2', ...(ca ? { ca } : {}) },
    connectionTimeout: connectTimeout,
    greetingTimeout: connectTimeout,
    dnsTimeout: connectTimeout,
    socketTimeout: config.timeoutMs ?? SOCKET_TIMEOUT_MS,
    maxConnections: config.maxConnections ?? 5,
    // The pool re-sends a message whose connection closed before a byte of it went out (a pooled connection
    // the relay dropped while idle) up to maxRequeues times; more than one would only delay the failover.
    maxRequeues: 1,
    // Messages are built from strings only; never let content reach for files or URLs.
    disableFileAccess: true,
    disableUrlAccess: true,
    logger: false,
  };
  return { name, address: `${parsed.host}:${parsed.port}`, transport: createTransport(options) };
}

interface ParsedSmtpUrl {
  host: string;
  port: number;
  secure: boolean;
  requireTLS: boolean;
  auth?: { user: string; pass: string };
}

export function parseSmtpUrl(url: string, what = 'SMTP_URL'): ParsedSmtpUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`${what} is not a URL (expected smtp://user:pass@host:587 or smtps://...)`);
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') {
    throw new Error(`${what} must be smtp:// or smtps://, not ${parsed.protocol}//`);
  }
  if (!parsed.hostname) throw new Error(`${what} has no host`);
  const secure = parsed.protocol === 'smtps:';
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1'); // IPv6 literals come bracketed.
  const auth = parsed.username || parsed.password
    ? { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) }
    : undefined;
  const requireTLSParam = parsed.searchParams.get('requireTLS');
  // Credentials never go out in clear: STARTTLS is mandatory with AUTH unless the URL opts out explicitly.
  const requireTLS = !secure && (requireTLSParam === null ? auth !== undefined : requireTLSParam === 'true');
  return { host, port: parsed.port ? Number(parsed.port) : secure ? 465 : 587, secure, requireTLS, auth };
}

interface Sender {
  /** The header value as configured, e.g. `Shop <orders@shop.example>`. */
  header: string;
  address: string;
  /** ASCII (punycode) domain for Message-IDs. */
  domain: string;
}

function parseFrom(from: string): Sender {
  const parsed = addressparser(from, { flatten: true });
  const address = parsed.length === 1 ? parsed[0].address : '';
  if (!isValidAddress(address)) throw new Error(`EMAIL_FROM must be one address, e.g. Shop <orders@shop.example>: ${from}`);
  const domain = domainToASCII(address.slice(address.lastIndexOf('@') + 1)).toLowerCase() || 'herald';
  return { header: from, address, domain };
}

/**
 * The Message-ID for a delivery: the same on every retry and on the fallback relay, so a message that two
 * attempts both got through is recognisably one message. Angle brackets included, as in the header.
 */
export function smtpMessageIdFor(deliveryKey: string, fromDomain: string): string {
  const hash = createHash('sha256').update(deliveryKey).digest('hex').slice(0, 32);
  return `<${hash}@${fromDomain}>`;
}

function buildMail(message: EmailMessage, deliveryKey: string, sender: Sender): SendMailOptions {
  const to = message.to.trim();
  if (!isValidAddress(to)) {
    throw new ProviderError(NAME, 'invalid_token', 'INVALID_ADDRESS', `not a deliverable email address: ${JSON.stringify(message.to)}`);
  }
  const headers: Record<string, string> = metadataHeaders(message.metadata);
  const mail: SendMailOptions = {
    from: sender.header,
    to,
    // The envelope is explicit so a display name or odd header formatting never changes MAIL FROM/RCPT TO.
    envelope: { from: sender.address, to: [to] },
    subject: message.subject,
    text: message.text,
    ...(message.html !== undefined ? { html: message.html } : {}),
    messageId: smtpMessageIdFor(deliveryKey, sender.domain),
    headers,
  };
  if (message.unsubscribeUrl !== undefined) {
    mail.list = { unsubscribe: unsubscribeUrl(message.unsubscribeUrl) };
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click'; // RFC 8058 one-click.
  }
  return mail;
}

function unsubscribeUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    url = new URL('invalid:');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || /[\s<>]/.test(raw)) {
    throw new ProviderError(NAME, 'permanent', 'INVALID_UNSUBSCRIBE_URL', `unsubscribeUrl must be an http(s) URL: ${JSON.stringify(raw)}`);
  }
  return url.href;
}

/** `{ notificationId: 'n1' }` → `X-Herald-Notification-Id: n1`; names reduced to [A-Za-z0-9-], values to one line. */
export function metadataHeaders(metadata: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, rawValue] of Object.entries(metadata ?? {})) {
    if (Object.keys(headers).length >= MAX_METADATA_HEADERS) break;
    const words = key
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .split(/[^A-Za-z0-9]+/)
      .filter(Boolean);
    if (words.length === 0) continue;
    const name = `X-Herald-${words.map((w) => w[0].toUpperCase() + w.slice(1).toLowerCase()).join('-')}`;
    const value = String(rawValue ?? '').replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, MAX_HEADER_VALUE_CHARS);
    if (value) headers[name] = value;
  }
  return headers;
}

/**
 * A practical check for one bare address (no display name, no quoted local part, no IP literal), loose
 * enough for internationalised local parts and domains. Anything nodemailer or a relay could read
 * differently from us is rejected here rather than sent.
 */
export function isValidAddress(address: string): boolean {
  if (address.length > 254 || /[\s<>()[\]\\,;:"\p{Cc}]/u.test(address)) return false;
  const at = address.lastIndexOf('@');
  if (at <= 0) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64 || local.includes('@') || local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return false;
  }
  const labels = domain.split('.');
  return labels.length >= 2
    && labels.every((label) => /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u.test(label))
    && !/^\d+$/.test(labels[labels.length - 1]);
}

interface SmtpReply {
  status: number;
  /** RFC 3463 enhanced status, e.g. `5.1.1`. */
  enhanced?: string;
}

function parseReply(err: NodemailerError): SmtpReply | undefined {
  const match = /^([2-5]\d\d)(?:[ -]([245]\.\d{1,3}\.\d{1,3})\b)?/.exec(err.response ?? '');
  const status = err.responseCode ?? (match ? Number(match[1]) : undefined);
  if (status === undefined) return undefined;
  return { status, enhanced: match?.[2] };
}

function classifyFailure(relay: Relay, err: unknown): RelayFailure {
  if (err instanceof ProviderError) return { relay, error: err, relayLevel: false };
  const e = (err ?? {}) as NodemailerError;
  const command = e.command ?? '';
  const relayLevel = RELAY_COMMANDS.test(command) || RELAY_ERROR_CODES.has(e.code ?? '');
  const reply = parseReply(e);
  const detail = e.message || String(err);

  if (reply && reply.status >= 400) {
    const { status, enhanced } = reply;
    const message = `${relay.name} ${relay.address} answered ${command || 'SMTP'} with ${e.response ?? status}`;
    const error = (kind: ProviderErrorKind, code = String(status)) => new ProviderError(relay.name, kind, code, message);
    // 4xx asks to try again later; 503 is a bad command sequence on this session, not a verdict on the message.
    if (status < 500 || status === 503) return { relay, error: error('transient'), relayLevel };
    if (command === 'RCPT TO') {
      // A 5xx for the recipient means the address is dead (550 no such user, 553 bad address) unless it is
      // policy (5.7.x: relaying denied, blocked sender) or a full mailbox, which says nothing about the address.
      const policy = enhanced?.split('.')[1] === '7';
      const full = status === 552 || enhanced === '5.2.2';
      if (policy || full) return { relay, error: error('permanent'), relayLevel };
      return { relay, error: error('invalid_token', `RECIPIENT_REJECTED:${status}`), relayLevel };
    }
    // 535 bad credentials, 554 content rejected, 550 sender refused...: the same send will fail again.
    return { relay, error: error('permanent'), relayLevel };
  }

  const code = e.originalCode ?? e.code ?? 'network_error';
  if (PERMANENT_ERROR_CODES.has(e.code ?? '')) {
    // No reply to go by: nodemailer refused (missing credentials, no REQUIRETLS, message over SIZE...).
    return { relay, error: new ProviderError(relay.name, 'permanent', code, `${relay.name} ${relay.address}: ${detail}`), relayLevel };
  }
  // Connection refused/reset/closed, timeouts, DNS, TLS handshakes, garbled replies, a closed pool.
  return {
    relay,
    error: new ProviderError(relay.name, 'transient', code, `${relay.name} ${relay.address}: ${detail}`),
    relayLevel: true,
  };
}

/**
 * One error for the whole send. The last relay's verdict on the message wins; when the last relay itself
 * was unusable for a permanent reason (say the fallback's credentials are wrong) while an earlier one only
 * failed transiently, the transient error is kept so the message is retried rather than dropped.
 */
function finalError(failures: RelayFailure[]): ProviderError {
  const last = failures[failures.length - 1];
  if (failures.length === 1) return last.error;
  const transient = failures.find((f) => f.error.kind === 'transient');
  const chosen = !last.relayLevel || last.error.kind === 'transient' || !transient ? last : transient;
  const summary = failures.map((f) => `${f.relay.name}: ${f.error.code}`).join('; ');
  const { error } = chosen;
  return new ProviderError(error.provider, error.kind, error.code, `${error.message} (all relays failed: ${summary})`, error.retryAfterMs);
}
