import { describe, expect, it } from '@jest/globals';
import { ShadowQueue } from './shadow-queue.js';

describe('shadow queue', () => {
  it('drops beyond its limit, runs at most `concurrency` at once, and drains', async () => {
    const queue = new ShadowQueue(3, 1);
    let running = 0;
    let most = 0;
    const done: number[] = [];
    const task = (i: number) => async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      done.push(i);
    };
    const accepted = [0, 1, 2, 3, 4].map((i) => queue.offer(task(i)));
    expect(accepted).toEqual([true, true, true, false, false]);
    await queue.drained();
    expect(done).toEqual([0, 1, 2]);
    expect(most).toBe(1);
    expect(queue.pending).toBe(0);
  });

  it('a failing task does not stop the queue', async () => {
    const queue = new ShadowQueue(10, 2);
    let ran = 0;
    queue.offer(() => Promise.reject(new Error('boom')));
    queue.offer(() => {
      ran++;
      return Promise.resolve();
    });
    await queue.drained();
    expect(ran).toBe(1);
  });
});
