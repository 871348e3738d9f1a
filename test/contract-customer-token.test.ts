// The API's contract for a customer token: a property-based fuzz run (schemathesis) with one customer's token, apart
// from test/contract.test.ts so the two long runs go side by side on two jest workers.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SHIPPED_EVENT } from '../api/examples';
import { PROJECT_ROOT, schemathesisCommand } from '../dev/tools';
import { iosToken, useHarness } from './support/harness';
import { CUSTOMER_TOKEN_OPERATIONS, schemathesis, summaryOf } from './support/schemathesis';

const h = useHarness();

beforeAll(async () => {
  // The example customer, whose token the run uses (test/contract.test.ts seeds it with the documented examples).
  const own = SHIPPED_EVENT.customerId;
  expect((await h.api('PUT', `/v1/customers/${own}`, { name: 'Ada', email: 'ada@example.com', locale: 'en' })).status).toBe(201);
  expect((await h.api('POST', `/v1/customers/${own}/devices`, { deviceId: 'contract-own-phone', platform: 'ios', token: iosToken('contract-own') })).status).toBe(201);
});

/**
 * The same with one customer's token (the example customer's, so the documented examples are its own): the
 * operations a customer token may call, and a sample of those it may not. Besides no 5xx and no answer outside the
 * document (a 401 or 403 included), test/contract/customer_token_hooks.py fails any success that is not that
 * customer's own: an operation that takes no token, another customer's path, another customer's notification. The
 * stream is left out as above. 10 examples an operation keep it near a minute.
 */
test("schemathesis with a customer token finds no server error, no answer outside the document, and no success for another customer's resource", async () => {
  const own = SHIPPED_EVENT.customerId;
  const other = 'contract-other-customer';
  expect((await h.api('PUT', `/v1/customers/${other}`, { name: 'Bob', email: 'bob@shop.example' })).status).toBe(201);
  expect((await h.api('POST', `/v1/customers/${other}/devices`, { deviceId: 'contract-other-phone', platform: 'ios', token: iosToken('contract-other') })).status).toBe(201);
  await h.db.inboxMessage.create({ data: { customerId: other, orderId: 'contract-other-order', category: 'transactional', title: 'Shipped', body: 'On its way', data: {} } });
  // One notification of each customer under an id without '/', which a generated path value cannot hold.
  const notifications = { own: 'contract-own-push', other: 'contract-other-push' };
  for (const [id, customerId] of [[notifications.own, own], [notifications.other, other]] as const) {
    await h.db.notification.create({
      data: { id, orderId: `contract-${customerId}`, customerId, type: 'order.shipped', priority: 'critical', category: 'transactional', channel: 'push', status: 'sent', sentAt: new Date(), title: 'Shipped', body: 'On its way' },
    });
  }
  const minted = await h.api('POST', `/v1/customers/${own}/tokens`, { ttlSeconds: 3600 });
  expect(minted.status).toBe(201);
  const token = minted.body.token as string;
  const otherBefore = { devices: (await h.api('GET', `/v1/customers/${other}/devices`)).body, inbox: (await h.api('GET', `/v1/customers/${other}/inbox`)).body };

  const sample = ['getCustomer', 'putCustomer', 'createCustomerToken', 'listApiKeys', 'createApiKey', 'postOrderEvent', 'getNotification', 'getCustomerTimeline', 'postConsent', 'listWatches'];
  const operations = [...CUSTOMER_TOKEN_OPERATIONS.filter((id) => id !== 'streamInbox'), ...sample];
  const { args } = schemathesisCommand();
  const reportDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-schemathesis-customer-'));
  const api = h.stack.apiUrl;
  const fuzzArgs = [
    ...args,
    '--config-file', path.join(PROJECT_ROOT, 'test/contract/schemathesis-customer-token.toml'),
    '--no-color',
    'run', `${api}/openapi.json`,
    '--url', api,
    '-H', `Authorization: Bearer ${token}`,
    '--checks', 'all',
    ...operations.flatMap((id) => ['--include-operation-id', id]),
    '--max-examples', '10',
    '--seed', '20261201',
    '--workers', '1',
    '--request-timeout', '10',
    '--generation-database', 'none',
    '--report-dir', reportDir,
  ];
  const seenFile = path.join(reportDir, 'own-successes.txt');
  const started = Date.now();
  const { code, output } = await schemathesis(
    fuzzArgs,
    {
      SCHEMATHESIS_HOOKS: path.join(PROJECT_ROOT, 'test/contract/customer_token_hooks.py'),
      HERALD_CONTRACT_API: api,
      HERALD_CONTRACT_ADMIN_KEY: h.adminKey,
      HERALD_CONTRACT_CUSTOMER: own,
      HERALD_CONTRACT_OWN_NOTIFICATION: notifications.own,
      HERALD_CONTRACT_OTHER_NOTIFICATION: notifications.other,
      HERALD_CONTRACT_SEEN_FILE: seenFile,
    },
    reportDir,
    360_000,
  );
  const seen = new Set(fs.existsSync(seenFile) ? fs.readFileSync(seenFile, 'utf8').split('\n').filter(Boolean) : []);
  fs.rmSync(reportDir, { recursive: true, force: true });
  const summary = summaryOf(output);
  if (code !== 0) console.error(`schemathesis ${fuzzArgs.join(' ').replace(token, '<token>')}\n${output}`);
  else console.log(`schemathesis with a customer token passed in ${((Date.now() - started) / 1000).toFixed(0)} s:\n${summary}`);
  expect({ code, summary }).toEqual({ code: 0, summary: expect.stringContaining('Test cases') });
  // The custom check ran, and let the token's own successes through: so it was not refusing everything unseen. (A
  // generated receipt carries no valid receipt token, so it never succeeds here: the token's own receipt is in
  // test/attacks-customer-tokens.test.ts.)
  expect([...seen].sort()).toEqual(
    expect.arrayContaining([
      'GET /v1/customers/{customerId}/devices',
      'GET /v1/customers/{customerId}/inbox',
      'GET /v1/customers/{customerId}/preferences',
      'POST /v1/customers/{customerId}/devices',
    ]),
  );
  // Nothing of the other customer changed, and its notification got no receipt.
  expect({ devices: (await h.api('GET', `/v1/customers/${other}/devices`)).body, inbox: (await h.api('GET', `/v1/customers/${other}/inbox`)).body }).toEqual(otherBefore);
  expect(await h.db.notificationReceipt.count({ where: { notificationId: notifications.other } })).toBe(0);
}, 390_000);
