// The README's Quickstart, run as written: `npm start` (on free ports and a temporary HERALD_DATA_DIR, which the
// commands pick up through PORT and `npm run -s admin-key`), then the Quickstart's ```sh block in bash, then the
// first commands the start-up banner printed, as printed. Checks that each succeeds, that the first event's push is
// delivered (the sandbox's receipt) without an SMS, that the start shows no WARN line, and that npm start stops on
// SIGTERM leaving nothing running.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../dev/embedded';
import { QUICKSTART_ORDER, quickstartCommands } from '../dev/quickstart';
import { pidFilePath, stopLeftovers } from '../dev/stack';
import { eventually } from './support/harness';

const ROOT = path.resolve(__dirname, '..');

/** The first ```sh block of the README's Quickstart section. */
function readmeQuickstart(): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((s) => s.startsWith('Quickstart\n'));
  if (!section) throw new Error('README.md has no "## Quickstart" section');
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('the Quickstart section has no ```sh block');
  return block[1]!;
}

let dataDir: string;
let env: NodeJS.ProcessEnv;
let start: ChildProcess;
let output = '';
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
let api: string;

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-quickstart-'));
  fs.chmodSync(dataDir, 0o755); // the embedded PostgreSQL's OS user must be able to enter it
  const port = await freePort();
  api = `http://127.0.0.1:${port}`;
  env = { ...process.env };
  // The stack npm start runs on its own, whatever the surrounding environment points at.
  for (const name of ['HERALD_ADMIN_KEY', 'TEMPORAL_ADDRESS', 'DATABASE_URL', 'HERALD_SANDBOX_RECEIPTS', 'HERALD_RECEIPT_DEADLINE', 'LOG_LEVEL']) delete env[name];
  for (const name of Object.keys(env)) if (/^(APNS|FCM|VAPID|SMTP|TWILIO|WEBPUSH)_/.test(name)) delete env[name];
  Object.assign(env, {
    PORT: String(port),
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    EMBEDDED_PG_PORT: String(await freePort()),
    HERALD_WORKER_METRICS_PORT: String(await freePort()),
    HERALD_DATA_DIR: dataDir,
  });
  start = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  start.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  start.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  exited = new Promise((resolve) => start.once('exit', (code, signal) => resolve({ code, signal })));
  // The banner's last part: printed once the worker has started and settled.
  await eventually(
    () => {
      if (start.exitCode !== null) throw new Error(`npm start exited (${start.exitCode}):\n${output.slice(-4000)}`);
      expect(output).toContain('(the order\'s workflow run in the Temporal Web UI)');
    },
    150_000,
    500,
  );
}, 180_000);

afterAll(async () => {
  if (start && start.exitCode === null) {
    start.kill('SIGTERM');
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 60_000).unref());
    if ((await Promise.race([exited, timeout])) === 'timeout') start.kill('SIGKILL');
  }
  // Whatever a failed stop left behind (its pid files name it) must not outlive the test.
  if (dataDir) {
    await stopLeftovers(dataDir, () => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}, 120_000);

const bash = (script: string) => spawnSync('bash', ['-euo', 'pipefail', '-c', script], { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });

async function get(urlPath: string): Promise<any> {
  const key = fs.readFileSync(path.join(dataDir, 'admin-key'), 'utf8').trim();
  const res = await fetch(`${api}${urlPath}`, { headers: { authorization: `Bearer ${key}` } });
  expect(res.status).toBe(200);
  return res.json();
}

test('npm start prints its addresses and no WARN line', () => {
  for (const place of [`API:           ${api}`, `${api}/dashboard`, `${api}/docs`, `Temporal UI:   http://127.0.0.1:${env.TEMPORAL_UI_PORT}/`]) expect(output).toContain(place);
  expect(output).not.toMatch(/"level":(40|50|60)/);
  expect(output).not.toContain('modules by path'); // webpack's report is not dumped into the log
});

test("the README's Quickstart commands, run as written, post a first event whose push is delivered without an SMS", async () => {
  const script = readmeQuickstart();
  // The README shows what npm start prints, with the key and the address left to the shell.
  expect(script.split('\n').slice(0, 5)).toEqual(quickstartCommands({ key: '$(npm run -s admin-key)', api: 'http://127.0.0.1:${PORT:-3000}' }));

  const run = bash(script);
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  // One JSON answer per curl: customer, device, event, notifications, state.
  const answers = run.stdout.trim().split('\n').map((line) => JSON.parse(line));
  expect(answers).toHaveLength(5);
  expect(answers[2]).toMatchObject({ eventId: 'ev-1', workflowId: `order:${QUICKSTART_ORDER}` });

  await eventually(async () => {
    const { items } = await get(`/v1/orders/${QUICKSTART_ORDER}/notifications`);
    expect(items.map((n: any) => `${n.channel}:${n.status}`)).toEqual(['push:delivered']);
  });
  await eventually(async () => {
    const state = await get(`/v1/orders/${QUICKSTART_ORDER}/state`);
    expect(state).toMatchObject({ processed: [{ eventId: 'ev-1', escalation: { status: 'confirmed', channels: ['sms'] } }] });
  });
});

test('the first commands npm start printed work as printed', () => {
  const printed = output.slice(output.indexOf('First steps:'));
  const lines = printed.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim());
  const key = fs.readFileSync(path.join(dataDir, 'admin-key'), 'utf8').trim();
  expect(lines[0]).toBe(`KEY=${key}; API=${api}`);
  // The commands, then the two look-ups (the dashboard and Web UI lines are addresses, not commands).
  const commands = lines.filter((line) => !line.startsWith('http'));
  expect(commands).toHaveLength(7);
  const run = bash(commands.join('\n'));
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
  // The same event again is a duplicate: nothing goes twice.
  expect(run.stdout).toContain('"duplicate":true');
});

test('npm start stops on SIGTERM and leaves nothing running', async () => {
  start.kill('SIGTERM');
  // npm passes the signal on to the script and ends as it did (by the signal); the script says when all is stopped.
  expect([{ code: 0, signal: null }, { code: null, signal: 'SIGTERM' }]).toContainEqual(await exited);
  await eventually(() => expect(output).toContain('[herald] stopped.'), 60_000);
  for (const name of ['herald', 'worker', 'api', 'temporal', 'postgres'] as const) expect(fs.existsSync(pidFilePath(dataDir, name))).toBe(false);
  await expect(fetch(`${api}/readyz`)).rejects.toThrow();
}, 90_000);
