/**
 * Solves A x = b for a symmetric positive definite A (row-major, n×n) by Cholesky
 * decomposition. Throws when A is not positive definite.
 */
export function solveSpd(A: Float64Array, b: Float64Array): Float64Array {
  const n = b.length;
  if (A.length !== n * n) throw new Error('matrix and vector sizes differ');
  const L = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = A[i * n + j] ?? 0;
      for (let k = 0; k < j; k++) sum -= (L[i * n + k] ?? 0) * (L[j * n + k] ?? 0);
      if (i === j) {
        if (sum <= 0) throw new Error('matrix is not positive definite');
        L[i * n + i] = Math.sqrt(sum);
      } else {
        L[i * n + j] = sum / (L[j * n + j] ?? 1);
      }
    }
  }
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i] ?? 0;
    for (let k = 0; k < i; k++) sum -= (L[i * n + k] ?? 0) * (z[k] ?? 0);
    z[i] = sum / (L[i * n + i] ?? 1);
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = z[i] ?? 0;
    for (let k = i + 1; k < n; k++) sum -= (L[k * n + i] ?? 0) * (x[k] ?? 0);
    x[i] = sum / (L[i * n + i] ?? 1);
  }
  return x;
}
