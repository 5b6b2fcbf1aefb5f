import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { verifyEdgeBundle, type EdgeBundle, type EdgeJwks } from './edge-bundle-verify.js';
import type { EdgeArm, EdgeRuntime } from './edge-runtime.js';

/**
 * `gatehouse edge serve --url`: the runtime asks the service for its device's bundle every
 * poll interval, with the digest of the one it runs as `If-None-Match`, and serves a newer one
 * as soon as it has verified it against the pinned keys, written it where a restart reads it
 * and loaded its models (docs/edge.md, "Polling for the bundle"). Nothing here stops serving:
 * the network, the service and a bundle refused are logged, and the bundle in hand answers on.
 */

/** Longest wait between polls while they fail, unless the interval is longer. */
const MAX_BACKOFF_MS = 10 * 60_000;
/** A poll that has not answered by then has failed. */
const POLL_TIMEOUT_MS = 60_000;

/** The ms to wait before the next poll after `failures` failed ones in a row: doubling, capped. */
export function backoffMs(intervalMs: number, failures: number): number {
  if (failures <= 0) return intervalMs;
  return Math.min(intervalMs * 2 ** Math.min(failures, 30), Math.max(intervalMs, MAX_BACKOFF_MS));
}

/**
 * Why `next` may not replace `current`, or null when it may. A bundle of an earlier endpoint
 * state is genuine and verifies, so its signature cannot tell it apart: its checkpoint's tree
 * size can, for a later state's bundle always has a larger one (docs/edge.md, "Never stepping
 * back"). An equal tree size is the same state, under another assignment.
 */
export function replacementRefusal(current: EdgeBundle, next: EdgeBundle): string | null {
  if (next.spec.endpoint !== current.spec.endpoint)
    return `it is of endpoint ${next.spec.endpoint}, this device serves ${current.spec.endpoint}`;
  const was = current.evidence.checkpoint.checkpoint.treeSize;
  const now = next.evidence.checkpoint.checkpoint.treeSize;
  if (now < was)
    return `a step back: its checkpoint tree size ${now} is smaller than ${was} of the bundle served`;
  return null;
}

/** What a bundle gives, in one line: `credit-risk@1 live, credit-risk@2 shadow`. */
export function describeBundle(bundle: EdgeBundle): string {
  const digest = `sha256:${bundle.manifest.subject[0].digest.sha256}`;
  const candidate = bundle.candidate;
  if (!candidate) return `${digest} (live ${bundle.spec.model}@${bundle.spec.version})`;
  const a = candidate.assignment;
  const arms =
    a.mode === 'canary'
      ? `candidate ${candidate.spec.model}@${candidate.spec.version}`
      : `live ${bundle.spec.model}@${bundle.spec.version}, shadow ${candidate.spec.model}@${candidate.spec.version}`;
  return `${digest} (${arms}; ${a.mode}, stage ${a.stage} of rollout ${a.rolloutId})`;
}

/**
 * Writes `bytes` to `path` so that a reader, a crash or a power cut finds the old file or the
 * new one whole: a temporary file beside it, synced, renamed over it, the directory synced.
 */
export function writeFileAtomically(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    const fd = openSync(temporary, 'w', 0o644);
    try {
      let at = 0;
      while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
  const directory = openSync(dirname(path), 'r');
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
}

export interface EdgeBundlePollerOptions {
  /** The service's base URL, ending in `/`. */
  readonly url: string;
  readonly deviceId: string;
  readonly intervalMs: number;
  /** The device's bearer token, read at each poll: a rotated token file is picked up. */
  readonly token: () => Promise<string>;
  readonly jwks: EdgeJwks;
  /** The bundle file the runtime was started with; a newer bundle replaces it. */
  readonly bundlePath: string;
  readonly bundle: EdgeBundle;
  readonly runtime: EdgeRuntime;
  readonly load: (bundle: EdgeBundle) => Promise<EdgeArm[]>;
  readonly say: (line: string) => void;
  readonly warn: (line: string) => void;
}

export class EdgeBundlePoller {
  private bundle: EdgeBundle;
  private stopped = false;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private readonly abort = new AbortController();

  constructor(private readonly options: EdgeBundlePollerOptions) {
    this.bundle = options.bundle;
  }

  /** Polls at once, then every interval (longer while polls fail), until stopped. */
  start(): void {
    this.loop ??= this.run();
  }

  /** Ends polling; a poll under way is cut short and a bundle it loaded is not swapped in. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.loop;
  }

  private get digest(): string {
    return this.bundle.manifest.subject[0].digest.sha256;
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        await this.pollOnce();
        failures = 0;
      } catch (error) {
        // A poll cut short by stop() is no failure to report.
        if (this.abort.signal.aborted) return;
        failures++;
        const wait = backoffMs(this.options.intervalMs, failures);
        this.options.warn(
          `polling ${this.options.url} for the bundle failed (${failures} in a row): ${messageOf(error)}; still serving sha256:${this.digest}, next poll in ${Math.round(wait / 1000)}s`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, backoffMs(this.options.intervalMs, failures));
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private async pollOnce(): Promise<void> {
    const { url, deviceId, jwks } = this.options;
    const endpoint = this.bundle.spec.endpoint;
    const where = new URL(
      `v1/edge/${encodeURIComponent(endpoint)}/bundle?device=${encodeURIComponent(deviceId)}`,
      url,
    );
    const response = await fetch(where, {
      headers: {
        authorization: `Bearer ${await this.options.token()}`,
        'if-none-match': `"${this.digest}"`,
      },
      signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(POLL_TIMEOUT_MS)]),
    });
    if (response.status === 304) return;
    if (response.status !== 200)
      throw new Error(`the service answered ${response.status}: ${await problemOf(response)}`);
    const bytes = new Uint8Array(await response.arrayBuffer());
    const verified = await verifyEdgeBundle(bytes, jwks);
    if (!verified.ok)
      throw new Error(
        `the bundle it sent does not verify against the pinned JWK set (${verified.code}): ${verified.file}: ${verified.reason}`,
      );
    const next = verified.bundle;
    if (next.manifest.subject[0].digest.sha256 === this.digest) return;
    const refusal = replacementRefusal(this.bundle, next);
    if (refusal) {
      this.options.warn(
        `refused bundle ${describeBundle(next)} from ${url}: ${refusal}; still serving sha256:${this.digest}`,
      );
      return;
    }
    const arms = await this.options.load(next);
    try {
      if (this.stopped) throw new Error('stopping');
      // Written before it serves: a restart must not come back on the bundle it replaced.
      writeFileAtomically(this.options.bundlePath, bytes);
    } catch (error) {
      await Promise.allSettled(arms.map((a) => a.session.release()));
      if (this.stopped) return;
      throw error;
    }
    this.options.runtime.swap(arms);
    this.bundle = next;
    this.options.say(`now serving bundle ${describeBundle(next)}`);
  }
}

async function problemOf(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') return body.error.message;
  } catch {
    // Not the service's error body: a proxy's page, say. Its start says enough.
  }
  return text.slice(0, 200) || response.statusText;
}

function messageOf(error: unknown): string {
  if (error instanceof TypeError && error.message === 'fetch failed') {
    const cause = (error as { cause?: unknown }).cause;
    return `the service could not be reached: ${cause instanceof Error ? cause.message : 'no answer'}`;
  }
  return error instanceof Error ? error.message : String(error);
}
