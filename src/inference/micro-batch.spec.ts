import { describe, expect, it } from '@jest/globals';
import {
  MicroBatcher,
  splitOutputs,
  stackFeeds,
  stackKey,
  type FeedTensor,
  type Runner,
} from './micro-batch.js';
import type { RawTensor } from './oip-tensors.js';

const feed = (rows: number[][]): FeedTensor[] => [
  {
    name: 'x',
    datatype: 'FP32',
    shape: [rows.length, rows[0]?.length ?? 0],
    data: new Float32Array(rows.flat()),
  },
];

/** A model that sums each row; it records the batch sizes it was run with. */
function summingModel(options: { failOnBatch?: boolean } = {}): {
  run: Runner;
  batches: number[];
} {
  const batches: number[] = [];
  const run: Runner = (feeds) => {
    const x = feeds[0];
    if (!x) return Promise.reject(new Error('no input'));
    const rows = x.shape[0] ?? 0;
    const width = x.shape[1] ?? 0;
    batches.push(rows);
    if (options.failOnBatch && rows > 1) return Promise.reject(new Error('cannot reshape'));
    const sums = new Float32Array(rows);
    for (let r = 0; r < rows; r++)
      for (let c = 0; c < width; c++) sums[r] = (sums[r] ?? 0) + Number(x.data[r * width + c]);
    return Promise.resolve(
      new Map<string, RawTensor>([['sum', { datatype: 'FP32', shape: [rows, 1], data: sums }]]),
    );
  };
  return { run, batches };
}

const sumsOf = (outputs: Map<string, RawTensor>): number[] =>
  Array.from(outputs.get('sum')?.data as Float32Array);

describe('stacking and splitting', () => {
  it('stacks feeds along the first dimension and cuts outputs back per request', () => {
    const stacked = stackFeeds([
      feed([[1, 2]]),
      feed([
        [3, 4],
        [5, 6],
      ]),
    ]);
    expect(stacked[0]?.shape).toEqual([3, 2]);
    expect(Array.from(stacked[0]?.data as Float32Array)).toEqual([1, 2, 3, 4, 5, 6]);
    const outputs = new Map<string, RawTensor>([
      ['y', { datatype: 'FP32', shape: [3, 1], data: new Float32Array([10, 20, 30]) }],
    ]);
    const parts = splitOutputs(outputs, [1, 2]);
    expect(parts?.map((p) => Array.from(p.get('y')?.data as Float32Array))).toEqual([
      [10],
      [20, 30],
    ]);
    expect(parts?.[1]?.get('y')?.shape).toEqual([2, 1]);
  });

  it('cannot split outputs without one entry per row', () => {
    const outputs = new Map<string, RawTensor>([
      ['total', { datatype: 'FP32', shape: [1], data: new Float32Array([21]) }],
    ]);
    expect(splitOutputs(outputs, [1, 2])).toBeUndefined();
  });

  it('keys requests by input names, datatypes and non-batch dimensions', () => {
    expect(stackKey(feed([[1, 2]]))).toBe(
      stackKey(
        feed([
          [1, 2],
          [3, 4],
        ]),
      ),
    );
    expect(stackKey(feed([[1, 2]]))).not.toBe(stackKey(feed([[1, 2, 3]])));
  });
});

describe('MicroBatcher', () => {
  it('merges requests submitted in the same turn of the event loop into one run', async () => {
    const model = summingModel();
    const batcher = new MicroBatcher({ maxRows: 32, waitMs: 0 });
    const answers = await Promise.all([
      batcher.submit('m', feed([[1, 2]]), 1, model.run),
      batcher.submit(
        'm',
        feed([
          [3, 4],
          [5, 6],
        ]),
        2,
        model.run,
      ),
      batcher.submit('m', feed([[7, 8]]), 1, model.run),
    ]);
    expect(model.batches).toEqual([4]);
    expect(answers.map(sumsOf)).toEqual([[3], [7, 11], [15]]);
    expect(batcher.stats()).toEqual({ runs: 1, requests: 3, fallbacks: 0 });
  });

  it('never exceeds the row bound', async () => {
    const model = summingModel();
    const batcher = new MicroBatcher({ maxRows: 3, waitMs: 0 });
    const answers = await Promise.all(
      [1, 2, 3, 4, 5].map((v) => batcher.submit('m', feed([[v, v]]), 1, model.run)),
    );
    expect(model.batches).toEqual([3, 2]);
    expect(answers.map(sumsOf)).toEqual([[2], [4], [6], [8], [10]]);
  });

  it('waits up to waitMs for others to join', async () => {
    const model = summingModel();
    const batcher = new MicroBatcher({ maxRows: 32, waitMs: 20 });
    const first = batcher.submit('m', feed([[1, 1]]), 1, model.run);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = batcher.submit('m', feed([[2, 2]]), 1, model.run);
    expect((await Promise.all([first, second])).map(sumsOf)).toEqual([[2], [4]]);
    expect(model.batches).toEqual([2]);
  });

  it('does not merge different models or different widths', async () => {
    const model = summingModel();
    const batcher = new MicroBatcher({ maxRows: 32, waitMs: 0 });
    await Promise.all([
      batcher.submit('a', feed([[1, 2]]), 1, model.run),
      batcher.submit('b', feed([[1, 2]]), 1, model.run),
      batcher.submit('a', feed([[1, 2, 3]]), 1, model.run),
    ]);
    expect(model.batches).toEqual([1, 1, 1]);
  });

  it('answers each request alone when the merged run fails', async () => {
    const model = summingModel({ failOnBatch: true });
    const batcher = new MicroBatcher({ maxRows: 32, waitMs: 0 });
    const answers = await Promise.all([
      batcher.submit('m', feed([[1, 2]]), 1, model.run),
      batcher.submit('m', feed([[3, 4]]), 1, model.run),
    ]);
    expect(answers.map(sumsOf)).toEqual([[3], [7]]);
    expect(model.batches).toEqual([2, 1, 1]);
    expect(batcher.stats().fallbacks).toBe(1);
  });

  it('fails only the request that fails alone', async () => {
    const batcher = new MicroBatcher({ maxRows: 32, waitMs: 0 });
    const model = summingModel();
    const picky: Runner = (feeds) =>
      Array.from(feeds[0]?.data as Float32Array).some((v) => v < 0)
        ? Promise.reject(new Error('negative'))
        : model.run(feeds);
    const results = await Promise.allSettled([
      batcher.submit('m', feed([[1, 2]]), 1, picky),
      batcher.submit('m', feed([[-1, 2]]), 1, picky),
    ]);
    expect(results[0]).toMatchObject({ status: 'fulfilled' });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: new Error('negative') });
  });

  it('runs every request alone when off (maxRows 1)', async () => {
    const model = summingModel();
    const batcher = new MicroBatcher({ maxRows: 1, waitMs: 0 });
    await Promise.all([1, 2, 3].map((v) => batcher.submit('m', feed([[v, v]]), 1, model.run)));
    expect(model.batches).toEqual([1, 1, 1]);
    expect(batcher.enabled).toBe(false);
  });
});
