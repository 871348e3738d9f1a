import net, { type AddressInfo } from 'node:net';
import type { EmailMessage, EmailProvider } from '../activities/providers/message-provider';
import { ProviderError } from '../activities/providers/push-provider';
import { createSmtpProvider, smtpMessageIdFor } from '../activities/providers/smtp';
import type { SmtpConfig } from '../lib/config';
import { logger } from './support/logger';
import { closedSmtpUrl, startFakeSmtp, type FakeSmtpServer } from './fakes/smtp-server';

const FROM = 'Shop <orders@shop.example>';
const AUTH = { user: 'herald@shop.example', pass: 'p@ss:word/1' };

let plain: FakeSmtpServer;
let fallback: FakeSmtpServer;
let secured: FakeSmtpServer;
const providers: EmailProvider[] = [];

function provider(overrides: Partial<SmtpConfig> = {}): EmailProvider {
  const created = createSmtpProvider({ url: plain.url, from: FROM, timeoutMs: 2_000, ...overrides }, logger);
  providers.push(created);
  return created;
}

function email(overrides: Partial<EmailMessage> = {}): EmailMessage {
  return {
    to: 'ada@customer.example',
    subject: 'Your order #42 has shipped',
    text: 'Order #42 is on its way.',
    html: '<p>Order <b>#42</b> is on its way.</p>',
    metadata: { notificationId: 'notif-1', orderId: 'order-42' },
    ...overrides,
  };
}

