/**
 * The production Temporal server (`go.temporal.io/server`, the binary a real cluster runs) for `npm start` with
 * HERALD_TEMPORAL=server, the tests that prove Herald on it (test/production-server.test.ts) and the benchmark
 * (BENCH_TEMPORAL=server). Unlike the dev server it keeps its state in PostgreSQL (persistence and visibility, each in
 * a database of its own on the stack's PostgreSQL), runs several history shards and every service (frontend, history,
 * matching, worker) as a real cluster does, so what passes here is what a deployment sees: shard ownership,
 * task-queue partitions, visibility on SQL, namespaces and search attributes registered through the API.
 *
 * It is built from source with Go (`go install` from the Go module proxy) into .tools/temporal-server/bin, once: the
 * project publishes no binaries, and v1.29.x is the newest line the Go on these machines builds.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import YAML from 'yaml';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { PROJECT_ROOT } from './tools';
import { assertPortFree, freePort, spawnManaged, terminate, type SearchAttributeType, type TemporalDevServer } from './embedded';
import { registerSearchAttributes } from '../lib/search-attributes';

export const TEMPORAL_SERVER_VERSION = '1.29.1';
export const TEMPORAL_SERVER_DIR = path.join(PROJECT_ROOT, '.tools', 'temporal-server');
const BIN_DIR = path.join(TEMPORAL_SERVER_DIR, 'bin');
/** Written last by a complete build: the version it built. */
const MARKER = path.join(TEMPORAL_SERVER_DIR, '.herald-install.json');
/** The Go packages built: the server and temporal-sql-tool (its binary is named after the package: `sql`). */
const PACKAGES = ['go.temporal.io/server/cmd/server', 'go.temporal.io/server/cmd/tools/sql'];

/** History shards: fixed for the life of a cluster's database, several so that shard ownership is exercised. */
export const HISTORY_SHARDS = 4;
/** How long closed workflows stay visible in the namespace the stack registers. */
const RETENTION = '3 days';

export interface TemporalServerBinaries {
  server: string;
  sql: string;
}

function isExecutableFile(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The built binaries, or undefined when this version is not (completely) built. */
export function findTemporalServer(): TemporalServerBinaries | undefined {
  const bins = { server: path.join(BIN_DIR, 'server'), sql: path.join(BIN_DIR, 'sql') };
  try {
    const marker = JSON.parse(fs.readFileSync(MARKER, 'utf8')) as { version?: string };
    if (marker.version !== TEMPORAL_SERVER_VERSION) return undefined;
  } catch {
    return undefined;
  }
  return isExecutableFile(bins.server) && isExecutableFile(bins.sql) ? bins : undefined;
}

/** The binaries, or an error saying how to get them. */
export function temporalServerBinaries(): TemporalServerBinaries {
  const found = findTemporalServer();
  if (!found) throw new Error(`the Temporal server ${TEMPORAL_SERVER_VERSION} is not built in ${BIN_DIR}. Run \`npm run tools\` (it needs Go).`);
  return found;
}

/**
 * Builds the server and its SQL tool unless this version is there already (a quick no-op then). The build goes into
 * a folder of its own and is moved into place whole, so an interrupted build leaves nothing half done. Several
 * minutes on a fresh machine (modules download, compile); Go's caches make a rebuild fast.
 */
export async function ensureTemporalServer(options: { log?: (message: string) => void } = {}): Promise<TemporalServerBinaries & { installed: boolean }> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const found = findTemporalServer();
  if (found) return { ...found, installed: false };
  const go = process.env.GO ?? 'go';
  const staging = `${TEMPORAL_SERVER_DIR}.building-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(path.join(staging, 'bin'), { recursive: true });
  // Pure Go (no C toolchain needed; the SQLite plugin is pure Go too); disable_grpc_modules leaves out gRPC's
  // optional xDS/observability modules, which the server does not use and which only slow the build.
  const args = ['install', '-tags', 'disable_grpc_modules', ...PACKAGES.map((pkg) => `${pkg}@v${TEMPORAL_SERVER_VERSION}`)];
  log(`Building the Temporal server ${TEMPORAL_SERVER_VERSION} (several minutes the first time): CGO_ENABLED=0 ${go} ${args.join(' ')}`);
  try {
    await run(go, args, { ...process.env, CGO_ENABLED: '0', GOBIN: path.join(staging, 'bin'), GOFLAGS: process.env.GOFLAGS ?? '' });
    fs.writeFileSync(path.join(staging, '.herald-install.json'), `${JSON.stringify({ version: TEMPORAL_SERVER_VERSION, packages: PACKAGES })}\n`);
    fs.rmSync(TEMPORAL_SERVER_DIR, { recursive: true, force: true });
    fs.renameSync(staging, TEMPORAL_SERVER_DIR);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return { ...temporalServerBinaries(), installed: true };
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', (error) =>
      reject(new Error(`could not run ${command} (${error.message}): building the Temporal server needs Go 1.24 or later on PATH (https://go.dev/dl), or GO naming it`)),
    );
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit code ${code}`})`))));
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Schema: temporal-sql-tool, as a cluster's operator runs it

