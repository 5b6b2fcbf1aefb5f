import { MetricInputError, NonFiniteValueError } from './errors.js';

/** A numeric column as the metric functions accept it. Copied, never modified. */
export type NumericColumn = Float64Array | Float32Array | readonly number[];

/** Binary labels: 1 is the positive class (e.g. "default"), 0 the negative. */
export type LabelColumn = ArrayLike<number>;

export function requireRows(field: string, length: number): void {
  if (length === 0) throw new MetricInputError(field, 'is empty: there is nothing to measure');
}

export function requireSameLength(field: string, length: number, expected: number): void {
  if (length !== expected) {
    throw new MetricInputError(field, `has ${length} rows where ${expected} are expected`);
  }
}

/**
 * A finite copy of `values`; -0 becomes +0 so that both fall in one tie group. Float32 input stays
 * float32 (its values are exactly representable as float64, but its sort keys are half as wide).
 */
export function finiteCopy(field: string, values: NumericColumn): Float64Array | Float32Array {
  const copy =
    values instanceof Float32Array
      ? new Float32Array(values.length)
      : new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i] ?? Number.NaN;
    if (!Number.isFinite(value)) throw new NonFiniteValueError(field, i, value);
    copy[i] = value === 0 ? 0 : value;
  }
  return copy;
}

/** Labels as 0/1 bytes; anything but 0 or 1 is refused with its row. */
export function binaryLabels(field: string, values: LabelColumn): Uint8Array {
  const labels = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (value === 1) labels[i] = 1;
    else if (value !== 0) {
      if (value === undefined || !Number.isFinite(value)) {
        throw new NonFiniteValueError(field, i, value ?? Number.NaN);
      }
      throw new MetricInputError(field, `${value} is not a binary label (0 or 1)`, i);
    }
  }
  return labels;
}

export function requireFinite(field: string, value: number): void {
  if (!Number.isFinite(value)) throw new MetricInputError(field, `${String(value)} is not finite`);
}
