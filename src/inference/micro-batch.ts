import type { RawTensor, TypedArray } from './oip-tensors.js';

/**
 * Micro-batching: requests that arrive together for the same model are stacked along the
 * first (batch) dimension into one ONNX Runtime run, and its outputs are cut back into one
 * answer per request. ONNX Runtime's Node binding runs a session synchronously on the event
 * loop, so every run saved is event-loop time saved. No framework imports: the executor
 * supplies the function that runs a model.
 */

export interface FeedTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: TypedArray;
}

export type Runner = (feeds: readonly FeedTensor[]) => Promise<Map<string, RawTensor>>;

export interface MicroBatchOptions {
  /** The most rows one merged run carries; 1 turns merging off. */
  readonly maxRows: number;
  /** How long the first request of a batch waits for others; 0: until the event loop turns. */
  readonly waitMs: number;
}

/**
 * What must agree for requests to be merged: input names, datatypes and every dimension but
 * the first. Two requests with the same key stack into one valid feed.
 */
export function stackKey(feeds: readonly FeedTensor[]): string {
  return feeds
    .map((f) => `${f.name}:${f.datatype}:${f.shape.slice(1).join('x')}`)
    .sort()
    .join('|');
}

/** The requests' feeds stacked along dimension 0, input by input. */
export function stackFeeds(requests: readonly (readonly FeedTensor[])[]): FeedTensor[] {
  const first = requests[0];
  if (!first) return [];
  return first.map((model) => {
    const parts = requests.map((feeds) => {
      const part = feeds.find((f) => f.name === model.name);
      if (!part) throw new Error(`input ${model.name} is missing from a stacked request`);
      return part;
    });
    const length = parts.reduce((n, p) => n + p.data.length, 0);
    const data = new (model.data.constructor as new (n: number) => TypedArray)(length);
    let offset = 0;
    for (const part of parts) {
      data.set(part.data as never, offset);
      offset += part.data.length;
    }
    const rows = parts.reduce((n, p) => n + (p.shape[0] ?? 1), 0);
    return {
      name: model.name,
      datatype: model.datatype,
      shape: [rows, ...model.shape.slice(1)],
      data,
    };
  });
}

/**
 * A merged run's outputs cut back per request (`rows[i]` rows each), or undefined when an
 * output does not have one entry per input row along dimension 0: such a model cannot be
 * answered from a merged run.
 */
export function splitOutputs(
  outputs: ReadonlyMap<string, RawTensor>,
  rows: readonly number[],
): Map<string, RawTensor>[] | undefined {
  const total = rows.reduce((a, b) => a + b, 0);
  const answers = rows.map(() => new Map<string, RawTensor>());
  for (const [name, tensor] of outputs) {
    if (tensor.shape.length === 0 || tensor.shape[0] !== total) return undefined;
    const perRow = tensor.shape.slice(1).reduce((a, b) => a * b, 1);
    let row = 0;
    rows.forEach((n, i) => {
      const data = tensor.data.slice(row * perRow, (row + n) * perRow) as RawTensor['data'];
      answers[i]?.set(name, {
        datatype: tensor.datatype,
        shape: [n, ...tensor.shape.slice(1)],
        data,
      });
      row += n;
    });
  }
  return answers;
}

interface Pending {
  readonly feeds: readonly FeedTensor[];
  readonly rows: number;
  readonly resolve: (outputs: Map<string, RawTensor>) => void;
  readonly reject: (error: unknown) => void;
}

interface Queue {
  readonly run: Runner;
  readonly pending: Pending[];
  rows: number;
  timer: NodeJS.Immediate | NodeJS.Timeout | undefined;
}

export interface MicroBatchStats {
  /** Model runs made. */
  readonly runs: number;
  /** Requests answered by those runs. */
  readonly requests: number;
  /** Merged runs that failed or could not be split, answered again one request at a time. */
  readonly fallbacks: number;
}

/**
 * Merges concurrent submissions that share a key (a model and a stack key). A merged run
 * that fails is retried one request at a time, so a request that would fail alone cannot fail
 * the requests it was merged with, and a model that refuses batches still answers.
 */
export class MicroBatcher {
  private readonly queues = new Map<string, Queue>();
  private counts = { runs: 0, requests: 0, fallbacks: 0 };

  constructor(private readonly options: MicroBatchOptions) {}

  get enabled(): boolean {
    return this.options.maxRows > 1;
  }

  stats(): MicroBatchStats {
    return { ...this.counts };
  }

  submit(
    key: string,
    feeds: readonly FeedTensor[],
    rows: number,
    run: Runner,
  ): Promise<Map<string, RawTensor>> {
    if (!this.enabled || rows >= this.options.maxRows) return this.runAlone(feeds, run);
    const queueKey = `${key}#${stackKey(feeds)}`;
    let queue = this.queues.get(queueKey);
    if (queue && queue.rows + rows > this.options.maxRows) {
      this.flush(queueKey, queue);
      queue = undefined;
    }
    if (!queue) {
      const fresh: Queue = { run, pending: [], rows: 0, timer: undefined };
      fresh.timer =
        this.options.waitMs > 0
          ? setTimeout(() => {
              this.flush(queueKey, fresh);
            }, this.options.waitMs)
          : setImmediate(() => {
              this.flush(queueKey, fresh);
            });
      this.queues.set(queueKey, fresh);
      queue = fresh;
    }
    const promise = new Promise<Map<string, RawTensor>>((resolve, reject) => {
      queue.pending.push({ feeds, rows, resolve, reject });
    });
    queue.rows += rows;
    if (queue.rows >= this.options.maxRows) this.flush(queueKey, queue);
    return promise;
  }

  private flush(queueKey: string, queue: Queue): void {
    if (this.queues.get(queueKey) === queue) this.queues.delete(queueKey);
    if (queue.timer !== undefined) {
      clearTimeout(queue.timer as NodeJS.Timeout);
      clearImmediate(queue.timer as NodeJS.Immediate);
      queue.timer = undefined;
    }
    const { pending } = queue;
    if (pending.length === 0) return;
    if (pending.length === 1) {
      const only = pending[0] as Pending;
      this.runAlone(only.feeds, queue.run).then(only.resolve, only.reject);
      return;
    }
    void this.runMerged(pending, queue.run);
  }

  private async runMerged(pending: readonly Pending[], run: Runner): Promise<void> {
    let answers: Map<string, RawTensor>[] | undefined;
    try {
      this.counts.runs++;
      this.counts.requests += pending.length;
      const outputs = await run(stackFeeds(pending.map((p) => p.feeds)));
      answers = splitOutputs(
        outputs,
        pending.map((p) => p.rows),
      );
    } catch {
      answers = undefined;
    }
    if (answers) {
      pending.forEach((p, i) => {
        p.resolve(answers[i] ?? new Map<string, RawTensor>());
      });
      return;
    }
    this.counts.fallbacks++;
    this.counts.requests -= pending.length;
    for (const p of pending) this.runAlone(p.feeds, run).then(p.resolve, p.reject);
  }

  private runAlone(feeds: readonly FeedTensor[], run: Runner): Promise<Map<string, RawTensor>> {
    this.counts.runs++;
    this.counts.requests++;
    return run(feeds);
  }
}
