import { parentPort, workerData } from 'node:worker_threads';
import { BadInputError } from '../common/errors.js';
import {
  ChunkQueue,
  type FromOnePassThread,
  type OnePassLimits,
  type ToOnePassThread,
} from './csv-one-pass-run.js';
import { csvColumnarOnePass } from './csv-one-pass.js';

/**
 * A thread reading one CSV upload in one pass (csv-one-pass-run.ts starts it): the upload's
 * bytes arrive as they are received, each message acknowledged once read; the columnar file
 * leaves in pieces, at most PIECES_AHEAD of them unconsumed.
 */
const PIECES_AHEAD = 2;

const { limits } = workerData as { limits: OnePassLimits };
const port = parentPort;
const input = new ChunkQueue((bytes) => {
  send({ type: 'taken', bytes });
});
let ahead = 0;
let more: (() => void) | undefined;

port?.on('message', (message: ToOnePassThread) => {
  switch (message.type) {
    case 'bytes':
      input.push(Buffer.from(message.bytes.buffer, message.bytes.byteOffset, message.bytes.length));
      break;
    case 'end':
      input.end();
      break;
    case 'more': {
      ahead--;
      const wake = more;
      more = undefined;
      wake?.();
      break;
    }
  }
});

function send(message: FromOnePassThread, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

/** A piece of its own buffer (not a view into a pool or a larger buffer), to be transferred. */
function owned(piece: Uint8Array): Uint8Array {
  return piece.byteOffset === 0 && piece.byteLength === piece.buffer.byteLength
    ? piece
    : new Uint8Array(piece);
}

async function read(): Promise<void> {
  const pieces = csvColumnarOnePass(input, limits);
  for (;;) {
    const next = await pieces.next();
    if (next.done === true) {
      send({ type: 'done', verdict: next.value });
      return;
    }
    while (ahead >= PIECES_AHEAD)
      await new Promise<void>((resolve) => {
        more = resolve;
      });
    const piece = owned(next.value);
    ahead++;
    send({ type: 'columns', bytes: piece }, [piece.buffer as ArrayBuffer]);
  }
}

read().catch((error: unknown) => {
  if (error instanceof BadInputError)
    send({
      type: 'refused',
      field: error.field,
      message: error.message,
      details: { ...error.details },
    });
  else send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
});
