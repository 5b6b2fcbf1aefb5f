import type { GraphBuilder } from './onnx-writer.js';

/**
 * Per-feature standardization, (x - mean) / std. Models are trained on standardized features
 * but take raw ones: the Sub and Div are part of the ONNX graph. Mean and std are rounded to
 * float32 when fitted, so the TypeScript side uses exactly the constants in the graph.
 */
export interface Standardizer {
  readonly mean: readonly number[];
  /** Population standard deviation; 1 for a constant column. */
  readonly std: readonly number[];
}

/** Fits mean and std of the given columns (all of them by default). */
export function fitStandardizer(
  X: readonly Float32Array[],
  columns: readonly number[] = Array.from({ length: X[0]?.length ?? 0 }, (_, i) => i),
): Standardizer {
  const n = X.length;
  if (n === 0) throw new Error('cannot standardize zero rows');
  const mean = columns.map((c) => {
    let sum = 0;
    for (const row of X) sum += row[c] ?? 0;
    return sum / n;
  });
  const std = columns.map((c, j) => {
    const m = mean[j] ?? 0;
    let sum = 0;
    for (const row of X) sum += ((row[c] ?? 0) - m) ** 2;
    const sd = Math.sqrt(sum / n);
    return sd > 1e-8 ? Math.fround(sd) : 1;
  });
  return { mean: mean.map((m) => Math.fround(m)), std };
}

/** The standardized values of the given columns of each row, in float64. */
export function standardizeRows(
  X: readonly Float32Array[],
  standardizer: Standardizer,
  columns: readonly number[],
): Float64Array[] {
  return X.map((row) =>
    Float64Array.from(
      columns,
      (c, j) => ((row[c] ?? 0) - (standardizer.mean[j] ?? 0)) / (standardizer.std[j] ?? 1),
    ),
  );
}

/** Appends Sub(mean) and Div(std) to `input` ([N, F]); returns the standardized value's name. */
export function addStandardizeNodes(
  g: GraphBuilder,
  input: string,
  standardizer: Standardizer,
): string {
  const f = standardizer.mean.length;
  const mean = g.float('mean', [f], standardizer.mean);
  const std = g.float('std', [f], standardizer.std);
  const centered = g.op('Sub', [input, mean], { prefix: 'centered' });
  return g.op('Div', [centered, std], { prefix: 'standardized' });
}
