/**
 * The queues in front of the candidate threads. Pure bookkeeping, no threads or timers: the
 * pool offers work and takes the next item when a thread is free.
 *
 * One bounded queue per lane and version: a version that cannot keep up fills its own queue
 * and nobody else's. A free thread serves canary requests (a client is waiting) before
 * mirrored copies (nobody is), so shadow work is what gets shed first; within a lane the
 * versions take turns.
 */

/** Which queue a candidate run waits in: a canary request's answer, or a mirrored copy. */
export type Lane = 'candidate' | 'shadow';

/** The lanes in the order a free thread serves them. */
export const LANES: readonly Lane[] = ['candidate', 'shadow'];

export interface Taken<T> {
  readonly lane: Lane;
  readonly key: string;
  readonly item: T;
}

export class Bulkhead<T> {
  /** Per lane, per key, the waiting items; a key's queue is in the map only while not empty. */
  private readonly queues: Record<Lane, Map<string, T[]>> = {
    candidate: new Map(),
    shadow: new Map(),
  };
  private count = 0;

  /** `limits`: the most items one key may have waiting in each lane. */
  constructor(private readonly limits: Readonly<Record<Lane, number>>) {}

  /** Queues an item; false (and nothing queued) when the key's queue in that lane is full. */
  offer(lane: Lane, key: string, item: T): boolean {
    if (!this.hasRoom(lane, key)) return false;
    const queues = this.queues[lane];
    const queue = queues.get(key);
    if (queue) queue.push(item);
    else queues.set(key, [item]);
    this.count++;
    return true;
  }

  /** Whether `offer` would take an item for the key in the lane now. */
  hasRoom(lane: Lane, key: string): boolean {
    return (this.queues[lane].get(key)?.length ?? 0) < this.limits[lane];
  }

  /**
   * The next item to run: the first lane with anything waiting, and in it the key whose turn
   * it is (the key then goes to the back of the line).
   */
  take(): Taken<T> | undefined {
    for (const lane of LANES) {
      const queues = this.queues[lane];
      const first = queues.entries().next();
      if (first.done) continue;
      const [key, queue] = first.value;
      const item = queue.shift() as T;
      queues.delete(key);
      if (queue.length > 0) queues.set(key, queue);
      this.count--;
      return { lane, key, item };
    }
    return undefined;
  }

  /** Items waiting, in all lanes or in one. */
  waiting(lane?: Lane): number {
    if (lane === undefined) return this.count;
    let sum = 0;
    for (const queue of this.queues[lane].values()) sum += queue.length;
    return sum;
  }

  /** Empties every queue and returns what waited (in lane order). */
  clear(): Taken<T>[] {
    const all: Taken<T>[] = [];
    for (const lane of LANES) {
      for (const [key, queue] of this.queues[lane])
        for (const item of queue) all.push({ lane, key, item });
      this.queues[lane].clear();
    }
    this.count = 0;
    return all;
  }
}
