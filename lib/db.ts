import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../prisma/generated/client';
import { connectionFields } from './database-url';

export type Db = InstanceType<typeof PrismaClient>;
export { Prisma } from '../prisma/generated/client';

/**
 * A Prisma client over node-postgres (no query-engine binary); `max` bounds the pool per process, and
 * `connectionTimeoutMillis` how long a query waits for a connection (unset: as long as it takes).
 */
export function createDb(url: string, options: { max?: number; connectionTimeoutMillis?: number } = {}): Db {
  const adapter = new PrismaPg({ ...connectionFields(url), max: options.max ?? 10, ...(options.connectionTimeoutMillis ? { connectionTimeoutMillis: options.connectionTimeoutMillis } : {}) });
  return new PrismaClient({ adapter });
}
