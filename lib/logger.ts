import pino from 'pino';
import type { HeraldConfig } from './config';

export type Logger = pino.Logger;

/** Structured JSON logs; each entry point makes one from its configuration (LOG_LEVEL, HERALD_SERVICE). */
export function createLogger({ level, service }: HeraldConfig['log']): Logger {
  return pino({ level, base: { service } });
}
