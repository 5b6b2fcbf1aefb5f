import { resolve } from 'node:path';
import { runDemo } from '../../demo/demo.js';

export interface DemoCommandOptions {
  readonly dataDir?: string;
  readonly databaseUrl?: string;
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
    write: (line) => process.stdout.write(`${line}\n`),
  });
  process.exitCode = result.ok ? 0 : 1;
}
