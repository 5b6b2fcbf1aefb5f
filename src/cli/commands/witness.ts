import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { readWitnessConfig, WitnessConfigError } from '../../witness/witness-config.js';
import { loadOrCreateWitnessKey, witnessVkey } from '../../witness/witness-key.js';
import { createWitnessServer } from '../../witness/witness-server.js';
import { WitnessStore } from '../../witness/witness-store.js';

export interface WitnessKeyOptions {
  readonly config: string;
  readonly stateDir: string;
  readonly keyFile?: string;
}

export interface WitnessServeOptions extends WitnessKeyOptions {
  readonly host: string;
  readonly port: number;
  readonly prefix: string;
}

function keyFileOf(options: WitnessKeyOptions): string {
  return resolve(options.keyFile ?? join(options.stateDir, 'witness-key.pem'));
}

/** Prints the witness's cosignature verifier key, making the key first when there is none. */
export function witnessKey(options: WitnessKeyOptions): void {
  const config = readWitnessConfig(options.config);
  mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
  const { privateKey } = loadOrCreateWitnessKey(keyFileOf(options));
  process.stdout.write(`${witnessVkey(config.name, privateKey)}\n`);
}

/** Serves add-checkpoint and the monitoring checkpoint until SIGTERM or SIGINT. */
export async function witnessServe(options: WitnessServeOptions): Promise<void> {
  const prefix = options.prefix.replace(/\/+$/, '');
  if (prefix !== '' && !/^(\/[A-Za-z0-9._~-]+)+$/.test(prefix))
    throw new WitnessConfigError(`--prefix ${options.prefix}: a URL path such as /witness`);
  const config = readWitnessConfig(options.config);
  mkdirSync(options.stateDir, { recursive: true, mode: 0o700 });
  const keyFile = keyFileOf(options);
  const { privateKey, created } = loadOrCreateWitnessKey(keyFile);
  const store = new WitnessStore(resolve(options.stateDir));
  const log = (line: string): void => {
    process.stdout.write(`witness: ${line}\n`);
  };
  if (created) log(`made a new key in ${keyFile}`);
  log(`vkey ${witnessVkey(config.name, privateKey)}`);
  for (const [origin, keys] of config.logs)
    log(
      `witnessing ${origin} (${keys.length} key${keys.length === 1 ? '' : 's'}), cosigned size ${store.get(origin)?.treeSize ?? 0}`,
    );
  const server = createWitnessServer({ config, store, privateKey, prefix, log });
  await new Promise<void>((listening, failed) => {
    server.once('error', failed);
    server.listen(options.port, options.host, () => {
      listening();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  log(`${config.name} listening on http://${host}:${port}${prefix}`);
  await new Promise<void>((stopped) => {
    const stop = (signal: NodeJS.Signals): void => {
      log(`${signal} received, shutting down`);
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      stopped();
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  server.closeIdleConnections();
  await new Promise<void>((closed) =>
    server.close(() => {
      closed();
    }),
  );
}
