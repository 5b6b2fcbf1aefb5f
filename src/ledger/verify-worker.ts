import { parentPort, workerData } from 'node:worker_threads';
import type { JWK } from 'jose';
import { checkChunk, publicKeysOf } from './verify-batch.js';

/** A verification worker thread: checks the runs of events it is sent (verify-pool.ts). */
const keys = publicKeysOf((workerData as { keys: JWK[] }).keys);

interface Job {
  readonly id: number;
  /** COPY text lines, UTF-8; transferred, not copied. */
  readonly bytes: Uint8Array;
  readonly signatures: boolean;
}

parentPort?.on('message', ({ id, bytes, signatures }: Job) => {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const result = checkChunk(text, keys, signatures);
  parentPort?.postMessage({ id, result }, [result.hashes.buffer as ArrayBuffer]);
});
