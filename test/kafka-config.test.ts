// The Kafka intake's variables (lib/config.ts): what they make, and what a bad one says at start-up.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../lib/config';

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('the configuration was accepted');
}

test('no brokers, no consumer; brokers alone take the defaults', () => {
  expect(loadConfig({}).kafka).toBeNull();
  expect(loadConfig({ HERALD_KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092', HERALD_SERVICE: 'herald-api' }).kafka).toEqual({
    brokers: ['kafka-1:9092', 'kafka-2:9092'],
    topic: 'herald.order-events',
    sourceTopics: [],
    groupId: 'herald-intake',
    clientId: 'herald-api',
    sasl: null,
    tls: null,
    inApi: true,
    metricsPort: 9465,
  });
});

test('source topics, SASL and TLS with a CA', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-kafka-config-'));
  const ca = path.join(dir, 'ca.pem');
  fs.writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
  try {
    const kafka = loadConfig({
      HERALD_KAFKA_BROKERS: 'broker.example:9094',
      HERALD_KAFKA_SOURCE_TOPICS: 'shop.orders=shopify-eu, erp.orders=erp',
      HERALD_KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      HERALD_KAFKA_SASL_USERNAME: 'herald',
      HERALD_KAFKA_SASL_PASSWORD: 's3cret',
      HERALD_KAFKA_TLS: 'true',
      HERALD_KAFKA_TLS_CA_FILE: ca,
      HERALD_KAFKA_IN_API: 'false',
    }).kafka;
    expect(kafka).toMatchObject({
      sourceTopics: [{ topic: 'shop.orders', sourceId: 'shopify-eu' }, { topic: 'erp.orders', sourceId: 'erp' }],
      sasl: { mechanism: 'SCRAM-SHA-512', username: 'herald', password: 's3cret' },
      tls: { ca: expect.stringContaining('BEGIN CERTIFICATE') },
      inApi: false,
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bad values stop start-up, each named with its reason', () => {
  expect(
    problems({
      HERALD_KAFKA_BROKERS: 'kafka-1, kafka-2:99999',
      HERALD_KAFKA_TOPIC: 'order events',
      HERALD_KAFKA_SOURCE_TOPICS: 'shop.orders',
      HERALD_KAFKA_SASL_MECHANISM: 'gssapi',
      HERALD_KAFKA_TLS: 'maybe',
    }),
  ).toEqual([
    'HERALD_KAFKA_BROKERS: must be host:port pairs separated by commas, such as kafka-1:9092,kafka-2:9092; not one: kafka-1, kafka-2:99999',
    "HERALD_KAFKA_TOPIC: must be a Kafka topic name (letters, digits, '.', '_' and '-', at most 249)",
    "HERALD_KAFKA_SOURCE_TOPICS: must be <topic>=<sourceId> pairs separated by commas, such as shop.orders=shopify-eu, got 'shop.orders'",
    "HERALD_KAFKA_SASL_MECHANISM: must be one of plain, scram-sha-256, scram-sha-512, got 'gssapi'",
    "HERALD_KAFKA_TLS: must be true or false, got 'maybe'",
    // Named even beside a bad mechanism: every problem in one go.
    'HERALD_KAFKA_SASL_USERNAME: must be set when HERALD_KAFKA_SASL_MECHANISM is set',
    'HERALD_KAFKA_SASL_PASSWORD: must be set when HERALD_KAFKA_SASL_MECHANISM is set',
  ]);
  expect(problems({ HERALD_KAFKA_BROKERS: 'k:9092', HERALD_KAFKA_SASL_MECHANISM: 'plain' })).toEqual([
    'HERALD_KAFKA_SASL_USERNAME: must be set when HERALD_KAFKA_SASL_MECHANISM is set',
    'HERALD_KAFKA_SASL_PASSWORD: must be set when HERALD_KAFKA_SASL_MECHANISM is set',
  ]);
  expect(problems({ HERALD_KAFKA_BROKERS: 'k:9092', HERALD_KAFKA_SASL_USERNAME: 'herald' })).toEqual([
    'HERALD_KAFKA_SASL_MECHANISM: must be set (plain, scram-sha-256, scram-sha-512) when HERALD_KAFKA_SASL_USERNAME or HERALD_KAFKA_SASL_PASSWORD is',
  ]);
  expect(problems({ HERALD_KAFKA_BROKERS: 'k:9092', HERALD_KAFKA_SOURCE_TOPICS: 'herald.order-events=shop, a=b, a=c' })).toEqual([
    "HERALD_KAFKA_SOURCE_TOPICS: topic 'a' is named twice",
  ]);
  expect(problems({ HERALD_KAFKA_BROKERS: 'k:9092', HERALD_KAFKA_SOURCE_TOPICS: 'herald.order-events=shop' })).toEqual([
    'HERALD_KAFKA_SOURCE_TOPICS: names HERALD_KAFKA_TOPIC, the canonical topic: a source topic must be a topic of its own',
  ]);
  expect(problems({ HERALD_KAFKA_BROKERS: 'k:9092', HERALD_KAFKA_TLS_CA_FILE: '/etc/hostname' })).toEqual([
    'HERALD_KAFKA_TLS_CA_FILE (/etc/hostname): is not a PEM certificate (no -----BEGIN CERTIFICATE----- line)',
    'HERALD_KAFKA_TLS_CA_FILE (/etc/hostname): is set but HERALD_KAFKA_TLS is not true: set HERALD_KAFKA_TLS=true to connect with TLS',
  ]);
});
