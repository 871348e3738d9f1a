import { createLogger } from '../../lib/logger';

/** The tests' logger: silent unless LOG_LEVEL asks for more. */
export const logger = createLogger({ level: (process.env.LOG_LEVEL as 'info' | undefined) ?? 'silent', service: 'herald-test' });
