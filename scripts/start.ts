// `npm start`: the whole of Herald on one machine. Starts what is not configured (Temporal dev server
// with its Web UI, embedded PostgreSQL), then the worker and the API; Ctrl-C stops all of it.
import fs from 'node:fs';
import path from 'node:path';
import { generateKey } from '../api/auth';
import { loadConfig } from '../lib/config';
import { startStack, type Stack } from '../lib/stack';
import { ensureTools } from '../lib/tools';

const say = (line: string) => process.stdout.write(`[herald] ${line}\n`);

function adminKey(dataDir: string): { key: string; origin: string } {
  if (process.env.HERALD_ADMIN_KEY) return { key: process.env.HERALD_ADMIN_KEY, origin: 'HERALD_ADMIN_KEY' };
  const file = path.join(dataDir, 'admin-key');
  if (fs.existsSync(file)) return { key: fs.readFileSync(file, 'utf8').trim(), origin: file };
  const key = generateKey();
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, origin: `${file} (generated now)` };
}

async function main(): Promise<void> {
  const config = loadConfig();
  const dataDir = path.resolve(config.dataDir);
  fs.mkdirSync(dataDir, { recursive: true });
  const embeddedTemporal = !process.env.TEMPORAL_ADDRESS;
  if (embeddedTemporal) await ensureTools({ log: say });

  const { key, origin } = adminKey(dataDir);
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

  stack = await startStack({
    dataDir,
    persistent: true,
    temporalAddress: process.env.TEMPORAL_ADDRESS,
    temporalNamespace: config.temporalNamespace,
    temporalPort: Number(process.env.TEMPORAL_PORT ?? 7233),
    temporalUiPort: Number(process.env.TEMPORAL_UI_PORT ?? 8233),
    databaseUrl: config.databaseUrl,
    postgresPort: Number(process.env.EMBEDDED_PG_PORT ?? 5433),
    apiPort: config.port,
    workerMetricsPort: Number(process.env.HERALD_WORKER_METRICS_PORT ?? 9464),
    adminKey: key,
    echo: true,
    log: say,
  });
  for (const proc of [stack.worker, stack.api]) {
    void proc.managed.exited.then((exit) => shutdown(`${proc.role} exited (${exit.signal ?? exit.code})`, 1));
  }

  say('');
  say(`API:           ${stack.apiUrl}   (try: curl -H "Authorization: Bearer $KEY" ${stack.apiUrl}/readyz)`);
  say(`Temporal UI:   ${stack.uiUrl ?? `not embedded; Temporal at ${stack.temporalAddress}`}`);
  say(`Metrics:       ${stack.apiUrl}/metrics (API), ${stack.workerMetricsUrl} (worker, with Temporal SDK metrics)`);
  say(`Admin API key: ${key}   (from ${origin})`);
  const pgData = stack.postgresData;
  say(`PostgreSQL:    ${!pgData ? 'DATABASE_URL' : `embedded, data in ${pgData.dir}${pgData.relocatedBecause ? ` (${path.join(dataDir, 'pg')} links there: the postgres OS user cannot enter ${pgData.relocatedBecause})` : ''}`}`);
  say(`APNs:          ${config.apns ? `live (${config.apns.production ? 'production' : 'sandbox'} host${config.apns.endpoint ? `, endpoint ${config.apns.endpoint}` : ''})` : 'sandbox mode (no APNS_KEY_FILE): pushes are logged, not sent'}`);
  say(`FCM:           ${config.fcm ? `live${config.fcm.endpoint ? ` (endpoint ${config.fcm.endpoint})` : ''}` : 'sandbox mode (no FCM_CREDENTIALS_FILE): pushes are logged, not sent'}`);
  say(`Web Push:      ${config.webPush ? 'live (VAPID)' : 'sandbox mode (no VAPID_PUBLIC_KEY): pushes are logged, not sent'}`);
  say(`Email:         ${config.smtp ? `live (SMTP ${new URL(config.smtp.url).host}${config.smtp.fallbackUrl ? `, fallback ${new URL(config.smtp.fallbackUrl).host}` : ''})` : 'sandbox mode (no SMTP_URL): emails are logged, not sent'}`);
  say(`SMS:           ${config.twilio ? `live (Twilio${config.twilio.endpoint ? `, endpoint ${config.twilio.endpoint}` : ''})` : 'sandbox mode (no TWILIO_ACCOUNT_SID): SMS are logged, not sent'}`);
  say(`Fallback:      critical → ${config.escalation.critical.fallback.join(' + ') || 'none'} after ${config.escalation.critical.receiptDeadline ?? 'no'} receipt wait; routine → ${config.escalation.routine.fallback.join(' + ') || 'none'}`);
  say(`Logs:          ${path.join(dataDir, 'logs')}   Ctrl-C stops everything.`);
}

main().catch((err) => {
  process.stderr.write(`[herald] failed to start: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
