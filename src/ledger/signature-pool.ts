import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { JWK } from 'jose';

export interface SignatureJob {
  readonly seq: number;
  /** The exact bytes that were signed: the canonical event (detached JWS payload). */
  readonly payload: string;
  readonly jws: string;
  readonly kid: string;
}

export interface SignatureFailure {
  readonly seq: number;
  readonly detail: string;
}

/**
 * The worker's code, as a self-contained CommonJS script (workers started with `eval` take no
 * module graph, so the same code runs from TypeScript sources under the tests and from dist/).
 * It checks detached JWS (RFC 7515 Appendix F) Ed25519 signatures with node:crypto; the
 * signing input is BASE64URL(protected header) "." BASE64URL(payload).
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const keys = new Map(workerData.keys.map((jwk) => [jwk.kid, createPublicKey({ key: jwk, format: 'jwk' })]));
parentPort.on('message', ({ id, jobs }) => {
  const failures = [];
  for (const job of jobs) {
    const parts = job.jws.split('.');
    if (parts.length !== 3 || parts[1] !== '') { failures.push({ seq: job.seq, detail: 'not a detached compact JWS' }); continue; }
    let header;
    try { header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')); } catch { header = undefined; }
    if (!header || header.alg !== 'EdDSA' || header.kid !== job.kid) {
      failures.push({ seq: job.seq, detail: 'protected header is not {"alg":"EdDSA","kid":"' + job.kid + '"}' });
      continue;
    }
    const key = keys.get(job.kid);
    const input = Buffer.from(parts[0] + '.' + Buffer.from(job.payload, 'utf8').toString('base64url'), 'ascii');
    if (!key || !verify(null, input, key, Buffer.from(parts[2], 'base64url'))) {
      failures.push({ seq: job.seq, detail: 'signature does not verify with key ' + job.kid });
    }
  }
  parentPort.postMessage({ id, failures });
});
`;

interface Pending {
  resolve(failures: SignatureFailure[]): void;
  reject(error: unknown): void;
}

/** Verifies batches of ledger signatures on every core. */
export class SignaturePool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private nextWorker = 0;

  constructor(publicKeys: readonly JWK[], size = availableParallelism()) {
    this.workers = Array.from({ length: Math.max(1, size) }, () => {
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { keys: publicKeys } });
      worker.on('message', ({ id, failures }: { id: number; failures: SignatureFailure[] }) => {
        this.pending.get(id)?.resolve(failures);
        this.pending.delete(id);
      });
      worker.on('error', (error) => {
        for (const p of this.pending.values()) p.reject(error);
        this.pending.clear();
      });
      return worker;
    });
  }

  /** Resolves with the batch's failures (empty when every signature verifies). */
  verify(jobs: readonly SignatureJob[]): Promise<SignatureFailure[]> {
    const id = this.nextId++;
    const worker = this.workers[this.nextWorker++ % this.workers.length];
    if (!worker) return Promise.reject(new Error('no signature worker'));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, jobs });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
