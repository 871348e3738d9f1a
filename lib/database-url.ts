import { parse } from 'pg-connection-string';
import type { PoolConfig } from 'pg';

export const POSTGRES_URL_REASON = 'must be a postgresql:// URL such as postgresql://user:pass@host:5432/herald';

/** What DATABASE_URL must look like (the configuration schema and prisma.config.ts check it alike). */
export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\/\S+$/.test(url);
}

/**
 * DATABASE_URL for the Prisma CLI (prisma.config.ts), which loads this file alone: the Docker image runs
 * `prisma generate` before the rest of the code is copied in.
 */
export function requireDatabaseUrlFrom(env: Record<string, string | undefined>): string {
  const url = env.DATABASE_URL?.trim();
  if (!url) throw new Error('DATABASE_URL is not set (npm start sets it for the embedded PostgreSQL)');
  if (!isPostgresUrl(url)) throw new Error(`DATABASE_URL ${POSTGRES_URL_REASON}`);
  return url;
}

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
