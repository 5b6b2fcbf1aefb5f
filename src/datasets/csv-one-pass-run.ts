import { Worker } from 'node:worker_threads';
import { BadInputError } from '../common/errors.js';
import { csvColumnarOnePass, type OnePassVerdict } from './csv-one-pass.js';

export interface OnePassLimits {
  readonly maxRows: number;
}

/** The bytes of an upload in flight to a one-pass read, at most: about 8 MiB held. */
const IN_FLIGHT_BYTES = 8 << 20;
/** Bytes sent to the thread at once: few messages for a large upload. */
const MESSAGE_BYTES = 1 << 20;

/** The columnar file of a one-pass read that did not write it (`retyped`, `unsure`). */
export class ColumnsNotWritten extends Error {
  constructor(readonly verdict: OnePassVerdict['kind']) {
    super(`the one-pass read of the CSV did not write its columns (${verdict})`);
    this.name = 'ColumnsNotWritten';
  }
}

/**
 * A one-pass read of a CSV upload (csv-one-pass.ts) fed as the upload streams in: `write`
 * each chunk (it waits while IN_FLIGHT_BYTES are unread, and rejects once the read has
 * refused the file), then `end`, or `abort` when the upload failed elsewhere. `columns` is the
 * columnar file's bytes, to be read as they come; it ends only when the file was written
 * (`written`), and throws ColumnsNotWritten otherwise, so that a blob store given it keeps
 * nothing. `verdict` is how the read ended.
 */
export interface OnePassRun {
  write(chunk: Uint8Array): Promise<void>;
  end(): void;
  abort(): void;
  columns(): AsyncGenerator<Uint8Array>;
  verdict(): Promise<OnePassVerdict>;
}

/**
 * On a thread of its own, so that parsing overlaps receiving, hashing and writing the upload
 * on the service's thread (and leaves that thread free to answer requests). From TypeScript
 * sources (under Jest) there is no compiled worker file, and the read runs in this thread;
 * `thread: false` asks for that too (a small upload is not worth a thread's start).
 */
export function startOnePass(limits: OnePassLimits, options: { thread: boolean }): OnePassRun {
  return options.thread && !import.meta.url.endsWith('.ts')
    ? new ThreadRun(limits)
    : new LocalRun(limits);
}

/** Chunks handed from a writer to a reader, counted; `taken` is told each chunk read. */
export class ChunkQueue implements AsyncIterable<Uint8Array> {
  bytes = 0;
  private readonly chunks: Uint8Array[] = [];
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly taken: (bytes: number) => void = () => undefined) {}

  push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  fail(error: Error): void {
    this.failure ??= error;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk !== undefined) {
        this.bytes -= chunk.length;
        this.taken(chunk.length);
        yield chunk;
        continue;
      }
      if (this.failure !== undefined) throw this.failure;
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** A promise with its settlement at hand; its rejection is observed by whoever awaits it. */
class Deferred<T> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  reject!: (error: Error) => void;
  settled = false;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = (value) => {
        this.settled = true;
        resolve(value);
      };
      this.reject = (error) => {
        this.settled = true;
        reject(error);
      };
    });
    this.promise.catch(() => undefined);
  }
}

/** What both kinds of run share: the writer's side, with its room and its failure. */
abstract class RunBase implements OnePassRun {
  protected readonly outcome = new Deferred<OnePassVerdict>();
  protected failure: Error | undefined;
  private room: (() => void) | undefined;

  abstract write(chunk: Uint8Array): Promise<void>;
  abstract end(): void;
  abstract abort(): void;
  abstract columns(): AsyncGenerator<Uint8Array>;

  verdict(): Promise<OnePassVerdict> {
    return this.outcome.promise;
  }

  /** Waits until `unread()` is within IN_FLIGHT_BYTES; throws the run's failure. */
  protected async roomFor(unread: () => number): Promise<void> {
    while (this.failure === undefined && unread() > IN_FLIGHT_BYTES)
      await new Promise<void>((resolve) => {
        this.room = resolve;
      });
    if (this.failure !== undefined) throw this.failure;
  }

  protected madeRoom(): void {
    const room = this.room;
    this.room = undefined;
    room?.();
  }

  protected failed(error: unknown): void {
    this.failure ??= error instanceof Error ? error : new Error(String(error));
    if (!this.outcome.settled) this.outcome.reject(this.failure);
    this.madeRoom();
  }

  protected finished(verdict: OnePassVerdict): void {
    this.outcome.resolve(verdict);
    // The read is over: a writer still waiting has nothing more to wait for.
    this.madeRoom();
  }
}

class LocalRun extends RunBase {
  private readonly queue = new ChunkQueue(() => {
    this.madeRoom();
  });

