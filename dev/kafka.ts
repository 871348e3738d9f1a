/**
 * Apache Kafka for `npm start` (HERALD_KAFKA=embedded) and the Kafka tests: one KRaft node (broker and controller in
 * one JVM) run from the Apache Kafka jars on Maven Central, no Docker. `ensureKafka` fetches the jars once into
 * .tools/kafka with Maven (`npm run tools` and `npm test` call it); `startKafka` formats a data directory the first
 * time and runs the node on loopback ports. Needs `java` (17 or later) and, for the first install, `mvn`.
 */
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../lib/free-port';
import { spawnManaged, terminate, type ManagedChild } from './embedded';
import { PROJECT_ROOT } from './tools';

export const KAFKA_VERSION = '4.4.0';
/** slf4j 2 (the broker logs through it; with slf4j 1 on the class path nothing would be logged at all). */
const SLF4J_VERSION = '2.0.17';
export const KAFKA_DIR = path.join(PROJECT_ROOT, '.tools', 'kafka');
/** Written last by a complete install: which Kafka the jars in libs/ are. */
const KAFKA_MARKER = path.join(KAFKA_DIR, '.herald-install.json');

/**
 * The broker only: kafka_2.13 holds kafka.Kafka and kafka.tools.StorageTool. kafka-tools (the console clients) is left
 * out on purpose, it brings Jetty and a hundred more jars; Herald's own `npm run kafka-produce` stands in for them.
 */
const POM = `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.herald</groupId>
  <artifactId>herald-kafka-broker</artifactId>
  <version>${KAFKA_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>${SLF4J_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>${SLF4J_VERSION}</version></dependency>
  </dependencies>
</project>
`;

function installedKafka(): string | undefined {
  try {
    const marker = JSON.parse(fs.readFileSync(KAFKA_MARKER, 'utf8')) as { version?: string };
    return marker.version;
  } catch {
    return undefined;
  }
}

/** The broker's class path (`<dir>/libs/*`); throws when the jars are not installed. */
export function kafkaClasspath(): string {
  if (installedKafka() !== KAFKA_VERSION) throw new Error(`Apache Kafka ${KAFKA_VERSION} is not installed in ${KAFKA_DIR}. Run \`npm run tools\`.`);
  return path.join(KAFKA_DIR, 'libs', '*');
}

/**
 * Fetches the Kafka jars with Maven into .tools/kafka/libs unless this version is there already (a quick no-op then).
 * It fills a fresh folder and moves it into place, so an interrupted install leaves nothing half done.
 */
