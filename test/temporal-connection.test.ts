// Temporal's environment configuration (lib/temporal-connection.ts, through lib/config.ts): profiles, the variables
// over them, API keys and mTLS, and refusals that name the setting.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../lib/config';
import { connectionOptions, describeTemporal, temporalSettingsFrom } from '../lib/temporal-connection';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-envconfig-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function configFile(toml: string): string {
  const file = path.join(dir, `temporal-${Math.random().toString(36).slice(2)}.toml`);
  fs.writeFileSync(file, toml);
  return file;
}

test('nothing set: the local dev server, plain gRPC, namespace default', () => {
  const config = loadConfig({});
  expect(config.temporal).toMatchObject({ address: '127.0.0.1:7233', namespace: 'default' });
  expect(config.temporal.tls).toBeUndefined();
  expect(connectionOptions(config.temporal)).toEqual({ address: '127.0.0.1:7233' });
});

test('a profile of the config file, with the variables over it', () => {
  const file = configFile(`[profile.default]\naddress = "default.example:7233"\n\n[profile.prod]\naddress = "herald.a1b2c.tmprl.cloud:7233"\nnamespace = "herald.a1b2c"\napi_key = "key-from-file"\n`);
  const prod = loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod' });
  expect([prod.temporalAddress, prod.temporalNamespace]).toEqual(['herald.a1b2c.tmprl.cloud:7233', 'herald.a1b2c']);
  // An API key turns TLS on (Temporal Cloud), and no log line shows the key.
  expect(connectionOptions(prod.temporal)).toMatchObject({ apiKey: 'key-from-file', tls: true });
  expect(JSON.stringify(describeTemporal(prod.temporal))).not.toContain('key-from-file');
  expect(describeTemporal(prod.temporal).security).toBe('API key over TLS');
  const overridden = loadConfig({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod', TEMPORAL_NAMESPACE: 'other', TEMPORAL_API_KEY: 'key-from-env' });
  expect(overridden.temporal).toMatchObject({ address: 'herald.a1b2c.tmprl.cloud:7233', namespace: 'other', apiKey: 'key-from-env' });
  expect(loadConfig({ TEMPORAL_CONFIG_FILE: file }).temporalAddress).toBe('default.example:7233');
});

test('mTLS from certificate files, read once at start', () => {
  const cert = path.join(dir, 'client.pem');
  const key = path.join(dir, 'client.key');
  fs.writeFileSync(cert, '-----BEGIN CERTIFICATE-----\ncert\n-----END CERTIFICATE-----\n');
  fs.writeFileSync(key, '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n');
  const settings = temporalSettingsFrom({ TEMPORAL_ADDRESS: 'herald.a1b2c.tmprl.cloud:7233', TEMPORAL_TLS_CLIENT_CERT_PATH: cert, TEMPORAL_TLS_CLIENT_KEY_PATH: key, TEMPORAL_TLS_SERVER_NAME: 'herald.a1b2c.tmprl.cloud' });
  expect(settings.tls).toMatchObject({ serverNameOverride: 'herald.a1b2c.tmprl.cloud', clientCertPair: { crt: fs.readFileSync(cert), key: fs.readFileSync(key) } });
  expect(describeTemporal(settings).security).toBe('mTLS');
  expect(temporalSettingsFrom({ TEMPORAL_TLS: 'true' }).tls).toBeTruthy();
});

test('refusals name the setting and why, with the other problems', () => {
  const problems = (env: Record<string, string>) => {
    try {
      loadConfig(env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems;
    }
    throw new Error('accepted');
  };
  const missing = path.join(dir, 'nowhere.toml');
  expect(problems({ TEMPORAL_CONFIG_FILE: missing })).toEqual([`TEMPORAL_CONFIG_FILE (${missing}): no such file`]);
  const file = configFile('[profile.default]\naddress = "a:7233"\n');
  expect(problems({ TEMPORAL_CONFIG_FILE: file, TEMPORAL_PROFILE: 'prod', PORT: 'x' })).toEqual([expect.stringMatching(/^PORT: /), `TEMPORAL_PROFILE: no profile 'prod' in ${file}`]);
  expect(problems({ TEMPORAL_CONFIG_FILE: configFile('[profile.default\n') })[0]).toMatch(/^TEMPORAL_CONFIG_FILE \(.*\): /);
  expect(problems({ TEMPORAL_TLS_CLIENT_CERT_PATH: missing, TEMPORAL_TLS_CLIENT_KEY_PATH: missing })[0]).toMatch(/^Temporal TLS \(TEMPORAL_TLS_\* or the profile's tls\): .*nowhere\.toml/);
  expect(problems({ TEMPORAL_ADDRESS: 'https://temporal.example:7233' })[0]).toBe('TEMPORAL_ADDRESS: must be host:port, without a scheme');
  expect(problems({ TEMPORAL_TLS: 'maybe' })).toEqual(["TEMPORAL_TLS: must be true or false, got 'maybe'"]);
});
