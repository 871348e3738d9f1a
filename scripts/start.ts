// `npm start`: the whole of Herald on one machine. Starts what is not configured (Temporal dev server
// with its Web UI, embedded PostgreSQL), then the worker and the API; Ctrl-C stops all of it.
import fs from 'node:fs';
import path from 'node:path';
import { notificationKindFor, planFor, receiptDeadlineOf, type ChannelPlan, type ChannelPlans } from '../domain';
import { loadConfig, loadLocalStackConfig } from '../lib/config';
import { processIdentity, removePidFile, runningFromPidFile, sameProcess, stopFromPidFile, writePidFile, type ProcessIdentity } from '../dev/embedded';
import { ensureAdminKey } from '../dev/admin-key';
import { quickstartCommands, quickstartLooks } from '../dev/quickstart';
import { pidFilePath, startStack, type Stack } from '../dev/stack';
import { ensureKafka } from '../dev/kafka';
import { ensureTools } from '../dev/tools';
import { ensureTemporalServer } from '../dev/temporal-server';

const say = (line: string) => process.stdout.write(`[herald] ${line}\n`);

/**
 * The processes this `npm start` runs under (npm, its shell, tsx), on Linux: each but npm itself has npm's
 * script environment (npm_lifecycle_event). When one is gone (npm was killed), no Ctrl-C reaches us any more.
 */
function npmLaunchers(): ProcessIdentity[] {
  if (process.platform !== 'linux' || !process.env.npm_lifecycle_event) return [];
  const launchers: ProcessIdentity[] = [];
  for (let pid = process.ppid; pid > 1; ) {
    const launcher = processIdentity(pid);
    if (!launcher) break;
    launchers.push(launcher);
    let environ: string[];
    try {
      environ = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    } catch {
      break;
    }
    if (!environ.some((entry) => entry.startsWith('npm_lifecycle_event='))) break; // npm itself
    pid = launcher.ppid;
  }
  return launchers;
}

/** A start that must not go ahead; its message says why and what to do, no stack trace needed. */
class StartRefused extends Error {}

/**
 * One npm start per data directory. An earlier one that still runs is left alone while its npm does (it is
 * in use); one whose npm is gone (killed) is stopped, and it stops what it started.
 */
async function stopEarlierStart(dataDir: string): Promise<void> {
  const file = pidFilePath(dataDir, 'herald');
  const earlier = runningFromPidFile(file);
  if (!earlier) return;
  const launchers = (earlier.extra?.launchers ?? []) as ProcessIdentity[];
  if (launchers.length === 0 || launchers.every((launcher) => sameProcess(launcher, false))) {
    throw new StartRefused(`Herald already runs from ${dataDir} (npm start, pid ${earlier.pid}). Stop it first: Ctrl-C where it runs, or kill ${earlier.pid}.`);
  }
  say(`an earlier npm start (pid ${earlier.pid}) still runs though its npm is gone: stopping it...`);
  await stopFromPidFile(file, [['SIGTERM', 60_000], ['SIGKILL', 5_000]]);
}

