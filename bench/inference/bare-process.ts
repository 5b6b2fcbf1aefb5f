import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BARE_SERVER = fileURLToPath(new URL('./bare-server.js', import.meta.url));

export interface BareProcess {
  readonly url: string;
  readonly pid: number;
  /** SIGTERM; resolves once it has exited (and written a profile, when asked for one). */
  stop(): Promise<void>;
}

/** The bare server (bare-server.ts) as a process of its own; `nodeArgs` go before the script. */
export async function startBareServer(
  modelPath: string,
  nodeArgs: readonly string[] = [],
): Promise<BareProcess> {
  const child = spawn(process.execPath, [...nodeArgs, BARE_SERVER, modelPath], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (data: Buffer) => {
      output += data.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', (code) => {
      reject(new Error(`the bare server exited with ${String(code)}: ${output}`));
    });
  });
  return {
    url,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise((resolve) => {
        child.once('close', () => {
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
