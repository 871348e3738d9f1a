// The Kafka client, @platformatic/kafka: pure JavaScript, maintained, and an ES module. Herald compiles to CommonJS and
// runs under tsx, whose require() of an ES module fails on Node 20 ("request for './diagnostic.js' is not in cache"),
// so the package is loaded with import() when a consumer or producer is first made, never at module load: a process
// (or a Jest test) that only imports this file does not load it.
import type { KafkaConfig } from '../../lib/config';

export type KafkaModule = typeof import('@platformatic/kafka');

let loading: Promise<KafkaModule> | undefined;

export function loadKafka(): Promise<KafkaModule> {
  loading ??= import('@platformatic/kafka');
  return loading;
}

/** How to reach and authenticate with the brokers, as every client (consumer, producer, admin) takes it. */
export type KafkaConnection = Pick<KafkaConfig, 'brokers' | 'clientId' | 'sasl' | 'tls'>;

/** The client options HERALD_KAFKA_BROKERS, _SASL_* and _TLS* make. */
export function connectionOptions(connection: KafkaConnection) {
  return {
    clientId: connection.clientId,
    bootstrapBrokers: connection.brokers,
    ...(connection.sasl ? { sasl: { mechanism: connection.sasl.mechanism, username: connection.sasl.username, password: connection.sasl.password } } : {}),
    ...(connection.tls ? { tls: connection.tls.ca ? { ca: connection.tls.ca } : {} } : {}),
    connectTimeout: 5_000,
    requestTimeout: 30_000,
  };
}
