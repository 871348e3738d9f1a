import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SEARCH_ATTRIBUTE_TYPES } from '../domain/search-attributes';
import {
  freePort,
  migrateDatabase,
  runningFromPidFile,
  startEmbeddedPostgres,
  startTemporalDevServer,
  stopFromPidFile,
  type EmbeddedPostgres,
  type TemporalDevServer,
} from './embedded';
import { startKafka, type EmbeddedKafka } from './kafka';
import { startTemporalServer } from './temporal-server';
import { spawnHeraldProcess, waitForHttp, type HeraldProcess } from './processes';
import { registerSearchAttributes } from '../lib/search-attributes';
import { connectTemporal, temporalSettingsFrom, TEMPORAL_CONNECTION_VARIABLES, type TemporalSettings } from '../lib/temporal-connection';
import { createDb } from '../lib/db';
import { ensureDefaultTemplates } from '../lib/seed';

export interface StackOptions {
  /** Where PostgreSQL data, the Temporal SQLite file and logs live. */
  dataDir: string;
  /** Keep data across starts (npm start) or throw it away (tests, benchmark). */
  persistent: boolean;
  /** An existing Temporal frontend; when unset a dev server (or with `temporal: 'server'`, the production server) is started. */
  temporalAddress?: string;
  /**
   * Which Temporal to start when there is no temporalAddress: the dev server (default), or the production server
   * (dev/temporal-server.ts) with its state in databases of its own on the stack's PostgreSQL.
   */
  temporal?: 'dev' | 'server';
  temporalNamespace?: string;
  temporalPort?: number;
  /** Web UI port of the embedded dev server; null runs it headless. */
  temporalUiPort?: number | null;
  /**
   * The SQLite file the embedded dev server persists to (in WAL mode), even when the stack is not persistent: the
   * benchmark measures Temporal as npm start runs it, a test kills and restarts the server on it.
   * Default: <dataDir>/temporal.db when persistent, in memory otherwise.
   */
  temporalDbFile?: string;
  /** Extra dynamic config of the embedded dev server (tests of a server limit). */
  temporalDynamicConfig?: Record<string, string>;
  /** An existing PostgreSQL; when unset an embedded one is started. */
  databaseUrl?: string;
  postgresPort?: number;
  apiPort: number;
  /**
   * Run a one-node Kafka (dev/kafka.ts) from `<dataDir>/kafka` and point the API's HERALD_KAFKA_BROKERS at it; its
   * ports are picked free unless given (a persistent data directory should keep them).
   */
  kafka?: { port?: number; controllerPort?: number };
  /** Where the worker serves /metrics; 9464 unless set. */
  workerMetricsPort?: number;
  adminKey: string;
  /** Extra environment for the worker and API (provider settings, log level...). */
  env?: NodeJS.ProcessEnv;
  /** Mirror the worker's and API's logs on this process's output. */
  echo?: boolean;
  log?: (line: string) => void;
}

export interface Stack {
  apiUrl: string;
  workerMetricsUrl: string;
  uiUrl: string | null;
  temporalAddress: string;
  /** How the stack's processes reach Temporal (lib/temporal-connection.ts): for the tests' own clients. */
  temporal: TemporalSettings;
  databaseUrl: string;
  /** The environment the worker and API run with. */
  env: NodeJS.ProcessEnv;
  worker: HeraldProcess;
  api: HeraldProcess;
  /** The embedded Kafka node, when `kafka` asked for one. */
  kafka: EmbeddedKafka | null;
  /** Where the embedded PostgreSQL keeps its cluster, and why not in <dataDir>/pg when it does not; null with a databaseUrl. */
  postgresData: { dir: string; relocatedBecause?: string } | null;
  /** Process ids of the embedded servers this stack started (for the benchmark's CPU accounting). */
  serverPids: { temporal?: number; postgres?: number; kafka?: number };
  startWorker(): Promise<HeraldProcess>;
  /**
   * One more worker or API process on this stack's environment, with a port, a metrics port and a log file
   * (`<name>.log`) of its own; stopped with the stack. An API is returned once it answers /readyz, a worker at once.
   */
  spawnExtra(kind: 'worker' | 'api', name: string): Promise<ExtraProcess>;
  stop(): Promise<void>;
}

export interface ExtraProcess extends HeraldProcess {
  /** An API's base URL (http://127.0.0.1:<port>), a worker's /metrics URL. */
  url: string;
}

/** The name of an extra worker or API process (Stack.spawnExtra): letters, digits and dashes. */
const EXTRA_NAME = /^[a-z0-9][a-z0-9-]{0,40}$/;

