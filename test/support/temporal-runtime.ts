// Jest setupFiles: every Temporal Runtime a test file makes (its own Runtime.install or the SDK's default
// one) forwards the SDK core's logs to this filter, which drops one warning the time-skipping test server
// causes on every Worker.create and passes everything else on: core logs to stderr as before, the rest to
// the logger the test chose.
import { DefaultLogger, Runtime, type LogLevel, type LogMetadata, type Logger, type RuntimeOptions } from '@temporalio/worker';
import { SdkComponent } from '@temporalio/common';

/**
 * The test server (temporal-test-server) does not advertise the activity_failure_include_heartbeat
 * capability, so core warns that heartbeat details may be lost; the dev server and real clusters do not
 * cause it, and no test relies on heartbeat details of a failed activity.
 */
const TEST_SERVER_HEARTBEAT_WARNING = 'Temporal Server 1.16.0 or newer is required to guarantee that the latest heartbeat details are preserved';

class WithoutTestServerNoise implements Logger {
  // Core's own filter (logging.filter below) has already chosen the levels; print all it forwards.
  private readonly core = new DefaultLogger('TRACE');
  constructor(private readonly sdk: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (meta?.sdkComponent !== SdkComponent.core) return this.sdk.log(level, message, meta);
    if (message.startsWith(TEST_SERVER_HEARTBEAT_WARNING)) return;
    this.core.log(level, message, meta);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

function withFilteredCoreLogs(options: RuntimeOptions = {}): RuntimeOptions {
  const logging = options.telemetryOptions?.logging;
  return {
    ...options,
    logger: new WithoutTestServerNoise(options.logger ?? new DefaultLogger('INFO')),
    telemetryOptions: {
      ...options.telemetryOptions,
      // The SDK's default levels (core WARN, its dependencies ERROR) unless the test chose others.
      logging: { filter: logging?.filter ?? { core: 'WARN', other: 'ERROR' }, forward: {} },
    },
  };
}

const install = Runtime.install.bind(Runtime);
Runtime.install = (options: RuntimeOptions) => install(withFilteredCoreLogs(options));
Runtime.defaultOptions = withFilteredCoreLogs(Runtime.defaultOptions);
