import { parse } from 'pg-connection-string';
import type { PoolConfig } from 'pg';

/** The URL split into fields: the Prisma pg adapter's shadow database only works with fields. */
export function connectionFields(url: string): PoolConfig {
  const parsed = parse(url);
  return {
    host: parsed.host ?? 'localhost',
    port: parsed.port ? Number(parsed.port) : 5432,
    user: parsed.user,
    password: parsed.password,
    database: parsed.database ?? undefined,
    ssl: parsed.ssl ? (parsed.ssl as PoolConfig['ssl']) : undefined,
    // Columns are timestamp without time zone holding UTC (Prisma's convention); make now() agree.
    options: '-c TimeZone=UTC',
  };
}