export async function ensureKafka(options: { log?: (message: string) => void } = {}): Promise<{ dir: string; installed: boolean }> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  if (installedKafka() === KAFKA_VERSION) return { dir: KAFKA_DIR, installed: false };
  const staging = `${KAFKA_DIR}.installing-${process.pid}`;
  fs.rmSync(staging, { recursive: true, force: true });
  fs.mkdirSync(staging, { recursive: true });
  try {
    fs.writeFileSync(path.join(staging, 'pom.xml'), POM);
    const args = ['-q', '-B', '-f', path.join(staging, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${path.join(staging, 'libs')}`];
    log(`Installing Apache Kafka ${KAFKA_VERSION} (jars from Maven Central): mvn ${args.join(' ')}`);
    await execText('mvn', args, 600_000);
    fs.rmSync(path.join(staging, 'target'), { recursive: true, force: true });
    const jars = fs.readdirSync(path.join(staging, 'libs')).filter((f) => f.endsWith('.jar'));
    if (!jars.includes(`kafka_2.13-${KAFKA_VERSION}.jar`)) throw new Error(`mvn finished but kafka_2.13-${KAFKA_VERSION}.jar is not among the ${jars.length} jars in ${staging}/libs`);
    fs.writeFileSync(path.join(staging, '.herald-install.json'), JSON.stringify({ version: KAFKA_VERSION, jars: jars.length }));
    fs.rmSync(KAFKA_DIR, { recursive: true, force: true });
    fs.renameSync(staging, KAFKA_DIR);
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return { dir: KAFKA_DIR, installed: true };
}

export interface EmbeddedKafkaOptions {
  /** Holds server.properties and the log directory; formatted (a new cluster id) when it holds no cluster yet. */
  dataDir: string;
  /** The client listener; 0 or undefined picks a free one. A persistent data directory should keep its ports. */
  port?: number;
  /** The controller listener; 0 or undefined picks a free one. */
  controllerPort?: number;
  /** Partitions of a topic the broker creates on first use (a producer's or consumer's first request for it). */
  defaultPartitions?: number;
  /** The JVM's output goes here (appended); otherwise it is only kept for error messages. */
  logFile?: string;
  /** Names the JVM while it runs (see spawnManaged), so a later start can stop it if this process dies first. */
  pidFile?: string;
  /** Own process group, so a terminal's Ctrl-C reaches only this Node process (which must then call stop()). */
  detached?: boolean;
  startTimeoutMs?: number;
}

export interface EmbeddedKafka {
  /** `host:port` of the client listener: HERALD_KAFKA_BROKERS. */
  brokers: string;
  port: number;
  pid: number;
  managed: ManagedChild;
  /** SIGTERM (a clean shutdown, ~3 s), then SIGKILL after 20 s. Safe to call twice. */
  stop(): Promise<void>;
}

/** The line kafka.server.KafkaRaftServer logs once the node serves clients. */
const STARTED = /Kafka Server started/;

export async function startKafka(options: EmbeddedKafkaOptions): Promise<EmbeddedKafka> {
  const classpath = kafkaClasspath();
  const host = '127.0.0.1';
  const port = options.port || (await freePort(host));
  let controllerPort = options.controllerPort || (await freePort(host));
  while (controllerPort === port) controllerPort = await freePort(host);
  const dataDir = path.resolve(options.dataDir);
  const logDir = path.join(dataDir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const properties = path.join(dataDir, 'server.properties');
  fs.writeFileSync(properties, serverProperties({ host, port, controllerPort, logDir, partitions: options.defaultPartitions ?? 3 }));

  const jvm = ['-Xmx512m', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Djava.awt.headless=true'];
  if (!fs.existsSync(path.join(logDir, 'meta.properties'))) {
    const clusterId = newClusterId();
    await execText('java', [...jvm, '-cp', classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties, '--standalone'], 60_000);
  }

  const managed = spawnManaged(
    'java',
    [
      ...jvm,
      // Warnings only, but the line that says the node is up.
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
      '-Dorg.slf4j.simpleLogger.log.kafka.server.KafkaRaftServer=info',
      '-cp', classpath,
      'kafka.Kafka', properties,
    ],
    { cwd: dataDir, logFile: options.logFile, pidFile: options.pidFile, detached: options.detached, exitSignal: 'SIGTERM' },
  );
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= terminate(managed, [['SIGTERM', 20_000], ['SIGKILL', 5_000]]));
  try {
    await waitForKafka(host, port, managed, options.startTimeoutMs ?? 60_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { brokers: `${host}:${port}`, port, pid: managed.child.pid ?? -1, managed, stop };
}

function serverProperties(o: { host: string; port: number; controllerPort: number; logDir: string; partitions: number }): string {
  return [
    '# Written by dev/kafka.ts at every start: one KRaft node, broker and controller, on loopback.',
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.bootstrap.servers=${o.host}:${o.controllerPort}`,
    `listeners=PLAINTEXT://${o.host}:${o.port},CONTROLLER://${o.host}:${o.controllerPort}`,
    `advertised.listeners=PLAINTEXT://${o.host}:${o.port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${o.logDir}`,
    `num.partitions=${o.partitions}`,
    'auto.create.topics.enable=true',
    // One node: every internal topic has one replica.
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=5',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // A consumer group forms at once instead of waiting 3 s for more members.
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

async function waitForKafka(host: string, port: number, managed: ManagedChild, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (managed.hasExited()) {
      const result = await managed.exited;
      throw new Error(`the Kafka node exited (${result.signal ?? `exit code ${result.code}`}) before it was ready:\n${managed.tail}`);
    }
    if (STARTED.test(managed.tail.toString()) && (await canConnect(host, port))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the Kafka node on ${host}:${port} did not start within ${timeoutMs / 1000} s:\n${managed.tail}`);
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function execText(command: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: PROJECT_ROOT, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve(stdout);
      const code = (error as NodeJS.ErrnoException).code;
      const hint = code === 'ENOENT' ? ` (${command} is not installed: Kafka needs Java 17+${command === 'mvn' ? ' and Maven for its first install' : ''})` : '';
      reject(new Error(`${command} ${args.slice(-3).join(' ')} failed${hint}: ${`${stdout}\n${stderr}`.trim().split('\n').slice(-5).join(' / ') || error.message}`));
    });
  });
}

/** A cluster id as `kafka-storage random-uuid` makes one (16 random bytes, base64url), without a JVM start for it. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id; // it would read as an option
  }
}
