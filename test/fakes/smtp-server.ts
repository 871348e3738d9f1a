import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net, { type AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { createTestTls } from './tls';

export interface FakeSmtpOptions {
  /** Offer STARTTLS with a throwaway CA's localhost/127.0.0.1 certificate (see `caFile`). */
  starttls?: boolean;
  /** Implicit TLS from the first byte (an smtps:// relay); the url becomes smtps://. */
  implicitTls?: boolean;
  /** Require AUTH PLAIN or LOGIN with these credentials before MAIL FROM; they go into `url`. */
  auth?: { user: string; pass: string };
  /** Put RFC 3463 enhanced codes (`550 5.1.1 ...`) on replies, as most real relays do. Off by default. */
  enhancedStatusCodes?: boolean;
}

/** One message as the fake received it. Header names are lower-case; values are unfolded and decoded. */
export interface SmtpRecordedMessage {
  sessionId: string;
  envelope: { mailFrom: string; rcptTo: string[] };
  /** The session was encrypted (STARTTLS or implicit TLS). */
  secure: boolean;
  /** The AUTH username, when the client authenticated. */
  user?: string;
  /** The DATA as received (CRLF line ends, dot-unstuffed). */
  raw: string;
  headers: Record<string, string[]>;
  messageId?: string;
  subject?: string;
  from?: string;
  to?: string;
  listUnsubscribe?: string;
  listUnsubscribePost?: string;
  /** Top-level Content-Type, e.g. `multipart/alternative; boundary=...`. */
  contentType?: string;
  /** The decoded text/plain and text/html parts (first of each). */
  text?: string;
  html?: string;
  receivedAt: number;
}

export type DropStage = 'MAIL' | 'DATA';

interface Countdown {
  remaining: number;
}

interface ScriptedReply extends Countdown {
  code: number;
  message: string;
}

class ScriptedError extends Error {
  constructor(readonly responseCode: number, message: string) {
    super(message);
  }
}

/**
 * A real SMTP server (smtp-server) on an ephemeral 127.0.0.1 port that records every message and can be
 * scripted to fail: refuse sessions at the greeting, reject chosen recipients or the DATA, or drop the
 * connection at MAIL FROM or DATA. Emits `message` with each SmtpRecordedMessage before answering 250.
 */
export class FakeSmtpServer extends EventEmitter {
  readonly messages: SmtpRecordedMessage[] = [];
  /** SMTP sessions accepted (each TCP connection that got as far as the greeting stage). */
  sessionCount = 0;
  /** Every RCPT TO address seen, accepted or not. */
  readonly rcptAttempts: string[] = [];
  private readonly rejectedRecipients = new Map<string, { code: number; message: string }>();
  private readonly connectRefusals: ScriptedReply[] = [];
  private readonly dataRejections: ScriptedReply[] = [];
  private readonly drops: Record<DropStage, Countdown[]> = { MAIL: [], DATA: [] };

  private constructor(
    private readonly server: SMTPServer,
    readonly url: string,
    /** The CA that signed the server certificate, when the fake speaks TLS. */
    readonly caFile: string | undefined,
    readonly port: number,
    private readonly tlsDir: string | undefined,
  ) {
    super();
  }

  static async start(options: FakeSmtpOptions = {}): Promise<FakeSmtpServer> {
    const tlsMaterial = options.starttls || options.implicitTls ? createTestTls() : undefined;
    let fake: FakeSmtpServer | undefined;
    const server = new SMTPServer({
      secure: options.implicitTls ?? false,
      // Without TLS, STARTTLS is disabled, not just hidden: smtp-server would otherwise still answer it
      // with its built-in (expired) certificate.
      ...(tlsMaterial ? { key: tlsMaterial.key, cert: tlsMaterial.cert } : { hideSTARTTLS: true, disabledCommands: ['STARTTLS'] }),
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: !options.auth,
      allowInsecureAuth: true,
      hideENHANCEDSTATUSCODES: !options.enhancedStatusCodes,
      disableReverseLookup: true,
      logger: false,
      // Close quickly even if a client keeps a pooled connection open.
      closeTimeout: 200,
      onConnect: (session, callback) => fake!.handleConnect(session, callback),
      onAuth: (auth, _session, callback) => {
        const expected = options.auth;
        if (expected && auth.username === expected.user && auth.password === expected.pass) {
          callback(null, { user: auth.username });
        } else {
          callback(Object.assign(new Error('Authentication credentials invalid'), { responseCode: 535 }));
        }
      },
      onMailFrom: (_address, session, callback) => fake!.handleMailFrom(session, callback),
      onRcptTo: (address, _session, callback) => fake!.handleRcptTo(address.address, callback),
      onData: (stream, session, callback) => fake!.handleData(stream, session, callback),
    });
    server.on('error', () => {}); // Client-side resets surface here; the tests look at what the client saw.
    await new Promise<void>((resolve, reject) => {
      server.server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.server.address() as AddressInfo;
    const credentials = options.auth
      ? `${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.pass)}@`
      : '';
    const url = `${options.implicitTls ? 'smtps' : 'smtp'}://${credentials}127.0.0.1:${port}`;
    fake = new FakeSmtpServer(server, url, tlsMaterial?.caFile, port, tlsMaterial?.dir);
    return fake;
  }

  /** Answers RCPT TO for this address (case-insensitive) with `code` (550, 553, 450...) until reset. */
  rejectRecipient(address: string, code = 550, message = 'Mailbox unavailable'): this {
    this.rejectedRecipients.set(address.toLowerCase(), { code, message });
    return this;
  }

  /** Answers the end of DATA for the next `times` messages with `code` (554, 451...). */
  rejectData(code = 554, times = 1, message = code >= 500 ? 'Message rejected' : 'Local error, try again later'): this {
    this.dataRejections.push({ code, message, remaining: times });
    return this;
  }

  /** Greets the next `times` sessions with `code` (421 by default) instead of 220, then closes them. */
  refuseConnections(code = 421, times = 1, message = 'Service not available, closing transmission channel'): this {
    this.connectRefusals.push({ code, message, remaining: times });
    return this;
  }

  /** Destroys the socket, without a reply, when the next `times` sessions reach MAIL FROM or DATA. */
  dropConnection(stage: DropStage, times = 1): this {
    this.drops[stage].push({ remaining: times });
    return this;
  }

  /** Subscribes to received messages; returns the unsubscribe function. */
  onMessage(listener: (message: SmtpRecordedMessage) => void): () => void {
    this.on('message', listener);
    return () => this.off('message', listener);
  }

  messagesTo(address: string): SmtpRecordedMessage[] {
    return this.messages.filter((m) => m.envelope.rcptTo.some((to) => to.toLowerCase() === address.toLowerCase()));
  }

  /** Forgets recorded messages, counters and every script. */
  reset(): void {
    this.messages.length = 0;
    this.rcptAttempts.length = 0;
    this.sessionCount = 0;
    this.rejectedRecipients.clear();
    this.connectRefusals.length = 0;
    this.dataRejections.length = 0;
    this.drops.MAIL.length = 0;
    this.drops.DATA.length = 0;
  }

  /** Drops every open session (as a relay restart would), without stopping the listener. */
  dropAllConnections(): void {
    for (const connection of this.server.connections) connection._socket.destroy();
  }

  async close(): Promise<void> {
    this.dropAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (this.tlsDir) fs.rmSync(this.tlsDir, { recursive: true, force: true });
  }

  private handleConnect(_session: SMTPServerSession, callback: (err?: Error | null) => void): void {
    this.sessionCount += 1;
    const refusal = take(this.connectRefusals);
    callback(refusal ? new ScriptedError(refusal.code, refusal.message) : null);
  }

  private handleMailFrom(session: SMTPServerSession, callback: (err?: Error | null) => void): void {
    if (take(this.drops.MAIL)) {
      this.destroySession(session);
      return;
    }
    callback();
  }

  private handleRcptTo(address: string, callback: (err?: Error | null) => void): void {
    this.rcptAttempts.push(address);
    const rejection = this.rejectedRecipients.get(address.toLowerCase());
    callback(rejection ? new ScriptedError(rejection.code, rejection.message) : null);
  }

  private handleData(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): void {
    if (take(this.drops.DATA)) {
      stream.resume();
      this.destroySession(session);
      return;
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      const rejection = take(this.dataRejections);
      if (rejection) {
        callback(new ScriptedError(rejection.code, rejection.message));
        return;
      }
      const record = recordMessage(session, Buffer.concat(chunks).toString('utf8'));
      this.messages.push(record);
      this.emit('message', record);
      callback(null, `OK: queued as ${this.messages.length}`);
    });
  }

  private destroySession(session: SMTPServerSession): void {
    for (const connection of this.server.connections) {
      if (connection.id === session.id) connection._socket.destroy();
    }
  }
}

/** Starts a fake SMTP relay on an ephemeral 127.0.0.1 port. */
export function startFakeSmtp(options?: FakeSmtpOptions): Promise<FakeSmtpServer> {
  return FakeSmtpServer.start(options);
}

/** An smtp:// URL on 127.0.0.1 where nothing listens (connection refused). */
export async function closedSmtpUrl(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `smtp://127.0.0.1:${port}`;
}

/** Consumes one use of the first script that has uses left. */
function take<T extends Countdown>(queue: T[]): T | undefined {
  const next = queue[0];
  if (!next) return undefined;
  next.remaining -= 1;
  if (next.remaining <= 0) queue.shift();
  return next;
}

function recordMessage(session: SMTPServerSession, raw: string): SmtpRecordedMessage {
  const envelope = session.envelope;
  const part = parsePart(raw);
  const header = (name: string) => part.headers[name]?.[0];
  const leaves = flattenParts(part);
  const text = leaves.find((p) => mediaType(p) === 'text/plain');
  const html = leaves.find((p) => mediaType(p) === 'text/html');
  return {
    sessionId: session.id,
    envelope: {
      mailFrom: envelope.mailFrom ? envelope.mailFrom.address : '',
      rcptTo: envelope.rcptTo.map((r) => r.address),
    },
    secure: session.secure,
    user: typeof session.user === 'string' ? session.user : undefined,
    raw,
    headers: part.headers,
    messageId: header('message-id'),
    subject: header('subject'),
    from: header('from'),
    to: header('to'),
    listUnsubscribe: header('list-unsubscribe'),
    listUnsubscribePost: header('list-unsubscribe-post'),
    contentType: header('content-type'),
    text: text ? decodeBody(text) : undefined,
    html: html ? decodeBody(html) : undefined,
    receivedAt: Date.now(),
  };
}

// A minimal MIME reader, enough for what nodemailer produces: headers, nested multiparts,
// 7bit/8bit/quoted-printable/base64 bodies and RFC 2047 encoded words.

interface MimePart {
  headers: Record<string, string[]>;
  body: string;
  children: MimePart[];
}

function parsePart(raw: string): MimePart {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split === -1 ? raw : raw.slice(0, split);
  const body = split === -1 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string[]> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    (headers[name] ??= []).push(decodeWords(line.slice(colon + 1).trim()));
  }
  const part: MimePart = { headers, body, children: [] };
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type']?.[0] ?? '')?.[1];
  if (mediaType(part).startsWith('multipart/') && boundary) {
    const delimiter = `--${boundary}`;
    const sections = body.split(new RegExp(`\\r?\\n?${escapeRegExp(delimiter)}(?:--)?[ \\t]*\\r?\\n?`));
    // sections[0] is the preamble, the last one the epilogue after the closing delimiter.
    for (const section of sections.slice(1, -1)) part.children.push(parsePart(section));
  }
  return part;
}

function flattenParts(part: MimePart): MimePart[] {
  return part.children.length ? part.children.flatMap(flattenParts) : [part];
}

function mediaType(part: MimePart): string {
  return (part.headers['content-type']?.[0] ?? 'text/plain').split(';')[0].trim().toLowerCase();
}

function decodeBody(part: MimePart): string {
  const encoding = (part.headers['content-transfer-encoding']?.[0] ?? '7bit').toLowerCase();
  const charset = /charset="?([^";]+)"?/i.exec(part.headers['content-type']?.[0] ?? '')?.[1]?.toLowerCase() ?? 'utf-8';
  let bytes: Buffer;
  if (encoding === 'base64') bytes = Buffer.from(part.body.replace(/\s+/g, ''), 'base64');
  else if (encoding === 'quoted-printable') bytes = decodeQuotedPrintable(part.body);
  else bytes = Buffer.from(part.body, 'utf8');
  return bytes.toString(charset === 'utf-8' || charset === 'utf8' || charset === 'us-ascii' ? 'utf8' : 'latin1');
}

function decodeQuotedPrintable(body: string): Buffer {
  const softBreaksRemoved = body.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < softBreaksRemoved.length; i++) {
    const char = softBreaksRemoved[i];
    const hex = softBreaksRemoved.slice(i + 1, i + 3);
    if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
    }
  }
  return Buffer.from(bytes);
}

/** RFC 2047: `=?UTF-8?Q?...?=` and `=?UTF-8?B?...?=`; whitespace between adjacent encoded words is dropped. */
function decodeWords(value: string): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_match, charset: string, encoding: string, text: string) => {
      const bytes = encoding.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64')
        : decodeQuotedPrintable(text.replace(/_/g, ' '));
      return bytes.toString(/^utf-?8$/i.test(charset) ? 'utf8' : 'latin1');
    });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