/** The pid file of one process a stack (or npm start itself, "herald") runs from `dataDir`. */
export function pidFilePath(dataDir: string, name: 'herald' | 'postgres' | 'temporal' | 'kafka' | 'worker' | 'api' | `extra-${string}`): string {
  return path.join(dataDir, 'pids', `${name}.json`);
}

/** What a start runs, in the order a later start stops what a killed one left, with the signals its own stop() sends. */
const LEFTOVERS: Array<['postgres' | 'temporal' | 'kafka' | 'worker' | 'api', Array<[NodeJS.Signals, number]>]> = [
  ['api', [['SIGTERM', 15_000], ['SIGKILL', 5_000]]],
  ['worker', [['SIGTERM', 15_000], ['SIGKILL', 5_000]]],
  ['kafka', [['SIGTERM', 20_000], ['SIGKILL', 5_000]]],
  ['temporal', [['SIGTERM', 20_000], ['SIGKILL', 5_000]]],
  ['postgres', [['SIGINT', 30_000], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]]],
];

/**
 * Stops what an earlier start from `dataDir` left running because it was killed before it could (its servers
 * hold the ports this start needs). Only processes its pid files name, and only while they are the very
 * processes it started, never a later holder of a recycled pid.
 */
export async function stopLeftovers(dataDir: string, log: (line: string) => void): Promise<void> {
  // Extra workers and APIs (spawnExtra) first, as the stack's own stop() does.
  const extras = fs.existsSync(path.join(dataDir, 'pids')) ? fs.readdirSync(path.join(dataDir, 'pids')).filter((file) => /^extra-.*\.json$/.test(file)) : [];
  for (const file of extras) {
    const left = runningFromPidFile(path.join(dataDir, 'pids', file));
    if (left) log(`stopping ${file.replace(/\.json$/, '')} (pid ${left.pid}), left running by an earlier start...`);
    await stopFromPidFile(path.join(dataDir, 'pids', file), [['SIGTERM', 15_000], ['SIGKILL', 5_000]]);
  }
  for (const [name, steps] of LEFTOVERS) {
    const file = pidFilePath(dataDir, name);
    const left = runningFromPidFile(file);
    if (left) log(`stopping ${name} (pid ${left.pid}), left running by an earlier start...`);
    await stopFromPidFile(file, steps);
  }
}

