import { parentPort, workerData } from 'node:worker_threads';
import type { JWK } from 'jose';
import { checkChunk, publicKeysOf } from './verify-batch.js';

/** A verification worker thread: checks the runs of events it is sent (verify-pool.ts). */
const keys = publicKeysOf((workerData as { keys: JWK[] }).keys);
parentPort?.on(
  'message',
  ({ id, text, signatures }: { id: number; text: string; signatures: boolean }) => {
    const result = checkChunk(text, keys, signatures);
    parentPort?.postMessage({ id, result }, [result.hashes.buffer as ArrayBuffer]);
  },
);
