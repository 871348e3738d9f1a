// Kafka for the tests, through the project's own producer (scripts/kafka-produce.ts) in a child process: the client is
// an ES module, which Jest's CommonJS runtime cannot load.
import { spawn } from 'node:child_process';
import { PROJECT_ROOT } from '../../dev/tools';

export interface Produced {
  topic: string;
  sent: number;
  partitions: number[];
  /** From the first send to the last acknowledgement (the producer's start and connection excluded). */
  seconds: number;
}

/**
 * Sends `lines` to `topic`, in order: events (keyed by their orderId), or with `envelope` `{ key, value }` pairs whose
 * value is sent as it is when it is a string (a message that is not JSON).
 */
export function produce(brokers: string, topic: string, lines: unknown[], options: { envelope?: boolean; partitions?: number } = {}): Promise<Produced> {
  const args = ['--import', 'tsx', 'scripts/kafka-produce.ts', '--brokers', brokers, '--topic', topic];
  if (options.envelope) args.push('--envelope');
  if (options.partitions) args.push('--partitions', String(options.partitions));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: PROJECT_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`kafka-produce exited with ${code}: ${err.trim()}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as Produced);
    });
    child.stdin.end(lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n') + '\n');
  });
}

/** The samples of one metric on a Prometheus text page, as { labels, value }. */
export function samples(metricsText: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const found: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of metricsText.split('\n')) {
    const match = new RegExp(`^${name}(?:\\{([^}]*)\\})? (\\S+)$`).exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[pair[1]!] = pair[2]!;
    found.push({ labels, value: Number(match[2]) });
  }
  return found;
}
