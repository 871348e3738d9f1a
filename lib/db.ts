import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../prisma/generated/client';
import { connectionFields } from './database-url';

export type Db = InstanceType<typeof PrismaClient>;
export { Prisma } from '../prisma/generated/client';

/** A Prisma client over node-postgres (no query-engine binary); `max` bounds the pool per process. */
export function createDb(url: string, options: { max?: number } = {}): Db {
  const adapter = new PrismaPg({ ...connectionFields(url), max: options.max ?? 10 });
  return new PrismaClient({ adapter });
}
