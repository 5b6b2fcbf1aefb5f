import { describe, expect, it } from '@jest/globals';
import { solveSpd } from './linear-algebra.js';

describe('solveSpd', () => {
  it('solves a symmetric positive definite system', () => {
    const A = Float64Array.from([4, 1, 2, 1, 3, 0, 2, 0, 5]);
    const x = Float64Array.from([1, -2, 3]);
    const b = Float64Array.from([0, 1, 2], (i) =>
      [0, 1, 2].reduce((sum, j) => sum + A[i * 3 + j]! * x[j]!, 0),
    );
    const solved = solveSpd(A, b);
    solved.forEach((v, i) => {
      expect(v).toBeCloseTo(x[i]!, 12);
    });
  });

  it('refuses a matrix that is not positive definite', () => {
    expect(() => solveSpd(Float64Array.from([1, 2, 2, 1]), Float64Array.from([1, 1]))).toThrow(
      'not positive definite',
    );
    expect(() => solveSpd(Float64Array.from([1]), Float64Array.from([1, 1]))).toThrow('sizes');
  });
});