async function main(): Promise<void> {
  const config = loadConfig();
  const local = loadLocalStackConfig(process.env);
  const dataDir = path.resolve(config.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  await stopEarlierStart(dataDir);
  const launchers = npmLaunchers();
  const ownPidFile = pidFilePath(dataDir, 'herald');
  writePidFile(ownPidFile, process.pid, { launchers });
  process.on('exit', () => removePidFile(ownPidFile, process.pid));
  // A Temporal named by TEMPORAL_ADDRESS or a profile (TEMPORAL_PROFILE) is used as it is; otherwise one is embedded.
  const embeddedTemporal = !process.env.TEMPORAL_ADDRESS?.trim() && !process.env.TEMPORAL_PROFILE?.trim();
  if (embeddedTemporal) await ensureTools({ log: say });
  const productionServer = embeddedTemporal && local.HERALD_TEMPORAL === 'server';
  if (productionServer) await ensureTemporalServer({ log: say });
  const embeddedKafka = local.HERALD_KAFKA === 'embedded';
  if (embeddedKafka) await ensureKafka({ log: say });

  const { key, origin } = ensureAdminKey({ adminKey: config.adminKey, dataDir });
  let stack: Stack | undefined;
  let stopping = false;
  const shutdown = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    say(`${reason}: stopping...`);
    await stack?.stop();
    say('stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGHUP', () => void shutdown('SIGHUP (terminal closed)', 0));
  // Killed, npm cannot pass Ctrl-C on any more: stop with it rather than hold the ports for nobody.
  const watch = setInterval(() => {
    const gone = launchers.find((launcher) => !sameProcess(launcher, false));
    if (gone) {
      clearInterval(watch);
      void shutdown(`${gone.cmdline[0] ?? 'npm'} (pid ${gone.pid}), which this runs under, is gone`, 1);
    }
  }, 1_000);
  watch.unref();

  stack = await startStack({
    dataDir,
    persistent: true,
    temporalAddress: embeddedTemporal ? undefined : config.temporal.address,
    temporal: local.HERALD_TEMPORAL,
    temporalNamespace: config.temporalNamespace,
    temporalPort: Number(process.env.TEMPORAL_PORT ?? 7233),
    temporalUiPort: Number(process.env.TEMPORAL_UI_PORT ?? 8233),
    databaseUrl: config.databaseUrl,
    postgresPort: Number(process.env.EMBEDDED_PG_PORT ?? 5433),
    apiPort: config.port,
    workerMetricsPort: Number(process.env.HERALD_WORKER_METRICS_PORT ?? 9464),
    kafka: embeddedKafka ? { port: local.HERALD_KAFKA_PORT, controllerPort: local.HERALD_KAFKA_CONTROLLER_PORT } : undefined,
    adminKey: key,
    echo: true,
    log: say,
  });
  for (const proc of [stack.worker, stack.api]) {
    void proc.managed.exited.then((exit) => shutdown(`${proc.role} exited (${exit.signal ?? exit.code})`, 1));
  }

  await workerSettled(stack);
  say('');
  say(`API:           ${stack.apiUrl}`);
  say(`Dashboard:     ${stack.apiUrl}/dashboard   (paste the admin key)`);
  say(`API docs:      ${stack.apiUrl}/docs   (OpenAPI: ${stack.apiUrl}/openapi.json)`);
  say(
    `Temporal UI:   ${
      stack.uiUrl
        ? `${stack.uiUrl}/namespaces/${encodeURIComponent(config.temporalNamespace)}/workflows`
        : productionServer
          ? `none: the production Temporal server (HERALD_TEMPORAL=server) runs at ${stack.temporalAddress} with no Web UI (\`temporal workflow list --address ${stack.temporalAddress}\`)`
          : `not embedded; Temporal at ${stack.temporalAddress}`
    }`,
  );
  say(`Metrics:       ${stack.apiUrl}/metrics (API), ${stack.workerMetricsUrl} (worker, with Temporal SDK metrics)`);
  say(`Admin API key: ${key}   (from ${origin}; \`npm run -s admin-key\` prints it)`);
  const kafkaConfig = loadConfig(stack.env).kafka;
  say(`Kafka:         ${kafkaConfig ? `${stack.kafka ? 'embedded, ' : ''}${kafkaConfig.brokers.join(',')}, topic ${kafkaConfig.topic} (\`npm run -s kafka-produce -- --brokers ${kafkaConfig.brokers.join(',')} < events.ndjson\` sends to it)` : 'off (HERALD_KAFKA=embedded runs one; HERALD_KAFKA_BROKERS reads another)'}`);
  const pgData = stack.postgresData;
  say(`PostgreSQL:    ${!pgData ? 'DATABASE_URL' : `embedded, data in ${pgData.dir}${pgData.relocatedBecause ? ` (${path.join(dataDir, 'pg')} links there: the postgres OS user cannot enter ${pgData.relocatedBecause})` : ''}`}`);
  say(`APNs:          ${config.apns ? `live (${config.apns.production ? 'production' : 'sandbox'} host${config.apns.endpoint ? `, endpoint ${config.apns.endpoint}` : ''})` : 'sandbox mode (no APNS_KEY_FILE): pushes are logged, not sent'}`);
  say(`FCM:           ${config.fcm ? `live${config.fcm.endpoint ? ` (endpoint ${config.fcm.endpoint})` : ''}` : 'sandbox mode (no FCM_CREDENTIALS_FILE): pushes are logged, not sent'}`);
  say(`Web Push:      ${config.webPush ? 'live (VAPID)' : 'sandbox mode (no VAPID_PUBLIC_KEY): pushes are logged, not sent'}`);
  say(`Email:         ${config.smtp ? `live (SMTP ${new URL(config.smtp.url).host}${config.smtp.fallbackUrl ? `, fallback ${new URL(config.smtp.fallbackUrl).host}` : ''})` : 'sandbox mode (no SMTP_URL): emails are logged, not sent'}`);
  say(`SMS:           ${config.twilio ? `live (Twilio${config.twilio.endpoint ? `, endpoint ${config.twilio.endpoint}` : ''})` : 'sandbox mode (no TWILIO_ACCOUNT_SID): SMS are logged, not sent'}`);
  if (!config.apns || !config.fcm || !config.webPush || !config.smtp || !config.twilio) {
    const receipts = {
      delivered: 'report a delivered receipt a second after each message, as a real provider or app would',
      opened: 'report a delivered, then an opened receipt, a second apart, after each message',
      none: 'report no receipts: plans escalate when their receipt deadline passes',
    }[config.sandboxReceipts];
    say(`Sandbox:       sandbox providers ${receipts} (HERALD_SANDBOX_RECEIPTS=${config.sandboxReceipts})`);
  }
  const plan = (status: Parameters<typeof notificationKindFor>[0]) => describePlan(planFor(config.channelPlans, notificationKindFor(status)), config.channelPlans);
  say(`Channel plans: ${process.env.HERALD_CHANNEL_PLANS_FILE ? `the defaults with ${process.env.HERALD_CHANNEL_PLANS_FILE} over them` : 'the defaults (HERALD_CHANNEL_PLANS_FILE overrides them)'}, e.g.`);
  for (const status of ['confirmed', 'out_for_delivery', 'delayed', 'delivered'] as const) say(`                 ${status}: ${plan(status)}`);
  say(`Logs:          ${path.join(dataDir, 'logs')}   Ctrl-C stops everything.`);
  say('');
  say('First steps: paste these lines into a shell (a customer with an iPhone, then an order out for delivery):');
  // Unprefixed, so they paste as they are.
  for (const line of quickstartCommands({ key, api: stack.apiUrl })) process.stdout.write(`  ${line}\n`);
  say('Then look at (the first two in the same shell):');
  for (const line of quickstartLooks({ apiUrl: stack.apiUrl, uiUrl: stack.uiUrl, namespace: config.temporalNamespace })) process.stdout.write(`  ${line}\n`);
}

/**
 * Waits until the worker serves /healthz and its start-up logs have gone quiet for a moment, so the banner is not
 * buried under them (they are mirrored on this output). Gives up quietly after `timeoutMs`.
 */
async function workerSettled(stack: Stack, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastOutput = Date.now();
  const touch = () => (lastOutput = Date.now());
  const out = stack.worker.managed.child.stdout;
  out?.on('data', touch);
  try {
    const healthz = stack.workerMetricsUrl.replace(/\/metrics$/, '/healthz');
    for (;;) {
      if (Date.now() > deadline || stack.worker.managed.hasExited()) return;
      const ok = await fetch(healthz).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    while (Date.now() - lastOutput < 750 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  } finally {
    out?.off('data', touch);
  }
}

/** A plan in a line: `push + email + inapp, then sms if unconfirmed within 5 minutes`. */
function describePlan(plan: ChannelPlan, plans: ChannelPlans): string {
  const then = plan.then.map((step) => `, then ${step.channels.join(' + ')} ${step.when === 'failed' ? 'if that failed' : `if unconfirmed within ${receiptDeadlineOf(plans, step)}`}`);
  return `${plan.channels.join(' + ')}${then.join('')}`;
}

main().catch((err) => {
  const reason = err instanceof StartRefused ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`[herald] failed to start: ${reason}\n`);
  process.exit(1);
});
