/**
 * Refusals of the metric functions. They carry the field and, where one row is at fault, its
 * 0-based index in the arrays passed in, so the caller can name the dataset row (add the header
 * and 1 for a CSV line number).
 */
export class MetricInputError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
    readonly row: number | null = null,
  ) {
    super(row === null ? `${field}: ${reason}` : `${field}: ${reason} at row index ${row}`);
    this.name = new.target.name;
  }
}

/** A NaN or ±Infinity where a finite number is required: a figure over it would be meaningless. */
export class NonFiniteValueError extends MetricInputError {
  constructor(
    field: string,
    override readonly row: number,
    readonly value: number,
  ) {
    super(field, `${String(value)} is not a finite number`, row);
  }
}
