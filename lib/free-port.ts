// A free loopback port, for a server this process is about to start (the worker's SDK metrics, the
// embedded servers of npm start and the tests).
import net from 'node:net';

/** The ports freePort draws from. */
export const FREE_PORTS: readonly [number, number] = [20000, 32767];

/**
 * A port that is free now, drawn from 20000–32767: below Linux's ephemeral range (32768–60999), so the
 * outgoing connections made while a stack starts (PostgreSQL, Temporal, gRPC) can never be given the
 * port between this check and the server that binds it. A port the kernel picked (`listen(0)`) comes
 * from that very range and could be; that race once made the API fail with EADDRINUSE. `range` narrows
 * the draw to part of FREE_PORTS (see dev/embedded.ts's freePort).
 */
export async function freePort(host = '127.0.0.1', [low, high]: readonly [number, number] = FREE_PORTS): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low + 1));
    if (await canListen(port, host)) return port;
  }
  throw new Error(`could not find a free port in ${low}-${high}`);
}

function canListen(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

