import pino from 'pino';

/** Structured JSON logs; LOG_LEVEL sets the level (info by default, silent in tests unless set). */
export const logger = pino({
  level: process.env.LOG_LEVEL ?? (process.env.JEST_WORKER_ID ? 'silent' : 'info'),
  base: { service: process.env.HERALD_SERVICE ?? 'herald' },
});

export type Logger = pino.Logger;
