import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export { freePort } from './free-port.js';

export const BIN = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `gatehouse ARGS` (the built CLI) to completion with the given environment. */
export function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  timeoutMs = 60_000,
  cwd?: string,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: cleanEnv(env),
      ...(cwd === undefined ? {} : { cwd }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gatehouse ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ServingProcess {
  readonly child: ChildProcess;
  readonly url: string;
  output(): string;
  /** What it wrote to stderr alone. */
  errorOutput(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `gatehouse serve` (after `nodeArgs`) and resolves once it prints its address. */
export function startServe(
  env: Record<string, string | undefined>,
  timeoutMs = 60_000,
  nodeArgs: readonly string[] = [],
): Promise<ServingProcess> {
  return startLongRunning(['serve'], env, /listening on (http:\/\/\S+)/, timeoutMs, nodeArgs);
}

/**
 * Starts a `gatehouse` command that keeps running, and resolves once its output matches `ready`,
 * whose first group is the URL it serves at.
 */
export function startLongRunning(
  args: readonly string[],
  env: Record<string, string | undefined>,
  ready: RegExp,
  timeoutMs = 60_000,
  nodeArgs: readonly string[] = [],
): Promise<ServingProcess> {
  const command = `gatehouse ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, BIN, ...args], {
      env: cleanEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let errorOutput = '';
    const exited = new Promise<number | null>((r) =>
      child.on('close', (code) => {
        r(code);
      }),
    );
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} was not ready in time: ${output}`));
    }, timeoutMs);
    const onData = (d: Buffer): void => {
      output += d.toString();
      const match = ready.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve({
          child,
          url: match[1],
          output: () => output,
          errorOutput: () => errorOutput,
          stop: (signal = 'SIGTERM') => {
            child.kill(signal);
            return exited;
          },
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (d: Buffer) => {
      errorOutput += d.toString();
      onData(d);
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}: ${output}`));
    });
  });
}

/** The parent's environment minus anything Gatehouse reads, plus the given variables. */
export function cleanEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !k.startsWith('GATEHOUSE_') && k !== 'DATABASE_URL' && k !== 'NODE_ENV',
    ),
  );
  return { ...base, NODE_ENV: 'test', ...env };
}

/** A gauge's value in a service's Prometheus metrics (`GET /metrics`); 0 when it has none yet. */
export async function metricValue(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.split(' ')[1]);
}