async function sendError(smtp: EmailProvider, message: EmailMessage, deliveryKey = 'delivery-err'): Promise<ProviderError> {
  const error = await smtp.send(message, deliveryKey).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

beforeAll(async () => {
  [plain, fallback, secured] = await Promise.all([
    startFakeSmtp(),
    startFakeSmtp(),
    startFakeSmtp({ starttls: true, auth: AUTH }),
  ]);
});

afterEach(async () => {
  await Promise.all(providers.splice(0).map((p) => p.close()));
  for (const fake of [plain, fallback, secured]) fake.reset();
});

afterAll(async () => {
  await Promise.all([plain, fallback, secured].map((fake) => fake?.close()));
});

describe('createSmtpProvider against a fake SMTP relay', () => {
  test('delivers text and html with a Message-ID derived from the delivery key', async () => {
    const smtp = provider();
    const receipt = await smtp.send(email(), 'delivery-1');

    const messageId = smtpMessageIdFor('delivery-1', 'shop.example');
    expect(messageId).toMatch(/^<[0-9a-f]{32}@shop\.example>$/);
    expect(receipt).toEqual({ provider: 'smtp', providerMessageId: messageId });
    expect(smtp.name).toBe('smtp');
    expect(smtp.mode).toBe('live');

    expect(plain.messages).toHaveLength(1);
    const [received] = plain.messages;
    expect(received.envelope).toEqual({ mailFrom: 'orders@shop.example', rcptTo: ['ada@customer.example'] });
    expect(received.messageId).toBe(messageId);
    expect(received.subject).toBe('Your order #42 has shipped');
    expect(received.from).toBe('Shop <orders@shop.example>');
    expect(received.to).toBe('ada@customer.example');
    expect(received.contentType).toMatch(/^multipart\/alternative;/);
    expect(received.text?.trim()).toBe('Order #42 is on its way.');
    expect(received.html?.trim()).toBe('<p>Order <b>#42</b> is on its way.</p>');
    expect(received.headers['x-herald-notification-id']).toEqual(['notif-1']);
    expect(received.headers['x-herald-order-id']).toEqual(['order-42']);
    expect(received.listUnsubscribe).toBeUndefined();
    expect(received.listUnsubscribePost).toBeUndefined();
    expect(received.receivedAt).toBeLessThanOrEqual(Date.now());

    // A retry of the same delivery carries the same Message-ID; another delivery gets its own.
    await expect(smtp.send(email(), 'delivery-1')).resolves.toEqual(receipt);
    const other = await smtp.send(email(), 'delivery-2');
    expect(other.providerMessageId).not.toBe(messageId);
    expect(plain.messages.map((m) => m.messageId)).toEqual([messageId, messageId, other.providerMessageId]);
    // One pooled connection carried all three.
    expect(plain.sessionCount).toBe(1);
  });

  test('a text-only message is a single text/plain part; metadata headers are sanitised', async () => {
    await provider().send(
      email({ html: undefined, metadata: { 'tenant id': 'acme\r\nBcc: victim@evil.example', '!!!': 'dropped', empty: '' } }),
      'delivery-text',
    );
    const [received] = plain.messages;
    expect(received.contentType).toMatch(/^text\/plain/);
    expect(received.html).toBeUndefined();
    expect(received.text?.trim()).toBe('Order #42 is on its way.');
    expect(received.headers['x-herald-tenant-id']).toEqual(['acme Bcc: victim@evil.example']);
    expect(received.headers.bcc).toBeUndefined();
    expect(Object.keys(received.headers).filter((h) => h.startsWith('x-herald-'))).toEqual(['x-herald-tenant-id']);
  });

  test('List-Unsubscribe and List-Unsubscribe-Post only when the message has an unsubscribeUrl', async () => {
    const smtp = provider();
    await smtp.send(email({ unsubscribeUrl: 'https://shop.example/unsubscribe?t=abc123' }), 'delivery-list');
    await smtp.send(email(), 'delivery-transactional');

    const [list, transactional] = plain.messages;
    expect(list.listUnsubscribe).toBe('<https://shop.example/unsubscribe?t=abc123>');
    expect(list.listUnsubscribePost).toBe('List-Unsubscribe=One-Click');
    expect(transactional.listUnsubscribe).toBeUndefined();
    expect(transactional.listUnsubscribePost).toBeUndefined();

    const error = await sendError(smtp, email({ unsubscribeUrl: 'javascript:alert(1)' }));
    expect(error).toMatchObject({ kind: 'permanent', code: 'INVALID_UNSUBSCRIBE_URL' });
    expect(plain.messages).toHaveLength(2);
  });

  test('STARTTLS with the test CA, then AUTH', async () => {
    const receipt = await provider({ url: secured.url, caFile: secured.caFile }).send(email(), 'delivery-tls');
    expect(receipt.provider).toBe('smtp');
    expect(secured.messages).toHaveLength(1);
    expect(secured.messages[0]).toMatchObject({ secure: true, user: AUTH.user });
  });

  test('smtps:// speaks TLS from the first byte', async () => {
    const implicit = await startFakeSmtp({ implicitTls: true, auth: AUTH });
    try {
      expect(implicit.url).toMatch(/^smtps:\/\//);
      await provider({ url: implicit.url, caFile: implicit.caFile }).send(email(), 'delivery-smtps');
      expect(implicit.messages).toHaveLength(1);
      expect(implicit.messages[0]).toMatchObject({ secure: true, user: AUTH.user });
    } finally {
      await implicit.close();
    }
  });

  test('credentials are never sent in clear: STARTTLS is required with AUTH unless the URL opts out', async () => {
    const cleartext = await startFakeSmtp({ auth: AUTH });
    try {
      const error = await sendError(provider({ url: cleartext.url }), email());
      expect(error.kind).toBe('permanent');
      expect(error.message).toContain('STARTTLS');
      expect(cleartext.messages).toHaveLength(0);

      await provider({ url: `${cleartext.url}?requireTLS=false` }).send(email(), 'delivery-cleartext');
      expect(cleartext.messages).toHaveLength(1);
      expect(cleartext.messages[0]).toMatchObject({ secure: false, user: AUTH.user });
    } finally {
      await cleartext.close();
    }
  });

  test('a certificate from an untrusted CA is not accepted (transient, nothing sent)', async () => {
    const error = await sendError(provider({ url: secured.url }), email());
    expect(error.kind).toBe('transient');
    expect(secured.messages).toHaveLength(0);
  });

  test('wrong credentials (535) are permanent', async () => {
    const badUrl = secured.url.replace(encodeURIComponent(AUTH.pass), 'wrong');
    const error = await sendError(provider({ url: badUrl, caFile: secured.caFile }), email());
    expect(error).toMatchObject({ provider: 'smtp', kind: 'permanent', code: '535' });
    expect(secured.messages).toHaveLength(0);
  });

  test.each([550, 553])('%i on RCPT TO is invalid_token: the address is dead', async (code) => {
    plain.rejectRecipient('gone@customer.example', code);
    const error = await sendError(provider(), email({ to: 'gone@customer.example' }));
    expect(error).toMatchObject({ provider: 'smtp', kind: 'invalid_token', code: `RECIPIENT_REJECTED:${code}` });
    expect(plain.messages).toHaveLength(0);
  });

  test('a policy rejection of the recipient (550 5.7.1) is permanent, not a dead address', async () => {
    plain.rejectRecipient('ada@customer.example', 550, '5.7.1 Relaying denied');
    const error = await sendError(provider(), email());
    expect(error).toMatchObject({ kind: 'permanent', code: '550' });
    expect(error.message).toContain('550 5.7.1 Relaying denied');
  });

  test('enhanced status codes on the reply: 550 5.1.1 is still a dead address', async () => {
    const strict = await startFakeSmtp({ enhancedStatusCodes: true });
    try {
      strict.rejectRecipient('gone@customer.example', 550);
      const error = await sendError(provider({ url: strict.url }), email({ to: 'gone@customer.example' }));
      expect(error).toMatchObject({ kind: 'invalid_token', code: 'RECIPIENT_REJECTED:550' });
      expect(error.message).toContain('550 5.1.1');
    } finally {
      await strict.close();
    }
  });

  test('450 on RCPT TO is transient', async () => {
    plain.rejectRecipient('busy@customer.example', 450, 'Mailbox busy');
    const error = await sendError(provider(), email({ to: 'busy@customer.example' }));
    expect(error).toMatchObject({ kind: 'transient', code: '450' });
  });

  test('554 after DATA is permanent', async () => {
    plain.rejectData(554);
    const error = await sendError(provider(), email());
    expect(error).toMatchObject({ provider: 'smtp', kind: 'permanent', code: '554' });
    expect(plain.messages).toHaveLength(0);
  });

  test('451 after DATA is transient, and the next send goes through', async () => {
    const smtp = provider();
    plain.rejectData(451);
    const error = await sendError(smtp, email());
    expect(error).toMatchObject({ provider: 'smtp', kind: 'transient', code: '451' });

    await smtp.send(email(), 'delivery-after-451');
    expect(plain.messages).toHaveLength(1);
  });

  test.each(['MAIL', 'DATA'] as const)('a connection dropped at %s is transient', async (stage) => {
    plain.dropConnection(stage);
    const error = await sendError(provider(), email());
    expect(error).toMatchObject({ provider: 'smtp', kind: 'transient', code: 'ECONNECTION' });
    expect(plain.messages).toHaveLength(0);
  });

  test('a relay that never greets times out (transient)', async () => {
    const silent = net.createServer(() => {});
    const sockets = new Set<net.Socket>();
    silent.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const started = Date.now();
      const error = await sendError(provider({ url: `smtp://127.0.0.1:${port}`, timeoutMs: 300 }), email());
      expect(error).toMatchObject({ kind: 'transient', code: 'ETIMEDOUT' });
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test('a pooled connection the relay dropped while idle is replaced without failing the send', async () => {
    const smtp = provider();
    await smtp.send(email(), 'delivery-before-drop');
    plain.dropAllConnections();
    await new Promise((resolve) => setTimeout(resolve, 50));
    await smtp.send(email(), 'delivery-after-drop');
    expect(plain.messages).toHaveLength(2);
    expect(plain.sessionCount).toBe(2);
  });

  test('primary refusing connections: the fallback relay delivers at once', async () => {
    const smtp = provider({ url: await closedSmtpUrl(), fallbackUrl: fallback.url });
    const receipt = await smtp.send(email(), 'delivery-failover');
    expect(receipt).toEqual({ provider: 'smtp-fallback', providerMessageId: smtpMessageIdFor('delivery-failover', 'shop.example') });
    expect(fallback.messages).toHaveLength(1);
    expect(fallback.messages[0].messageId).toBe(receipt.providerMessageId);
  });

  test('primary greeting with 421: the fallback relay delivers', async () => {
    plain.refuseConnections(421);
    const receipt = await provider({ fallbackUrl: fallback.url }).send(email(), 'delivery-421');
    expect(receipt.provider).toBe('smtp-fallback');
    expect(plain.sessionCount).toBe(1);
    expect(plain.messages).toHaveLength(0);
    expect(fallback.messages).toHaveLength(1);
  });

  test('primary 451 after DATA: the fallback relay delivers', async () => {
    plain.rejectData(451);
    const receipt = await provider({ fallbackUrl: fallback.url }).send(email(), 'delivery-451-failover');
    expect(receipt.provider).toBe('smtp-fallback');
    expect(fallback.messages).toHaveLength(1);
  });

  test('primary with bad credentials (535): the relay is unusable, so the fallback delivers', async () => {
    const badUrl = secured.url.replace(encodeURIComponent(AUTH.pass), 'wrong');
    const receipt = await provider({ url: badUrl, caFile: secured.caFile, fallbackUrl: fallback.url }).send(email(), 'delivery-535');
    expect(receipt.provider).toBe('smtp-fallback');
    expect(fallback.messages).toHaveLength(1);
  });

  test('a healthy primary is used and the fallback left alone', async () => {
    const receipt = await provider({ fallbackUrl: fallback.url }).send(email(), 'delivery-primary');
    expect(receipt.provider).toBe('smtp');
    expect(plain.messages).toHaveLength(1);
    expect(fallback.sessionCount).toBe(0);
  });

  test.each([
    ['550 on RCPT TO', () => plain.rejectRecipient('ada@customer.example', 550), 'invalid_token'],
    ['554 after DATA', () => plain.rejectData(554), 'permanent'],
  ] as const)('primary %s is final: the fallback is not tried', async (_label, script, kind) => {
    script();
    const error = await sendError(provider({ fallbackUrl: fallback.url }), email());
    expect(error).toMatchObject({ provider: 'smtp', kind });
    expect(fallback.sessionCount).toBe(0);
    expect(fallback.messages).toHaveLength(0);
  });

  test('both relays failing transiently is transient and names the fallback', async () => {
    fallback.refuseConnections(421);
    const error = await sendError(provider({ url: await closedSmtpUrl(), fallbackUrl: fallback.url }), email());
    expect(error).toMatchObject({ provider: 'smtp-fallback', kind: 'transient', code: '421' });
    expect(error.message).toContain('smtp: ECONNREFUSED');
  });

  test('primary down and the fallback rejecting the recipient: the fallback verdict stands', async () => {
    fallback.rejectRecipient('ada@customer.example', 550);
    const error = await sendError(provider({ url: await closedSmtpUrl(), fallbackUrl: fallback.url }), email());
    expect(error).toMatchObject({ provider: 'smtp-fallback', kind: 'invalid_token', code: 'RECIPIENT_REJECTED:550' });
  });

  test.each(['not-an-address', 'two@@customer.example', 'ada@customer', 'ada@customer.example\r\nRCPT TO:<x@y.z>', 'Ada <ada@customer.example>', ''])(
    'bad address syntax %j is invalid_token without an SMTP session',
    async (to) => {
      const error = await sendError(provider({ fallbackUrl: fallback.url }), email({ to }));
      expect(error).toMatchObject({ provider: 'smtp', kind: 'invalid_token', code: 'INVALID_ADDRESS' });
      expect(plain.sessionCount).toBe(0);
      expect(fallback.sessionCount).toBe(0);
    },
  );

  test('EMAIL_FROM and SMTP_URL are checked when the provider is created', () => {
    expect(() => createSmtpProvider({ url: plain.url, from: 'nobody' }, logger)).toThrow(/EMAIL_FROM/);
    expect(() => createSmtpProvider({ url: 'http://127.0.0.1:25', from: FROM }, logger)).toThrow(/smtp:\/\/ or smtps:\/\//);
  });
});
