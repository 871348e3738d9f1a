// API process entry point: `npm run api`.
import { loadConfig } from '../lib/config';
import { logger } from '../lib/logger';
import { startApi } from './server';

async function main(): Promise<void> {
  const config = loadConfig();
  const api = await startApi(config, logger);
  logger.info({ url: api.url }, 'API listening');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'API stopping');
    await api.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  logger.fatal({ err }, 'API failed to start');
  process.exit(1);
});