interface PgFields {
  host: string;
  port: number;
  user: string;
  password: string;
}

function pgFields(databaseUrl: string): PgFields {
  const parsed = parseConnectionString(databaseUrl);
  return { host: parsed.host ?? '127.0.0.1', port: Number(parsed.port ?? 5432), user: parsed.user ?? 'postgres', password: parsed.password ?? '' };
}

/** The databases the server keeps its state in; visibility must be a database of its own. */
export interface TemporalDatabases {
  persistence: string;
  visibility: string;
}

export const DEFAULT_TEMPORAL_DATABASES: TemporalDatabases = { persistence: 'temporal', visibility: 'temporal_visibility' };

/**
 * Creates the persistence and visibility databases when missing and brings their schema to this version with
 * temporal-sql-tool (setup-schema once, then update-schema from the schema embedded in the tool: a no-op when current,
 * the migrations when an older server created it).
 */
export async function ensureTemporalSchema(databaseUrl: string, databases: TemporalDatabases = DEFAULT_TEMPORAL_DATABASES, log: (line: string) => void = () => undefined): Promise<void> {
  const { sql } = temporalServerBinaries();
  const fields = pgFields(databaseUrl);
  for (const [kind, database] of [['temporal', databases.persistence], ['visibility', databases.visibility]] as const) {
    const admin = new Client({ ...fields, database: parseConnectionString(databaseUrl).database ?? 'postgres' });
    admin.on('error', () => undefined);
    await admin.connect();
    let versioned = false;
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
      if (!rowCount) {
        log(`creating the Temporal ${kind} database ${database}...`);
        await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(database)}`);
      } else {
        const own = new Client({ ...fields, database });
        own.on('error', () => undefined);
        await own.connect();
        try {
          versioned = (await own.query(`SELECT to_regclass('public.schema_version') IS NOT NULL AS present`)).rows[0]?.present === true;
        } finally {
          await own.end();
        }
      }
    } finally {
      await admin.end();
    }
    // The password goes in the environment (SQL_PASSWORD), not on a command line anyone can read in ps.
    const env = { ...process.env, SQL_PLUGIN: 'postgres12', SQL_HOST: fields.host, SQL_PORT: String(fields.port), SQL_USER: fields.user, SQL_PASSWORD: fields.password, SQL_DATABASE: database };
    if (!versioned) await sqlTool(sql, ['setup-schema', '-v', '0.0'], env);
    await sqlTool(sql, ['update-schema', '--schema-name', `postgresql/v12/${kind}`], env);
  }
}

async function sqlTool(sql: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const managed = spawnManaged(sql, args, { env, exitSignal: 'SIGKILL' });
  const result = await managed.exited;
  if (result.code !== 0) throw new Error(`temporal-sql-tool ${args.join(' ')} on ${env.SQL_DATABASE} failed (${result.signal ?? `exit code ${result.code}`}):\n${managed.tail}`);
}

// ---------------------------------------------------------------------------------------------------------------
// The server

/**
 * Dynamic config Herald needs, as the dev server gets it from dev/embedded.ts, plus what the dev server turns on by
 * itself: eager activities (an activity scheduled by a workflow task goes straight back to the worker that completed
 * it), the priority matcher (critical deliveries ahead of a routine backlog), search attributes readable at once after
 * registration (a single node; a fleet would wait out the cache), updates and multi-operations.
 */
export const TEMPORAL_SERVER_DYNAMIC_CONFIG: Record<string, unknown> = {
  'system.enableActivityEagerExecution': true,
  'matching.useNewMatcher': true,
  'system.forceSearchAttributesCacheRefreshOnRead': true,
  'frontend.enableUpdateWorkflowExecution': true,
  'frontend.enableUpdateWorkflowExecutionAsyncAccepted': true,
  'frontend.enableExecuteMultiOperation': true,
};

export interface TemporalServerOptions {
  /** The PostgreSQL the server keeps its databases on, as a role that may create databases (the stack's own). */
  databaseUrl: string;
  databases?: TemporalDatabases;
  /** Where its config and dynamic config files are written. */
  configDir: string;
  /** Frontend gRPC port; 0 or undefined picks a free one. The other services' ports are always picked free. */
  port?: number;
  /** The namespace to register (with the search attributes). */
  namespace?: string;
  searchAttributes: Record<string, SearchAttributeType>;
  /** Extra dynamic config (`history.maximumSignalsPerExecution: '3'`): numbers and booleans as text, as for the dev server. */
  dynamicConfig?: Record<string, string>;
  logFile?: string;
  pidFile?: string;
  detached?: boolean;
  /** How long to wait for the server to serve the namespace; default 120 s (four services join a ring first). */
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

/** A value given as text on the dev server's command line, as the YAML of a dynamic config file wants it. */
function dynamicValue(raw: string): unknown {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** The server's static config: PostgreSQL for both stores, every service on loopback, no metrics or pprof listener. */
function serverConfig(options: TemporalServerOptions, ports: Record<'frontend' | 'frontendMembership' | 'history' | 'historyMembership' | 'matching' | 'matchingMembership' | 'worker' | 'workerMembership', number>, dynamicConfigFile: string) {
  const fields = pgFields(options.databaseUrl);
  const databases = options.databases ?? DEFAULT_TEMPORAL_DATABASES;
  const store = (databaseName: string, maxConns: number) => ({
    sql: {
      pluginName: 'postgres12',
      databaseName,
      connectAddr: `${fields.host}:${fields.port}`,
      connectProtocol: 'tcp',
      user: fields.user,
      password: fields.password,
      maxConns,
      maxIdleConns: maxConns,
      maxConnLifetime: '1h',
    },
  });
  const rpc = (grpcPort: number, membershipPort: number) => ({ rpc: { grpcPort, membershipPort, bindOnLocalHost: true } });
  return {
    log: { stdout: true, level: 'warn' },
    persistence: {
      defaultStore: 'postgres-default',
      visibilityStore: 'postgres-visibility',
      numHistoryShards: HISTORY_SHARDS,
      datastores: { 'postgres-default': store(databases.persistence, 20), 'postgres-visibility': store(databases.visibility, 5) },
    },
    global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
    services: {
      frontend: rpc(ports.frontend, ports.frontendMembership),
      history: rpc(ports.history, ports.historyMembership),
      matching: rpc(ports.matching, ports.matchingMembership),
      worker: rpc(ports.worker, ports.workerMembership),
    },
    clusterMetadata: {
      enableGlobalNamespace: false,
      failoverVersionIncrement: 10,
      masterClusterName: 'active',
      currentClusterName: 'active',
      clusterInformation: { active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: `127.0.0.1:${ports.frontend}` } },
    },
    dcRedirectionPolicy: { policy: 'noop' },
    dynamicConfigClient: { filepath: dynamicConfigFile, pollInterval: '10s' },
  };
}

/**
 * Creates the schema when needed, starts the server, and returns once it serves `namespace` with Herald's search
 * attributes. The same shape as the dev server's handle (no Web UI: uiUrl is null).
 */
export async function startTemporalServer(options: TemporalServerOptions): Promise<TemporalDevServer> {
  const log = options.log ?? (() => undefined);
  const { server } = temporalServerBinaries();
  const host = '127.0.0.1';
  if (options.port) await assertPortFree(options.port, host, 'Temporal server frontend gRPC');
  const namespace = options.namespace ?? 'default';
  const databases = options.databases ?? DEFAULT_TEMPORAL_DATABASES;
  log(`preparing the Temporal server's databases (${databases.persistence}, ${databases.visibility})...`);
  await ensureTemporalSchema(options.databaseUrl, databases, log);

  const ports = {
    frontend: options.port || (await freePort(host)),
    frontendMembership: await freePort(host),
    history: await freePort(host),
    historyMembership: await freePort(host),
    matching: await freePort(host),
    matchingMembership: await freePort(host),
    worker: await freePort(host),
    workerMembership: await freePort(host),
  };
  const configDir = path.resolve(options.configDir);
  fs.mkdirSync(path.join(configDir, 'config'), { recursive: true });
  const dynamicConfigFile = path.join(configDir, 'dynamicconfig.yaml');
  const dynamicConfig = { ...TEMPORAL_SERVER_DYNAMIC_CONFIG, ...Object.fromEntries(Object.entries(options.dynamicConfig ?? {}).map(([key, raw]) => [key, dynamicValue(raw)])) };
  fs.writeFileSync(dynamicConfigFile, YAML.stringify(Object.fromEntries(Object.entries(dynamicConfig).map(([key, value]) => [key, [{ value }]]))));
  // The config holds the database password: readable by this user only.
  fs.writeFileSync(path.join(configDir, 'config', 'herald.yaml'), YAML.stringify(serverConfig(options, ports, dynamicConfigFile)), { mode: 0o600 });

  log('starting the Temporal server...');
  const managed = spawnManaged(server, ['--root', configDir, '--config', 'config', '--env', 'herald', '--allow-no-auth', 'start'], {
    logFile: options.logFile,
    pidFile: options.pidFile,
    detached: options.detached,
    exitSignal: 'SIGTERM',
  });
  let stopping: Promise<void> | undefined;
  // SIGTERM: the services leave the membership ring and release their shards, so a restart takes them at once.
  const stop = () => (stopping ??= terminate(managed, [['SIGTERM', 20_000], ['SIGKILL', 5_000]]));
  const address = `${host}:${ports.frontend}`;
  try {
    await untilNamespaceServed(address, namespace, options.searchAttributes, managed, options.startTimeoutMs ?? 120_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { address, uiUrl: null, namespace, pid: managed.child.pid ?? -1, stop };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Waits for the frontend, registers the namespace (the production server creates none of its own) and the search
 * attributes, and returns once both are readable: until the history and matching services have joined, the frontend
 * answers but cannot register, so each step is retried until the deadline.
 */
async function untilNamespaceServed(
  address: string,
  namespace: string,
  searchAttributes: Record<string, SearchAttributeType>,
  managed: ReturnType<typeof spawnManaged>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let connection: Connection | undefined;
  try {
    while (Date.now() < deadline) {
      if (managed.hasExited()) {
        const result = await managed.exited;
        throw new Error(`the Temporal server exited (${result.signal ?? `exit code ${result.code}`}) before it was ready:\n${managed.tail}`);
      }
      try {
        connection ??= await Connection.connect({ address, connectTimeout: 2_000 });
        await connection.workflowService.getSystemInfo({});
        await connection.workflowService
          .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs(RETENTION) })
          .catch((error: { code?: number }) => {
            if (error.code !== 6) throw error; // ALREADY_EXISTS: registered by an earlier start
          });
        await connection.workflowService.describeNamespace({ namespace });
        await registerSearchAttributes(connection, namespace);
        const listed = await connection.operatorService.listSearchAttributes({ namespace });
        const missing = Object.keys(searchAttributes).filter((name) => !(name in (listed.customAttributes ?? {})));
        if (missing.length === 0) return;
        lastError = new Error(`search attributes not listed yet: ${missing.join(', ')}`);
      } catch (error) {
        lastError = error;
      }
      await sleep(500);
    }
  } finally {
    await connection?.close().catch(() => undefined);
  }
  throw new Error(
    `the Temporal server at ${address} did not serve namespace ${namespace} within ${timeoutMs / 1000} s ` +
      `(${lastError instanceof Error ? lastError.message : String(lastError)}):\n${managed.tail}`,
  );
}
