import { resolve } from 'node:path';
import { runDemo } from '../../demo/demo.js';

export interface DemoCommandOptions {
  readonly dataDir?: string;
  readonly databaseUrl?: string;
  readonly keepServing?: boolean;
  readonly port?: number;
}

/**
 * `gatehouse demo`: the governance story end to end (src/demo/demo.ts). Its own data folder
 * (a new one per run unless given) and, unless --database-url names a server, its own embedded
 * PostgreSQL there: DATABASE_URL is not read, so the demo never writes into a real database.
 */
export async function demo(options: DemoCommandOptions): Promise<void> {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dataDir = resolve(options.dataDir ?? `gatehouse-demo/${stamp}`);
  const result = await runDemo({
    dataDir,
    ...(options.databaseUrl === undefined ? {} : { databaseUrl: options.databaseUrl }),
    ...(options.keepServing
      ? { keepServing: { port: options.port ?? 3000, untilStopped: signalled } }
      : {}),
    write: (line) => process.stdout.write(`${line}\n`),
  });
  process.exitCode = result.ok ? 0 : 1;
}

/**
 * Resolves at the next SIGINT or SIGTERM, which then ends the demo's service cleanly. Listened
 * for only once the story is told: a Ctrl-C during it stops the process as usual.
 */
function signalled(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
