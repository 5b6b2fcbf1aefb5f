/**
 * `gatehouse edge serve BUNDLE --jwks FILE`: serves a bundle's model on the device, with no
 * database and, unless `--url` names the service to poll for newer bundles, no network to
 * Gatehouse. The bundle is verified against the pinned JWK set before anything else; every
 * prediction goes into the device log (docs/edge.md).
 *
 * Loaded on its own by the command (no Nest, no TypeORM, no GraphQL client): it starts in the
 * time it takes to verify the bundle and load the model.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { verifyEdgeBundle, type EdgeJwks } from '../../edge/edge-bundle-verify.js';
import { DeviceLogFile, DeviceLogFileError } from '../../edge/device-log-file.js';
import { isDeviceId } from '../../edge/device-log.js';
import { armsOf, EdgeRuntime } from '../../edge/edge-runtime.js';
import { EdgeBundlePoller } from '../../edge/edge-bundle-poller.js';
import { EXIT } from '../exit.js';

export interface EdgeServeOptions {
  readonly jwks: string;
  readonly port: number;
  readonly host: string;
  readonly log?: string;
  readonly device?: string;
  /** The service to poll for the device's bundle; without it, the runtime never asks. */
  readonly url?: string;
  readonly tokenFile?: string;
  /** Seconds between polls. */
  readonly pollInterval: number;
}

/** A mistake in what the command was given: status 2 and one line naming the file. */
class UsageError extends Error {}

function readFile(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new UsageError(
      `${what}: ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
}

function pinnedJwks(path: string): EdgeJwks {
  let value: unknown;
  try {
    value = JSON.parse(readFile(path, '--jwks').toString('utf8'));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--jwks: ${path}: not JSON`);
  }
  if (typeof value !== 'object' || value === null || !Array.isArray((value as EdgeJwks).keys))
    throw new UsageError(`--jwks: ${path}: not a JWK set ({"keys": [...]})`);
  return value as EdgeJwks;
}

/**
 * The service's URL and the device's token, checked before anything is served. Loaded only
 * with --url: a runtime that does not poll never reads credentials.
 */
async function pollingFrom(
  options: EdgeServeOptions,
): Promise<{ url: string; token: () => Promise<string> } | undefined> {
  if (options.url === undefined) return undefined;
  const { serviceUrl, RemoteUrlError } = await import('../remote/remote.js');
  const { bearerToken, CredentialsError } = await import('../remote/credentials.js');
  const token = () => bearerToken({ tokenFile: options.tokenFile });
  try {
    const url = serviceUrl({ url: options.url });
    await token();
    return { url, token };
  } catch (error) {
    if (error instanceof RemoteUrlError || error instanceof CredentialsError)
      throw new UsageError(error.message);
    throw error;
  }
}

export async function edgeServe(bundlePath: string, options: EdgeServeOptions): Promise<void> {
  let runtime: EdgeRuntime;
  let poller: EdgeBundlePoller | undefined;
  let url: string;
  try {
    const deviceId = options.device ?? hostname();
    if (!isDeviceId(deviceId))
      throw new UsageError(
        `--device: ${JSON.stringify(deviceId)} is not a device id (letters, digits and . _ : @ -, at most 128, starting with a letter or digit)`,
      );
    const jwks = pinnedJwks(options.jwks);
    const polling = await pollingFrom(options);
    const bytes = readFile(bundlePath, 'bundle');
    const verified = await verifyEdgeBundle(new Uint8Array(bytes), jwks);
    if (!verified.ok)
      throw new UsageError(
        `${bundlePath}: the bundle does not verify against ${options.jwks} (${verified.code}): ${verified.file}: ${verified.reason}`,
      );
    const { spec } = verified.bundle;
    const logPath = resolve(options.log ?? `${spec.endpoint}.device-log.ndjson`);
    const log = DeviceLogFile.open(logPath, deviceId, (warning) => {
      process.stderr.write(`gatehouse: warning: ${warning}\n`);
    });
    try {
      runtime = new EdgeRuntime({ arms: await armsOf(verified.bundle), log });
      url = await runtime.listen(options.port, options.host);
    } catch (error) {
      log.close();
      throw error;
    }
    process.stdout.write(
      `edge runtime: ${spec.model}@${spec.version} on endpoint ${spec.endpoint} (bundle sha256:${verified.bundle.manifest.subject[0].digest.sha256}), device ${deviceId}, log ${logPath} at seq ${log.position.seq}\n` +
        `listening on ${url}\n`,
    );
    if (polling) {
      process.stdout.write(
        `polling ${polling.url} for the bundle of device ${deviceId} every ${options.pollInterval}s\n`,
      );
      poller = new EdgeBundlePoller({
        url: polling.url,
        deviceId,
        intervalMs: options.pollInterval * 1000,
        token: polling.token,
        jwks,
        bundlePath: resolve(bundlePath),
        bundle: verified.bundle,
        runtime,
        load: armsOf,
        say: (line) => process.stdout.write(`${line}\n`),
        warn: (line) => process.stderr.write(`gatehouse: warning: ${line}\n`),
      });
      poller.start();
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`gatehouse: ${message}\n`);
    process.exit(
      error instanceof UsageError || error instanceof DeviceLogFileError ? EXIT.usage : EXIT.failed,
    );
  }
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void (poller?.stop() ?? Promise.resolve())
      .then(() => runtime.close())
      .then(
        () => process.exit(EXIT.ok),
        (error: unknown) => {
          process.stderr.write(
            `gatehouse: ${error instanceof Error ? error.message : String(error)}\n`,
          );
          process.exit(EXIT.failed);
        },
      );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