/** Starts what is missing of Temporal and PostgreSQL, migrates, then runs the worker and the API as processes. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const log = options.log ?? (() => undefined);
  const logDir = path.join(options.dataDir, 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  await stopLeftovers(options.dataDir, log);
  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    cleanups.length = 0;
  };

  try {
    // PostgreSQL (with its migrations) and Temporal do not need each other: start them side by side. Each registers
    // its cleanup once it runs, and both are waited for before a failure is thrown, so a failed start stops both.
    // The production server keeps its state on that PostgreSQL, so it starts once the database is up.
    const namespace = options.temporalNamespace ?? 'default';
    const onStarted = (cleanup: () => Promise<void>) => cleanups.push(cleanup);
    const productionServer = options.temporal === 'server' && !options.temporalAddress;
    const databaseStart = startDatabase(options, log, logDir, onStarted);
    const temporalStart = productionServer
      ? databaseStart.then((db) => startTemporal(options, namespace, log, logDir, onStarted, db.databaseUrl))
      : startTemporal(options, namespace, log, logDir, onStarted);
    const [database, temporalServer] = await Promise.allSettled([databaseStart, temporalStart]);
    if (database.status === 'rejected') throw database.reason;
    if (temporalServer.status === 'rejected') throw temporalServer.reason;
    const { pg, databaseUrl } = database.value;
    const { temporal, temporalAddress } = temporalServer.value;

    let kafka: EmbeddedKafka | null = null;
    if (options.kafka) {
      log('starting Kafka (one KRaft node)...');
      kafka = await startKafka({
        dataDir: path.resolve(options.dataDir, 'kafka'),
        port: options.kafka.port,
        controllerPort: options.kafka.controllerPort,
        logFile: path.join(logDir, 'kafka.log'),
        pidFile: pidFilePath(options.dataDir, 'kafka'),
        detached: true,
      });
      cleanups.push(() => kafka!.stop());
    }

    const env: NodeJS.ProcessEnv = {
      ...(kafka ? { HERALD_KAFKA_BROKERS: kafka.brokers } : {}),
      ...options.env,
      DATABASE_URL: databaseUrl,
      // The embedded Temporal is plain gRPC on loopback: no profile, key or certificate of this shell's Temporal
      // settings (a Cloud profile in ~/.config/temporalio) may reach it; its own profile file says where it is.
      ...(temporal ? embeddedTemporalEnv(options.dataDir, temporalAddress, namespace) : {}),
      TEMPORAL_ADDRESS: temporalAddress,
      TEMPORAL_NAMESPACE: namespace,
      HERALD_ADMIN_KEY: options.adminKey,
      PORT: String(options.apiPort),
      HERALD_WORKER_METRICS_PORT: String(options.workerMetricsPort ?? 9464),
      // The local stack tracks email opens and clicks with a secret of its own, stable with its admin key (so the links
      // of mail sent before a restart still work); a deployment sets HERALD_TRACKING_SECRET itself.
      HERALD_TRACKING_SECRET:
        options.env?.HERALD_TRACKING_SECRET ?? `local:${crypto.createHmac('sha256', options.adminKey).update('herald email tracking').digest('base64url')}`,
      // Likewise the receipt tokens of its pushes, so an app's receipt for a push sent before a restart still verifies.
      HERALD_RECEIPT_SECRET:
        options.env?.HERALD_RECEIPT_SECRET ?? `local:${crypto.createHmac('sha256', options.adminKey).update('herald receipt tokens').digest('base64url')}`,
      // Customer tokens (api/customer-tokens.ts) likewise: minted tokens outlive a restart; a deployment sets its own.
      HERALD_CUSTOMER_TOKEN_SECRET:
        options.env?.HERALD_CUSTOMER_TOKEN_SECRET ?? `local:${crypto.createHmac('sha256', options.adminKey).update('herald customer tokens').digest('base64url')}`,
      // The run links on the dashboard point at the Web UI this stack runs, whatever its port.
      ...(temporal?.uiUrl && !options.env?.HERALD_TEMPORAL_UI_URL ? { HERALD_TEMPORAL_UI_URL: temporal.uiUrl } : {}),
    };
    const startWorker = async () => {
      const worker = spawnHeraldProcess('worker', env, {
        logFile: path.join(logDir, 'worker.log'),
        pidFile: pidFilePath(options.dataDir, 'worker'),
        echo: options.echo,
      });
      return worker;
    };
    log('starting worker and API...');
    const stack: Stack = {
      apiUrl: `http://127.0.0.1:${options.apiPort}`,
      workerMetricsUrl: `http://127.0.0.1:${options.workerMetricsPort ?? 9464}/metrics`,
      uiUrl: temporal?.uiUrl ?? null,
      temporalAddress,
      temporal: temporalSettingsFrom({ ...process.env, ...env }),
      databaseUrl,
      env,
      kafka,
      postgresData: pg ? { dir: pg.dataDir, relocatedBecause: pg.relocatedBecause } : null,
      serverPids: { temporal: temporal?.pid, postgres: pg?.pid, kafka: kafka?.pid },
      worker: await startWorker(),
      api: spawnHeraldProcess('api', env, {
        logFile: path.join(logDir, 'api.log'),
        pidFile: pidFilePath(options.dataDir, 'api'),
        echo: options.echo,
      }),
      startWorker: async () => {
        stack.worker = await startWorker();
        return stack.worker;
      },
      spawnExtra: async (kind, name) => {
        if (!EXTRA_NAME.test(name)) throw new Error(`an extra process name is lowercase letters, digits and dashes: ${JSON.stringify(name)}`);
        const own: NodeJS.ProcessEnv =
          kind === 'api'
            ? { PORT: String(await freePort()), HERALD_SERVICE: `herald-api-${name}` }
            : { HERALD_WORKER_METRICS_PORT: String(await freePort()), HERALD_SDK_METRICS_PORT: String(await freePort()), HERALD_SERVICE: `herald-worker-${name}` };
        const extra = spawnHeraldProcess(kind, { ...env, ...own }, {
          logFile: path.join(logDir, `${name}.log`),
          pidFile: pidFilePath(options.dataDir, `extra-${name}`),
          echo: options.echo,
        });
        // Stopped before the stack's own worker and API (cleanups run last first).
        cleanups.push(() => extra.stop());
        const url = kind === 'api' ? `http://127.0.0.1:${own.PORT}` : `http://127.0.0.1:${own.HERALD_WORKER_METRICS_PORT}/metrics`;
        if (kind === 'api') await waitForHttp(`${url}/readyz`, extra, 90_000);
        return Object.assign(extra, { url });
      },
      stop: stopAll,
    };
    cleanups.push(() => stack.worker.stop());
    cleanups.push(() => stack.api.stop());
    await waitForHttp(`${stack.apiUrl}/readyz`, stack.api, 90_000);
    return stack;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The embedded PostgreSQL unless options.databaseUrl names one, migrated, with the default templates. */
