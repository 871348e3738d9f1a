// `npm run kafka-intake`: the Kafka intake as a process of its own (set HERALD_KAFKA_IN_API=false on the API processes
// so they leave Kafka to it, or keep both: they share the group's partitions). Reads the same configuration as the API,
// needs DATABASE_URL, Temporal's settings (TEMPORAL_ADDRESS or a profile) and HERALD_KAFKA_BROKERS, serves /metrics and /healthz on HERALD_KAFKA_METRICS_PORT.
import http from 'node:http';
import { Client } from '@temporalio/client';
import { connectTemporal } from '../../lib/temporal-connection';
import { loadConfigOrExit, requireDatabaseUrl, type HeraldConfig } from '../../lib/config';
import { createDb } from '../../lib/db';
import { createLogger, type Logger } from '../../lib/logger';
import { registry } from '../../lib/metrics';
import { createIntake } from '../intake';
import { startKafkaIntake } from './consumer';
import { createKafkaIngest } from './ingest';
import { createSourcePipeline } from '../sources/pipeline';

async function main(config: HeraldConfig, logger: Logger): Promise<void> {
  const kafkaConfig = config.kafka;
  if (!kafkaConfig) {
    process.stderr.write('herald kafka-intake: HERALD_KAFKA_BROKERS is not set: there is no Kafka to read from\n');
    process.exit(1);
  }
  const db = createDb(requireDatabaseUrl(config), { max: 10, connectionTimeoutMillis: 5_000 });
  const connection = await connectTemporal(config.temporal);
  const temporal = new Client({ connection, namespace: config.temporalNamespace });
  const intake = createIntake({ db, temporal, taskQueue: config.taskQueue, logger, signalPool: config.signalPool });
  // Events stored while Temporal was away are signalled once it answers, as the API's relay does (both may run).
  const stopRelay = intake.startRelay();
  const kafka = startKafkaIntake({ config: kafkaConfig, ingest: createKafkaIngest(kafkaConfig, { db, pipeline: createSourcePipeline({ db, intake, logger }) }), logger });
  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.url === '/healthz') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', kafka: kafka.state() }));
      if (req.url === '/metrics') return void res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
      res.writeHead(404).end();
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(kafkaConfig.metricsPort, '0.0.0.0', resolve);
  });
  logger.info({ topics: [kafkaConfig.topic, ...kafkaConfig.sourceTopics.map((r) => r.topic)], metrics: `http://127.0.0.1:${kafkaConfig.metricsPort}/metrics` }, 'Kafka intake running');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'Kafka intake stopping');
    await kafka.close();
    server.close();
    await stopRelay();
    await intake.close(); // what its pool still held is stored: the relay of any instance signals it
    await connection.close();
    await db.$disconnect();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

const config = loadConfigOrExit(process.env, 'herald kafka-intake');
const logger = createLogger({ ...config.log, service: config.log.service === 'herald' ? 'herald-kafka-intake' : config.log.service });
main(config, logger).catch((err) => {
  logger.fatal({ err }, 'Kafka intake failed to start');
  process.exit(1);
});
