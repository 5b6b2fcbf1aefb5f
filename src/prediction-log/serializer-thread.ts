import { Worker } from 'node:worker_threads';
import { BatchAssembler, type PreparedBatch, type QueuedPrediction } from './batch-assembler.js';

export type ToSerializer =
  | { readonly type: 'add'; readonly items: PackedPredictions }
  | { readonly type: 'close'; readonly seq: number };

/**
 * Predictions as one flat array of their fields, each body a view into one buffer. A message
 * of objects serializes every property name of every object again; this is a third of that.
 */
export interface PackedPredictions {
  readonly fields: readonly (string | number | null | Uint8Array)[];
  readonly bodies: Uint8Array;
}

const FIELDS = 10;

export function packPredictions(items: readonly QueuedPrediction[]): PackedPredictions {
  let total = 0;
  for (const item of items) total += item.body?.length ?? 0;
  // The bodies are copied into one buffer that is moved, not cloned: a request's body is a
  // view into a larger buffer (the socket's reads, a pool), and a message carrying the view
  // would copy all of that buffer.
  const bodies = new Uint8Array(total);
  const fields: (string | number | null | Uint8Array)[] = [];
  let at = 0;
  for (const item of items) {
    let body: Uint8Array | null = null;
    if (item.body !== null) {
      body = bodies.subarray(at, at + item.body.length);
      body.set(item.body);
      at += item.body.length;
    }
    fields.push(
      item.requestId,
      item.endpoint,
      item.modelVersion,
      item.arm,
      body,
      item.outputs,
      item.error,
      item.latencyMs,
      item.routingKeyHash,
      item.createdAt.getTime(),
    );
  }
  return { fields, bodies };
}

export function unpackPredictions(packed: PackedPredictions): QueuedPrediction[] {
  const { fields } = packed;
  const items: QueuedPrediction[] = [];
  for (let i = 0; i + FIELDS <= fields.length; i += FIELDS) {
    const f = (k: number) => fields[i + k] ?? null;
    items.push({
      requestId: f(0) as string,
      endpoint: f(1) as string,
      modelVersion: f(2) as number,
      arm: f(3) as QueuedPrediction['arm'],
      body: f(4) as Uint8Array | null,
      outputs: f(5) as string | null,
      error: f(6) as string | null,
      latencyMs: f(7) as number,
      routingKeyHash: f(8) as string | null,
      createdAt: new Date(f(9) as number),
    });
  }
  return items;
}

type FromSerializer =
  | { readonly type: 'sealed'; readonly batch: PreparedBatch }
  | { readonly type: 'failed'; readonly reasons: readonly string[] }
  | { readonly type: 'closed'; readonly seq: number };

export interface SerializerEvents {
  /** A batch is sealed and ready to be written. */
  sealed(batch: PreparedBatch): void;
  /** Predictions that could not be serialized, or were lost with a failed thread. */
  lost(count: number, reason: string): void;
}

/**
 * Where queued predictions become sealed batches: a worker thread of the service's own, so
 * that parsing the inputs, serializing each prediction into its canonical line and COPY row,
 * and hashing take no time from the event loop that answers requests. The event loop only
 * hands over each turn's predictions in one message — the request's JSON body as it arrived
 * plus a few fields, about half a microsecond each, against 8–9 µs to serialize and hash one
 * there (and the garbage of it) — and gets each sealed batch back as one transferred buffer.
 *
 * From TypeScript sources (under Jest) there is no compiled worker file, and the same
 * BatchAssembler runs on the event loop instead. If the thread dies, the predictions it held
 * are counted as lost and a new one is started.
 */
export class PredictionSerializer {
  private worker: Worker | undefined;
  private readonly local: BatchAssembler | undefined;
  /** Predictions handed over and not yet back in a sealed batch or reported lost. */
  private held = 0;
  private seq = 0;
  private readonly closing = new Map<number, () => void>();
  private stopping = false;

  constructor(
    private readonly batchRows: number,
    private readonly events: SerializerEvents,
  ) {
    if (import.meta.url.endsWith('.ts')) this.local = new BatchAssembler(batchRows);
  }

  add(items: readonly QueuedPrediction[]): void {
    if (items.length === 0) return;
    if (this.local) {
      const { sealed, failed } = this.local.add(items);
      if (failed.length > 0) this.events.lost(failed.length, failed[0] ?? '');
      for (const batch of sealed) this.events.sealed(batch);
      return;
    }
    this.held += items.length;
    const packed = packPredictions(items);
    this.thread().postMessage({ type: 'add', items: packed } satisfies ToSerializer, [
      packed.bodies.buffer as ArrayBuffer,
    ]);
  }

  /** Seals every open batch; resolves once they have all been passed to `sealed`. */
  closeAll(): Promise<void> {
    if (this.local) {
      for (const batch of this.local.closeAll()) this.events.sealed(batch);
      return Promise.resolve();
    }
    if (!this.worker) return Promise.resolve();
    const seq = ++this.seq;
    const worker = this.worker;
    return new Promise((resolve) => {
      this.closing.set(seq, resolve);
      worker.postMessage({ type: 'close', seq } satisfies ToSerializer);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./serializer-worker.js', import.meta.url), {
      workerData: { batchRows: this.batchRows },
    });
    worker.on('message', (message: FromSerializer) => {
      this.receive(message);
    });
    worker.on('error', (error) => {
      this.fail(worker, `the serializer thread failed: ${error.message}`);
    });
    worker.on('exit', (code) => {
      if (!this.stopping) this.fail(worker, `the serializer thread exited with ${code}`);
    });
    // Idle, it must not keep the process alive.
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private receive(message: FromSerializer): void {
    if (message.type === 'sealed') {
      this.held -= message.batch.count;
      this.events.sealed(message.batch);
    } else if (message.type === 'failed') {
      this.held -= message.reasons.length;
      this.events.lost(message.reasons.length, message.reasons[0] ?? '');
    } else {
      this.closing.get(message.seq)?.();
      this.closing.delete(message.seq);
    }
  }

  /** What the dead thread held is lost; the next predictions start a new one. */
  private fail(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    void worker.terminate();
    if (this.held > 0) this.events.lost(this.held, reason);
    this.held = 0;
    for (const resolve of this.closing.values()) resolve();
    this.closing.clear();
  }
}
