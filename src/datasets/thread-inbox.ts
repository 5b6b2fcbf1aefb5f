import type { Worker } from 'node:worker_threads';

/**
 * A worker thread's messages in order, for a reader that takes them one at a time; the thread's
 * failure, or its end before the reader's last message, as an error. `thread` names it in the
 * error of an unexpected end.
 */
export class ThreadInbox<M> {
  private readonly messages: M[] = [];
  private failure: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(worker: Worker, thread: string) {
    worker.on('message', (message: M) => {
      this.messages.push(message);
      this.notify();
    });
    worker.on('error', (error) => {
      this.failure ??= error;
      this.notify();
    });
    worker.on('exit', (code) => {
      this.failure ??= new Error(`the ${thread} thread ended (exit code ${code})`);
      this.notify();
    });
  }

  /** The next message; with `stallMs`, undefined when none came within it. */
  next(): Promise<M>;
  next(stallMs: number): Promise<M | undefined>;
  async next(stallMs?: number): Promise<M | undefined> {
    for (;;) {
      const message = this.messages.shift();
      if (message !== undefined) return message;
      if (this.failure !== undefined) throw this.failure;
      const heard = await new Promise<boolean>((resolve) => {
        const timer =
          stallMs === undefined
            ? undefined
            : setTimeout(() => {
                resolve(false);
              }, stallMs);
        this.wake = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      if (!heard) return undefined;
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
