import { createHash, type Hash } from 'node:crypto';
import { flattenTensorData } from '../inference/oip-tensors.js';
import type { LoggedTensor, PredictionRecord } from './prediction.js';
import { serializePrediction } from './prediction-digest.js';

/**
 * A prediction as the request path queues it, in the form cheapest to hand to another thread:
 * the inputs stay the request's JSON body (the bytes as received) until they are serialized,
 * off the request path and, in the service, off the event loop (serializer-thread.ts); the
 * outputs (a few values) travel as their JSON text. Null body: no inputs logged (a shadow
 * request that did not fit the candidate); null outputs: the model failed.
 */
export interface QueuedPrediction extends Omit<PredictionRecord, 'inputs' | 'outputs'> {
  readonly body: Uint8Array | null;
  /** JSON of the logged outputs (LoggedTensor[]). */
  readonly outputs: string | null;
}

/** A batch ready to be written: its COPY rows (without the batch id) and its digest. */
export interface PreparedBatch {
  readonly endpoint: string;
  readonly count: number;
  /**
   * The COPY rows, back to back: per prediction the fields after `batch_id`, tab-separated,
   * newline-terminated, in UTF-8. Row `i` ends at `ends[i]`.
   */
  readonly bytes: Uint8Array;
  readonly ends: Int32Array;
  readonly sha256: string;
}

/**
 * The logged inputs of a request: its `inputs`, in the order sent, each tensor's data flat
 * and row-major as the request's checks read it (the body was checked before it got here).
 */
export function loggedInputsOf(body: Uint8Array | null): LoggedTensor[] {
  if (body === null) return [];
  const parsed = JSON.parse(
    Buffer.from(body.buffer, body.byteOffset, body.length).toString('utf8'),
  ) as {
    inputs: { name: string; datatype: string; shape: number[]; data: unknown }[];
  };
  return parsed.inputs.map((t) => ({
    data: flattenTensorData(t.data, t.shape) as LoggedTensor['data'],
    datatype: t.datatype,
    name: t.name,
    shape: t.shape,
  }));
}

const INITIAL_BYTES = 256 * 1024;

/**
 * One endpoint's batch as predictions join it. Each prediction is serialized once, when it
 * is added: its canonical line goes into the running digest at once, and only its COPY row
 * is kept until the batch is written — as bytes in one buffer outside the JavaScript heap.
 */
class OpenBatch {
  private readonly hash: Hash = createHash('sha256');
  private bytes = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  private used = 0;
  private ends: number[] = [];

  constructor(readonly endpoint: string) {}

  get count(): number {
    return this.ends.length;
  }

  add(p: PredictionRecord): void {
    const { line, copyRow } = serializePrediction(p);
    this.hash.update(`${line}\n`, 'utf8');
    const length = Buffer.byteLength(copyRow, 'utf8');
    if (this.used + length > this.bytes.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(this.bytes.length * 2, this.used + length));
      this.bytes.copy(grown, 0, 0, this.used);
      this.bytes = grown;
    }
    this.used += this.bytes.write(copyRow, this.used, 'utf8');
    this.ends.push(this.used);
  }

  seal(): PreparedBatch {
    return {
      endpoint: this.endpoint,
      count: this.ends.length,
      bytes: new Uint8Array(this.bytes.buffer, this.bytes.byteOffset, this.used),
      ends: Int32Array.from(this.ends),
      sha256: this.hash.digest('hex'),
    };
  }
}

/**
 * Queued predictions into sealed batches, one open batch per endpoint, closed when it holds
 * `batchRows` or when asked. Pure apart from hashing: the same code runs on the serializer's
 * thread and, where there is none (tests from TypeScript sources), on the event loop.
 */
export class BatchAssembler {
  private readonly open = new Map<string, OpenBatch>();

  constructor(private readonly batchRows: number) {}

  /**
   * Adds predictions in order; returns the batches this filled and the predictions that
   * could not be serialized (each with the reason).
   */
  add(items: readonly QueuedPrediction[]): {
    sealed: PreparedBatch[];
    failed: string[];
  } {
    const sealed: PreparedBatch[] = [];
    const failed: string[] = [];
    for (const item of items) {
      let batch = this.open.get(item.endpoint);
      if (!batch) {
        batch = new OpenBatch(item.endpoint);
        this.open.set(item.endpoint, batch);
      }
      try {
        batch.add({
          ...item,
          inputs: loggedInputsOf(item.body),
          outputs:
            item.outputs === null
              ? null
              : (JSON.parse(item.outputs) as PredictionRecord['outputs']),
        });
      } catch (error) {
        failed.push(error instanceof Error ? error.message : String(error));
        continue;
      }
      if (batch.count >= this.batchRows) {
        this.open.delete(item.endpoint);
        sealed.push(batch.seal());
      }
    }
    return { sealed, failed };
  }

  /** Seals every open batch that holds a prediction. */
  closeAll(): PreparedBatch[] {
    const sealed = [...this.open.values()].filter((b) => b.count > 0).map((b) => b.seal());
    this.open.clear();
    return sealed;
  }
}
