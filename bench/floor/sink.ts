// The floor's provider: a local HTTP server that takes each notification's POST and tells the bench when it arrived.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FloorEvent } from './activities';

export interface FloorSink {
  url: string;
  onNotified(listener: (event: FloorEvent, receivedAt: number) => void): () => void;
  close(): Promise<void>;
}

export async function startFloorSink(): Promise<FloorSink> {
  const listeners = new Set<(event: FloorEvent, receivedAt: number) => void>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const receivedAt = Date.now();
      try {
        const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as FloorEvent;
        for (const listener of listeners) listener(event, receivedAt);
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/notify`,
    onNotified(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
