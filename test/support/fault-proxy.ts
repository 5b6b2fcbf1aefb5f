import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between the service and the shared test PostgreSQL that plays a database
 * outage for the service alone: the real server, which other test files use at the same
 * time, is never stopped.
 *
 * - `pause()`: the sockets stay open and nothing is forwarded either way, as when the server
 *   process is stopped (SIGSTOP) or the network drops packets: connects succeed, queries never
 *   answer. What arrives meanwhile is held and delivered on `resume()`.
 * - `kill()`: every connection is cut and new ones are cut as soon as they arrive, as when the
 *   server died.
 * - `resume()`: forwarding again; new connections reach the server.
 */
export interface FaultProxy {
  readonly port: number;
  /** `url` (a PostgreSQL URL) with its host and port replaced by the proxy's. */
  route(url: string): string;
  pause(): void;
  kill(): void;
  resume(): void;
  /** Connections cut by `kill()` so far. */
  readonly killed: number;
  close(): Promise<void>;
}

interface Pair {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Chunks that arrived while paused, in order, each with where it goes. */
  held: { to: Socket; chunk: Buffer }[];
}

type State = 'forwarding' | 'paused' | 'killed';

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let state: State = 'forwarding';
  let killed = 0;
  const pairs = new Set<Pair>();

  const cut = (pair: Pair): void => {
    pairs.delete(pair);
    pair.client.destroy();
    pair.upstream.destroy();
  };
  const forward = (pair: Pair, from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => {
      if (state === 'paused') pair.held.push({ to, chunk });
      else if (state === 'forwarding') to.write(chunk);
    });
    from.on('close', () => {
      cut(pair);
    });
    // A cut connection's sockets report ECONNRESET and the like: that is the point.
    from.on('error', () => {
      cut(pair);
    });
  };

  const server: Server = createServer((client) => {
    if (state === 'killed') {
      killed++;
      client.destroy();
      return;
    }
    const upstream = connect(target.port, target.host);
    const pair: Pair = { client, upstream, held: [] };
    pairs.add(pair);
    forward(pair, client, upstream);
    forward(pair, upstream, client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
  const port = address.port;

  return {
    port,
    get killed() {
      return killed;
    },
    route(url) {
      const routed = new URL(url);
      routed.hostname = '127.0.0.1';
      routed.port = String(port);
      return routed.toString();
    },
    pause() {
      state = 'paused';
    },
    kill() {
      state = 'killed';
      for (const pair of [...pairs]) {
        killed++;
        cut(pair);
      }
    },
    resume() {
      state = 'forwarding';
      for (const pair of pairs) {
        for (const { to, chunk } of pair.held) to.write(chunk);
        pair.held = [];
      }
    },
    async close() {
      for (const pair of [...pairs]) cut(pair);
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
}
