import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../prisma/generated/client';
import { connectionFields } from './database-url';

export type Db = InstanceType<typeof PrismaClient>;
export { Prisma } from '../prisma/generated/client';

/**
 * A Prisma client over node-postgres (no query-engine binary); `max` bounds the pool per process, and
 * `connectionTimeoutMillis` how long a query or a transaction waits for a connection (unset: as long as it
 * takes for a query, Prisma's 2 s for a transaction).
 */
export function createDb(url: string, options: { max?: number; connectionTimeoutMillis?: number } = {}): Db {
  const wait = options.connectionTimeoutMillis;
  const adapter = new PrismaPg({ ...connectionFields(url), max: options.max ?? 10, ...(wait ? { connectionTimeoutMillis: wait } : {}) });
  // A transaction waits for its connection as long as a query does: a burst queues for the pool rather than failing at 2 s.
  return new PrismaClient({ adapter, ...(wait ? { transactionOptions: { maxWait: wait } } : {}) });
}
