/**
 * Mirrored requests waiting for the shadow candidate, off the live path: `offer` never waits
 * and never throws; when `limit` tasks are already waiting the task is dropped (the caller
 * counts it). At most `concurrency` tasks run at once, each started on a later turn of the
 * event loop than the live answer that queued it.
 */
export class ShadowQueue {
  private readonly waiting: (() => Promise<void>)[] = [];
  private running = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly concurrency: number,
  ) {}

  /** Queues a task; false when the queue is full and the task was dropped. */
  offer(task: () => Promise<void>): boolean {
    if (this.waiting.length >= this.limit) return false;
    this.waiting.push(task);
    if (this.running < this.concurrency)
      setImmediate(() => {
        this.next();
      });
    return true;
  }

  get pending(): number {
    return this.waiting.length + this.running;
  }

  /** Resolves once nothing waits or runs (shutdown, tests). */
  drained(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private next(): void {
    if (this.running >= this.concurrency) return;
    const task = this.waiting.shift();
    if (!task) {
      if (this.running === 0) for (const resolve of this.idle.splice(0)) resolve();
      return;
    }
    this.running++;
    void task()
      .catch(() => undefined)
      .finally(() => {
        this.running--;
        this.next();
      });
  }
}
