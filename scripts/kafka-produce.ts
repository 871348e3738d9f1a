/**
 * `npm run -s kafka-produce -- [options] < events.ndjson`: sends order events to Kafka, one JSON event per line, each
 * keyed by its orderId (so one order's events stay in one partition, in order), with the partitioner Kafka's Java
 * client uses. The brokers, topic, SASL and TLS come from the HERALD_KAFKA_* variables, as the intake reads them.
 *
 *   --brokers host:port,...   instead of HERALD_KAFKA_BROKERS
 *   --topic <name>            instead of HERALD_KAFKA_TOPIC (default herald.order-events)
 *   --partitions <n>          create the topic first with n partitions, when it does not exist
 *   --envelope                each line is {"key": "...", "value": <event object, or text sent as it is>, "headers": {...}}
 *
 * Prints one JSON line at the end: {"topic", "sent", "partitions": [the partitions written to], "seconds": from the first
 * send to the last acknowledgement}.
 */
import readline from 'node:readline';
import { loadConfig } from '../lib/config';
import { connectionOptions, loadKafka } from '../api/kafka/client';

interface Outgoing {
  key: string;
  value: string;
  headers?: Record<string, string>;
}

function parseArgs(argv: string[]): { brokers?: string; topic?: string; partitions?: number; envelope: boolean } {
  const out: { brokers?: string; topic?: string; partitions?: number; envelope: boolean } = { envelope: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === '--brokers') out.brokers = value();
    else if (arg === '--topic') out.topic = value();
    else if (arg === '--partitions') {
      out.partitions = Number(value());
      if (!Number.isInteger(out.partitions) || out.partitions < 1) throw new Error('--partitions must be a whole number, 1 or more');
    } else if (arg === '--envelope') out.envelope = true;
    else throw new Error(`unknown option ${arg} (see the comment at the top of scripts/kafka-produce.ts)`);
  }
  return out;
}

function outgoing(line: string, lineNumber: number, envelope: boolean): Outgoing {
  if (envelope) {
    const parsed = JSON.parse(line) as { key?: unknown; value?: unknown; headers?: Record<string, string> };
    if (typeof parsed.key !== 'string') throw new Error(`line ${lineNumber}: an envelope needs a string "key"`);
    return { key: parsed.key, value: typeof parsed.value === 'string' ? parsed.value : JSON.stringify(parsed.value), headers: parsed.headers };
  }
  let orderId: unknown;
  try {
    orderId = (JSON.parse(line) as { orderId?: unknown }).orderId;
  } catch (err) {
    throw new Error(`line ${lineNumber} is not JSON (${(err as Error).message}); use --envelope to send any text with a key of your choice`);
  }
  if (typeof orderId !== 'string' || !orderId) throw new Error(`line ${lineNumber} has no orderId to key it by`);
  return { key: orderId, value: line };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfig({ ...process.env, ...(args.brokers ? { HERALD_KAFKA_BROKERS: args.brokers } : {}), ...(args.topic ? { HERALD_KAFKA_TOPIC: args.topic } : {}) });
  if (!config.kafka) throw new Error('no brokers: set HERALD_KAFKA_BROKERS or pass --brokers host:port');
  const topic = config.kafka.topic;
  const messages: Outgoing[] = [];
  let lineNumber = 0;
  for await (const line of readline.createInterface({ input: process.stdin, crlfDelay: Infinity })) {
    lineNumber++;
    if (line.trim()) messages.push(outgoing(line, lineNumber, args.envelope));
  }

  const kafka = await loadKafka();
  const connection = { ...config.kafka, clientId: 'herald-kafka-produce' };
  if (args.partitions) {
    const admin = new kafka.Admin(connectionOptions(connection));
    try {
      const existing = await admin.listTopics();
      if (!existing.includes(topic)) await admin.createTopics({ topics: [topic], partitions: args.partitions, replicas: -1 });
    } finally {
      await admin.close();
    }
  }
  const producer = new kafka.Producer({
    ...connectionOptions(connection),
    serializers: kafka.stringSerializers,
    partitioner: kafka.compatibilityPartitioner,
    acks: kafka.ProduceAcks.ALL,
    // A missing topic is created if the broker allows it (auto.create.topics.enable), as Java's producer asks.
    autocreateTopics: true,
  });
  const partitions = new Set<number>();
  let seconds = 0;
  const started = performance.now();
  try {
    // In order, a batch at a time: one order's events reach their partition in the order of the file.
    for (let at = 0; at < messages.length; at += 500) {
      const batch = messages.slice(at, at + 500).map((m) => ({ topic, key: m.key, value: m.value, headers: m.headers ? new Map(Object.entries(m.headers)) : undefined }));
      const result = await producer.send({ messages: batch });
      for (const { partition } of result.offsets ?? []) partitions.add(partition);
    }
    seconds = (performance.now() - started) / 1000;
  } finally {
    await producer.close();
  }
  process.stdout.write(`${JSON.stringify({ topic, sent: messages.length, partitions: [...partitions].sort((a, b) => a - b), seconds: Math.round(seconds * 1000) / 1000 })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`kafka-produce: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
