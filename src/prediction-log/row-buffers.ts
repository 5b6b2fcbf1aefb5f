/**
 * The buffers a batch's COPY rows are written into, reused from one batch to the next.
 *
 * A fresh buffer of this size is fresh memory from the kernel (above glibc's mmap threshold):
 * every 4 KB page of it faults on first write, and on a virtual machine a page fault costs
 * tens of microseconds, so writing rows into fresh buffers was one of the log's dearest steps
 * (docs/benchmarks.md). Reused buffers are already mapped.
 */
export const ROW_BUFFER_BYTES = 128 * 1024;

export class RowBuffers {
  private readonly free: Buffer[] = [];

  /** `keep`: how many idle buffers to hold at most (the rest go to the garbage collector). */
  constructor(private readonly keep: number) {}

  get idle(): number {
    return this.free.length;
  }

  /** A buffer of at least `bytes`: a reused one when the standard size will do. */
  take(bytes: number): Buffer {
    if (bytes > ROW_BUFFER_BYTES) return Buffer.allocUnsafeSlow(bytes);
    return this.free.pop() ?? Buffer.allocUnsafeSlow(ROW_BUFFER_BYTES);
  }

  /**
   * Takes back the buffers of a batch that has been written (or given up), whole, whatever
   * part of them its rows used. Nothing may read the batch's chunks afterwards.
   */
  give(chunks: readonly Buffer[]): void {
    for (const chunk of chunks) {
      if (this.free.length >= this.keep) return;
      if (chunk.buffer.byteLength !== ROW_BUFFER_BYTES || chunk.byteOffset !== 0) continue;
      this.free.push(Buffer.from(chunk.buffer, 0, ROW_BUFFER_BYTES));
    }
  }
}
