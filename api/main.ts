// API process entry point: `npm run api`. Reads the configuration once and serves until SIGINT/SIGTERM.
import { loadConfigOrExit, type HeraldConfig } from '../lib/config';
import { createLogger, type Logger } from '../lib/logger';
import { startApi } from './server';

async function main(config: HeraldConfig, logger: Logger): Promise<void> {
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

const config = loadConfigOrExit(process.env, 'herald api');
const logger = createLogger(config.log);
main(config, logger).catch((err) => {
  logger.fatal({ err }, 'API failed to start');
  process.exit(1);
});
