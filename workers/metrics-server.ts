import http from 'node:http';
import { registry } from '../lib/metrics';

/**
 * The worker's one scrape target: Herald's metrics plus the Temporal SDK's own (served by the SDK's
 * exporter on a loopback port and appended here), and /healthz.
 */
export async function startWorkerMetricsServer(port: number, sdkMetricsUrl: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.url === '/healthz') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
        return;
      }
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      const ours = await registry.metrics();
      const sdk = await fetch(sdkMetricsUrl)
        .then((r) => (r.ok ? r.text() : ''))
        .catch(() => '');
      res.writeHead(200, { 'content-type': registry.contentType }).end(`${ours}\n${sdk}`);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', resolve);
  });
  return server;
}
