import path from 'node:path';
import { defineConfig } from 'prisma/config';
import { PrismaPg } from '@prisma/adapter-pg';
import { connectionFields, requireDatabaseUrlFrom } from './lib/database-url';

export default defineConfig({
  experimental: { adapter: true },
  engine: 'js',
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  async adapter() {
    // A short idle timeout lets the CLI exit as soon as it is done instead of waiting on the pool.
    return new PrismaPg({ ...connectionFields(requireDatabaseUrlFrom(process.env)), idleTimeoutMillis: 100 });
  },
});

