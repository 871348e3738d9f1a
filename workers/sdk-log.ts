import type { LogLevel, LogMetadata } from '@temporalio/worker';
import type { Logger } from '../lib/logger';

type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';

const LEVELS: Record<LogLevel, Level> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/**
 * SDK warnings that are how Herald is built, not a problem: the channel workers serve activities only (their task
 * queues carry each provider's rate limit), so they poll no workflow tasks.
 */
const EXPECTED_WARNINGS = new Set(['No workflows registered, not polling for workflow tasks']);

/**
 * Writes one Temporal SDK log line through our structured logger: an expected warning at debug, and the workflow
 * bundler's webpack report (many lines) as a list at debug, or at error when the bundle failed; the SDK's own
 * one-line summary ("Workflow bundle created", with its size) stays at info.
 */
export function forwardSdkLog(logger: Logger, { level, message, meta }: { level: LogLevel; message: string; meta?: LogMetadata }): void {
  const fields = { ...meta, sdk: true };
  if (level === 'WARN' && EXPECTED_WARNINGS.has(message)) return logger.debug(fields, message);
  if (message.includes('\n')) {
    const lines = message.split('\n').filter((line) => line.trim() !== '');
    const webpack = /^asset |webpack/i.test(message);
    if (webpack) {
      if (level === 'ERROR') return logger.error({ ...fields, webpack: lines }, 'workflow bundler (webpack) failed');
      return logger.debug({ ...fields, webpack: lines }, 'workflow bundler (webpack) report');
    }
    return logger[LEVELS[level]]({ ...fields, lines: lines.slice(1) }, lines[0] ?? '');
  }
  logger[LEVELS[level]](fields, message);
}
