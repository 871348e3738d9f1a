// How every Herald process reaches Temporal (worker, API, Kafka intake, scripts, the stack and the tests' clients):
// Temporal's own environment configuration (@temporalio/envconfig), so that what works for the Temporal CLI and the
// other SDKs works here: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS_*, or a profile
// (TEMPORAL_PROFILE) of a TOML config file (TEMPORAL_CONFIG_FILE, default ~/.config/temporalio/temporal.toml), with the
// variables over the profile. Temporal Cloud with an API key or mTLS, or a self-hosted cluster behind TLS, is then a
// matter of settings, not code.
import fs from 'node:fs';
import { Connection } from '@temporalio/client';
import type { TLSConfig } from '@temporalio/common/lib/internal-non-workflow';
import { loadClientConfigProfile, toClientOptions } from '@temporalio/envconfig';

/** Where Temporal is when nothing says otherwise: a dev server on this machine (npm start's). */
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';

/** The variables of Temporal's environment configuration that Herald reads (the README's configuration table). */
export const TEMPORAL_CONNECTION_VARIABLES = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
] as const;

/** What NativeConnection.connect (worker) and Connection.connect (client) both take, and the namespace. */
export interface TemporalSettings {
  address: string;
  namespace: string;
  /** Sent as a bearer token (Temporal Cloud API keys); TLS is on with one. */
  apiKey?: string;
  /** true: TLS with the system's roots; an object: mTLS and/or a CA and server name of its own; false/undefined: plain. */
  tls?: TLSConfig | boolean;
  /** gRPC headers of the profile (grpc_meta). */
  metadata?: Record<string, string>;
  /** Where the settings came from, for logs: never the key itself. */
  source: string;
}

/** A setting Temporal's configuration cannot read, named as the variable (or file) it comes from. */
export class TemporalSettingsError extends Error {}

/**
 * The settings from `env` (process.env's shape, blank values dropped by the caller or here): the profile named by
 * TEMPORAL_PROFILE (else "default", if the file has one) of TEMPORAL_CONFIG_FILE or the default config file, then the
 * variables over it, then Herald's defaults for what neither gives. Certificate files are read here, once.
 */
export function temporalSettingsFrom(env: Record<string, string | undefined>): TemporalSettings {
  const vars = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1].trim() !== '').map(([k, v]) => [k, v.trim()]));
  const file = vars.TEMPORAL_CONFIG_FILE;
  // envconfig passes over a config file that is not there; one that was named must be.
  if (file && !fs.existsSync(file)) throw new TemporalSettingsError(`TEMPORAL_CONFIG_FILE (${file}): no such file`);
  let profile;
  try {
    profile = loadClientConfigProfile({ overrideEnvVars: vars });
  } catch (error) {
    const message = (error as Error).message;
    if (/^Profile '.*' not found/.test(message)) throw new TemporalSettingsError(`TEMPORAL_PROFILE: no profile '${vars.TEMPORAL_PROFILE}' in ${file ?? 'the Temporal config file'}`);
    throw new TemporalSettingsError(`${file ? `TEMPORAL_CONFIG_FILE (${file})` : 'the Temporal config file (~/.config/temporalio/temporal.toml)'}: ${message}`);
  }
  let connect;
  try {
    connect = toClientOptions(profile);
  } catch (error) {
    throw new TemporalSettingsError(`Temporal TLS (TEMPORAL_TLS_* or the profile's tls): ${(error as Error).message}`);
  }
  const address = connect.connectionOptions.address ?? DEFAULT_TEMPORAL_ADDRESS;
  if (address.includes('://')) throw new TemporalSettingsError(`TEMPORAL_ADDRESS: must be host:port, without a scheme, got '${address}'`);
  const { tls, apiKey, metadata } = connect.connectionOptions;
  const profileName = vars.TEMPORAL_PROFILE ?? 'default';
  return {
    address,
    namespace: connect.namespace ?? DEFAULT_TEMPORAL_NAMESPACE,
    ...(apiKey !== undefined ? { apiKey: apiKey as string } : {}),
    ...(tls !== undefined && tls !== null ? { tls } : {}),
    ...(metadata && Object.keys(metadata).length ? { metadata: metadata as Record<string, string> } : {}),
    source: file || vars.TEMPORAL_PROFILE ? `profile ${profileName}${file ? ` of ${file}` : ''} and the environment` : 'the environment',
  };
}

/** The options of NativeConnection.connect / Connection.connect for `settings`. */
export function connectionOptions(settings: TemporalSettings): { address: string; tls?: TLSConfig | boolean; apiKey?: string; metadata?: Record<string, string> } {
  return {
    address: settings.address,
    ...(settings.tls !== undefined ? { tls: settings.tls } : {}),
    ...(settings.apiKey !== undefined ? { apiKey: settings.apiKey } : {}),
    ...(settings.metadata ? { metadata: settings.metadata } : {}),
  };
}

/** A client connection (API, intake, scripts, tests) with `settings`. */
export function connectTemporal(settings: TemporalSettings, options: { connectTimeout?: number } = {}): Promise<Connection> {
  return Connection.connect({ ...connectionOptions(settings), ...options });
}

/** What a log line may say about the connection: where, which namespace, how secured (never the key or certificates). */
export function describeTemporal(settings: TemporalSettings): Record<string, string> {
  return {
    address: settings.address,
    namespace: settings.namespace,
    security: settings.apiKey !== undefined ? 'API key over TLS' : settings.tls && typeof settings.tls === 'object' && settings.tls.clientCertPair ? 'mTLS' : settings.tls ? 'TLS' : 'plain',
    from: settings.source,
  };
}
