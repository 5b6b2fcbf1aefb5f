import { describe, expect, it } from '@jest/globals';
import { createSession, ort } from '../../test/support/onnx-scoring.js';
import { encodeModel, GraphBuilder } from './onnx-writer.js';
import { addStandardizeNodes, fitStandardizer, standardizeRows } from './standardize.js';

const X = [
  Float32Array.from([1, 10, 5]),
  Float32Array.from([2, 20, 5]),
  Float32Array.from([3, 60, 5]),
];

describe('standardize', () => {
  it('fits the mean and population std of each column, 1 for a constant column', () => {
    const s = fitStandardizer(X);
    expect(s.mean).toEqual([2, 30, 5]);
    expect(s.std[0]).toBeCloseTo(Math.sqrt(2 / 3), 6);
    expect(s.std[1]).toBeCloseTo(Math.sqrt(1400 / 3), 4);
    expect(s.std[2]).toBe(1);
    // Constants are float32 values, as written to the graph.
    expect(s.std.every((v) => Math.fround(v) === v)).toBe(true);
  });

  it('fits a subset of columns, in the order given', () => {
    const s = fitStandardizer(X, [2, 0]);
    expect(s.mean).toEqual([5, 2]);
    expect(standardizeRows(X, s, [2, 0]).map((r) => Array.from(r))).toEqual([
      [0, -1 / (s.std[1] ?? 1)],
      [0, 0],
      [0, 1 / (s.std[1] ?? 1)],
    ]);
  });

  it('bakes Sub and Div into the graph, agreeing with standardizeRows', async () => {
    const s = fitStandardizer(X);
    const g = new GraphBuilder('standardize');
    const x = g.input('x', 'float32', ['N', 3]);
    g.output('z', 'float32', ['N', 3]);
    const z = addStandardizeNodes(g, x, s);
    g.op('Identity', [z], { output: 'z' });
    const session = await createSession(encodeModel(g.build()));
    const flat = new Float32Array(9);
    X.forEach((row, i) => {
      flat.set(row, i * 3);
    });
    const out = await session.run({ x: new ort.Tensor('float32', flat, [3, 3]) });
    const expected = standardizeRows(X, s, [0, 1, 2]).flatMap((r) => Array.from(r));
    Array.from(out['z']!.data as Float32Array).forEach((v, i) => {
      expect(v).toBeCloseTo(expected[i]!, 6);
    });
  });
});
