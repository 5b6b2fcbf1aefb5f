import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { issueDevToken, loadOrCreateDevIssuerKey } from '../../src/auth/dev-issuer.js';
import { serveFlags } from '../../src/cli/serve-flags.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface BenchService {
  readonly child: ChildProcess;
  readonly url: string;
  token(sub: string, ...roles: string[]): Promise<string>;
  /** Resident memory of the service process now, from /proc (bytes). */
  rss(): number;
  stop(): Promise<void>;
}

/**
 * `gatehouse serve` as its own process (built code in dist/), so that its memory can be read
 * from /proc apart from the benchmark's. Development mode: the dev issuer signs tokens.
 * `main`: another build's `dist/src/cli/main.js` (bench/inference/compare.ts).
 */
export async function startBenchService(
  env: Record<string, string>,
  dataDir: string,
  main: string = MAIN,
): Promise<BenchService> {
  // The Node.js flags bin/gatehouse.js starts `serve` with. Not through bin/gatehouse.js
  // itself: that starts OpenTelemetry's instrumentations too, which bench/inference compares
  // apart (BENCH_TRACING).
  const flags = serveFlags(Number(process.versions.node.split('.')[0]));
  const child = spawn(process.execPath, [...flags, main, 'serve'], {
    env: {
      PATH: process.env['PATH'] ?? '',
      NODE_ENV: 'development',
      GATEHOUSE_PORT: '0',
      GATEHOUSE_DATA_DIR: dataDir,
      GATEHOUSE_CHECKPOINT_INTERVAL_SECONDS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`gatehouse serve did not start:\n${output}`));
    }, 60_000);
    const onData = (data: Buffer): void => {
      output += data.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gatehouse serve exited with ${String(code)}:\n${output}`));
    });
  });
  const key = await loadOrCreateDevIssuerKey(dataDir);
  return {
    child,
    url,
    token: (sub, ...roles) =>
      issueDevToken(key, {
        sub,
        roles,
        ttlSeconds: 3600,
        audience: 'gatehouse',
        rolesClaim: 'roles',
      }),
    rss: () => residentBytes(child.pid ?? 0),
    stop: () =>
      new Promise((resolve) => {
        child.once('close', () => {
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

export function residentBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kb ?? 0) * 1024;
}

export const MB = 2 ** 20;