async function startDatabase(
  options: StackOptions,
  log: (line: string) => void,
  logDir: string,
  onStarted: (cleanup: () => Promise<void>) => void,
): Promise<{ pg: EmbeddedPostgres | null; databaseUrl: string }> {
  let pg: EmbeddedPostgres | null = null;
  let databaseUrl = options.databaseUrl;
  if (!databaseUrl) {
    log('starting embedded PostgreSQL...');
    const started = await startEmbeddedPostgres({
      dataDir: path.resolve(options.dataDir, 'pg'),
      port: options.postgresPort,
      persistent: options.persistent,
      logFile: path.join(logDir, 'postgres.log'),
      pidFile: pidFilePath(options.dataDir, 'postgres'),
      detached: true,
    });
    pg = started;
    onStarted(() => started.stop());
    databaseUrl = started.url;
    if (started.relocatedBecause) {
      log(`PostgreSQL data is in ${started.dataDir}: the postgres OS user cannot enter ${started.relocatedBecause}, so ${path.resolve(options.dataDir, 'pg')} links there`);
    }
  }
  log('applying database migrations...');
  await migrateDatabase(databaseUrl);
  const db = createDb(databaseUrl, { max: 2 });
  try {
    await ensureDefaultTemplates(db);
  } finally {
    await db.$disconnect();
  }
  return { pg, databaseUrl };
}

/** The embedded Temporal dev server unless options.temporalAddress names a frontend (whose search attributes are then registered). */
async function startTemporal(
  options: StackOptions,
  namespace: string,
  log: (line: string) => void,
  logDir: string,
  onStarted: (cleanup: () => Promise<void>) => void,
  /** The stack's PostgreSQL, for the production server. */
  databaseUrl?: string,
): Promise<{ temporal: TemporalDevServer | null; temporalAddress: string }> {
  if (options.temporalAddress) {
    // A cluster (or Temporal Cloud) is reached with this shell's Temporal settings, as the worker and API reach it.
    const connection = await connectTemporal(temporalSettingsFrom({ ...process.env, ...options.env, TEMPORAL_ADDRESS: options.temporalAddress, TEMPORAL_NAMESPACE: namespace }));
    try {
      await registerSearchAttributes(connection, namespace);
    } catch (err) {
      log(`could not register search attributes on ${options.temporalAddress} (register them by hand, see README): ${String(err)}`);
    } finally {
      await connection.close();
    }
    return { temporal: null, temporalAddress: options.temporalAddress };
  }
  // What either server is started with: its port, namespace, search attributes, dynamic config and where it logs.
  const common = {
    port: options.temporalPort,
    namespace,
    searchAttributes: SEARCH_ATTRIBUTE_TYPES,
    dynamicConfig: options.temporalDynamicConfig,
    logFile: path.join(logDir, 'temporal.log'),
    pidFile: pidFilePath(options.dataDir, 'temporal'),
    detached: true,
  };
  if (options.temporal === 'server') {
    const temporal = await startTemporalServer({
      ...common,
      databaseUrl: databaseUrl!,
      configDir: path.resolve(options.dataDir, 'temporal-server'),
      log,
    });
    onStarted(() => temporal.stop());
    return { temporal, temporalAddress: temporal.address };
  }
  log('starting Temporal dev server...');
  const temporal = await startTemporalDevServer({
    ...common,
    dbFile: options.temporalDbFile ?? (options.persistent ? path.resolve(options.dataDir, 'temporal.db') : undefined),
    uiPort: options.temporalUiPort,
  });
  onStarted(() => temporal.stop());
  return { temporal, temporalAddress: temporal.address };
}

/**
 * The Temporal settings of the stack's processes when it runs Temporal itself: a profile file of its own in the data
 * directory (what `temporal --config-file <it>` reads too) and every other Temporal variable blanked (blank is unset).
 */
function embeddedTemporalEnv(dataDir: string, address: string, namespace: string): NodeJS.ProcessEnv {
  const file = path.resolve(dataDir, 'temporal-client.toml');
  fs.writeFileSync(file, `# Written by Herald's stack at each start: its embedded Temporal.\n[profile.default]\naddress = ${JSON.stringify(address)}\nnamespace = ${JSON.stringify(namespace)}\n`);
  return { ...Object.fromEntries(TEMPORAL_CONNECTION_VARIABLES.map((name) => [name, ''])), TEMPORAL_CONFIG_FILE: file };
}