  constructor(private readonly limits: OnePassLimits) {
    super();
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.queue.push(chunk);
    await this.roomFor(() => (this.outcome.settled ? 0 : this.queue.bytes));
  }

  end(): void {
    this.queue.end();
  }

  abort(): void {
    const stopped = new Error('the upload stopped before its end');
    this.queue.fail(stopped);
    this.failed(stopped);
  }

  async *columns(): AsyncGenerator<Uint8Array> {
    const read = csvColumnarOnePass(this.queue, this.limits);
    try {
      for (;;) {
        const next = await read.next();
        if (next.done === true) {
          this.finished(next.value);
          if (next.value.kind !== 'written') throw new ColumnsNotWritten(next.value.kind);
          return;
        }
        yield next.value;
      }
    } catch (error) {
      this.failed(error);
      throw error;
    } finally {
      // Its reader stopped early (the blob store failed): nothing reads the upload any more.
      if (!this.outcome.settled)
        this.failed(new Error('the columnar file was not read to its end'));
      await read.return(undefined as never);
    }
  }
}

/** Messages to the thread (csv-one-pass.worker.ts) and from it. */
export type ToOnePassThread =
  | { readonly type: 'bytes'; readonly bytes: Uint8Array }
  | { readonly type: 'end' }
  | { readonly type: 'more' };

export type FromOnePassThread =
  | { readonly type: 'taken'; readonly bytes: number }
  | { readonly type: 'columns'; readonly bytes: Uint8Array }
  | { readonly type: 'done'; readonly verdict: OnePassVerdict }
  | {
      readonly type: 'refused';
      readonly field: string;
      readonly message: string;
      readonly details: Record<string, unknown>;
    }
  | { readonly type: 'failed'; readonly message: string };

class ThreadRun extends RunBase {
  private readonly worker: Worker;
  private readonly pieces = new ChunkQueue();
  private pending = Buffer.allocUnsafeSlow(MESSAGE_BYTES);
  private filled = 0;
  /** Bytes sent and not yet read by the thread. */
  private unread = 0;

  constructor(limits: OnePassLimits) {
    super();
    this.worker = new Worker(new URL('./csv-one-pass.worker.js', import.meta.url), {
      workerData: { limits },
    });
    this.worker.on('message', (message: FromOnePassThread) => {
      this.receive(message);
    });
    this.worker.on('error', (error) => {
      this.stop(error);
    });
    this.worker.on('exit', (code) => {
      this.stop(new Error(`the CSV reading thread ended (exit code ${code})`));
    });
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    for (let at = 0; at < chunk.length;) {
      const take = Math.min(chunk.length - at, MESSAGE_BYTES - this.filled);
      this.pending.set(chunk.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
      if (this.filled === MESSAGE_BYTES) this.flush();
    }
    await this.roomFor(() => (this.outcome.settled ? 0 : this.unread));
  }

  end(): void {
    this.flush();
    this.post({ type: 'end' });
  }

  abort(): void {
    this.stop(new Error('the upload stopped before its end'));
  }

  async *columns(): AsyncGenerator<Uint8Array> {
    try {
      for await (const piece of this.pieces) {
        yield piece;
        this.post({ type: 'more' });
      }
      const verdict = await this.outcome.promise;
      if (verdict.kind !== 'written') throw new ColumnsNotWritten(verdict.kind);
    } finally {
      if (!this.outcome.settled) this.stop(new Error('the columnar file was not read to its end'));
      await this.worker.terminate();
    }
  }

  private receive(message: FromOnePassThread): void {
    switch (message.type) {
      case 'taken':
        this.unread -= message.bytes;
        this.madeRoom();
        break;
      case 'columns':
        this.pieces.push(message.bytes);
        break;
      case 'done':
        this.finished(message.verdict);
        this.pieces.end();
        break;
      case 'refused':
        this.stop(
          new BadInputError(
            message.field,
            message.message.slice(message.field.length + 2),
            message.details,
          ),
        );
        break;
      case 'failed':
        this.stop(new Error(`reading the CSV upload failed: ${message.message}`));
        break;
    }
  }

  private flush(): void {
    if (this.filled === 0) return;
    const bytes = this.pending.subarray(0, this.filled);
    this.unread += this.filled;
    this.post({ type: 'bytes', bytes }, [bytes.buffer]);
    this.pending = Buffer.allocUnsafeSlow(MESSAGE_BYTES);
    this.filled = 0;
  }

  private post(message: ToOnePassThread, transfer: ArrayBuffer[] = []): void {
    if (this.failure === undefined) this.worker.postMessage(message, transfer);
  }

  private stop(error: Error): void {
    if (this.outcome.settled && this.failure === undefined) return;
    this.failed(error);
    this.pieces.fail(error);
    void this.worker.terminate();
  }
}
