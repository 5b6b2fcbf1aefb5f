import { BadInputError } from '../common/errors.js';
import { textFault } from '../common/text-rules.js';
import { checkColumns } from '../registry/registry-rules.js';

/**
 * The inputs of an MLflow model signature, as MLflow writes them into `MLmodel`: a JSON string
 * holding either column specs (`{"name": "Duration", "type": "double", "required": true}`) or
 * tensor specs (`{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 60]},
 * "name": "features"}`). Pure: the text in, the inputs or the reason they cannot be used out.
 */

/** MLflow's column types (mlflow.types.DataType). */
export const MLFLOW_COLUMN_TYPES = [
  'boolean',
  'integer',
  'long',
  'float',
  'double',
  'string',
  'binary',
  'datetime',
] as const;
export type MlflowColumnType = (typeof MLFLOW_COLUMN_TYPES)[number];

/**
 * Gatehouse feeds a version one float matrix of dataset columns, so only numeric columns can be
 * features; a boolean or a string the model takes must be encoded as a number before export.
 */
export const NUMERIC_COLUMN_TYPES = ['integer', 'long', 'float', 'double'] as const;
export type MlflowNumericType = (typeof NUMERIC_COLUMN_TYPES)[number];

/** MLflow's composite column types (2.10 and later): nothing a float matrix can carry. */
const COMPOSITE_TYPES = new Set(['array', 'object', 'map', 'any']);

export interface MlflowColumn {
  readonly name: string;
  readonly type: MlflowNumericType;
  /** MLflow's `required` (true when absent: columns were all required before it existed). */
  readonly required: boolean;
}

export type MlflowInputs =
  | { readonly kind: 'columns'; readonly columns: readonly MlflowColumn[] }
  | {
      readonly kind: 'tensor';
      /** The tensor's name, which is the ONNX input's; null when the signature gives none. */
      readonly name: string | null;
      /** A NumPy dtype name: `float32`, `float64`… */
      readonly dtype: string;
      /** -1 for a free dimension (the batch). */
      readonly shape: readonly number[];
    };

export type SignatureReading =
  | { readonly ok: true; readonly inputs: MlflowInputs }
  | { readonly ok: false; readonly reason: string };

/** Reads `signature.inputs`. Each reason starts with the member it is about. */
export function readSignatureInputs(text: string): SignatureReading {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return refuse('signature.inputs', `is not JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed))
    return refuse('signature.inputs', 'must be a JSON list of column or tensor specs');
  if (parsed.length === 0) return refuse('signature.inputs', 'lists no inputs');
  const specs: Record<string, unknown>[] = [];
  for (const [i, spec] of parsed.entries()) {
    if (typeof spec !== 'object' || spec === null || Array.isArray(spec))
      return refuse(`signature.inputs[${i}]`, 'must be a JSON object: a column or tensor spec');
    specs.push(spec as Record<string, unknown>);
  }
  const tensors = specs.filter((s) => s['type'] === 'tensor').length;
  if (tensors > 0 && tensors < specs.length)
    return refuse(
      'signature.inputs',
      `mixes ${tensors} tensor specs with ${specs.length - tensors} column specs; a signature is one or the other`,
    );
  return tensors > 0 ? tensorInputs(specs) : columnInputs(specs);
}

function columnInputs(specs: readonly Record<string, unknown>[]): SignatureReading {
  const columns: MlflowColumn[] = [];
  for (const [i, spec] of specs.entries()) {
    const at = `signature.inputs[${i}]`;
    const name = spec['name'];
    if (name === undefined || name === null)
      return refuse(
        at,
        'has no name: Gatehouse binds each input column to a dataset column by its name',
      );
    if (typeof name !== 'string') return refuse(`${at}.name`, 'must be a string');
    const fault = textFault(name);
    if (fault) return refuse(`${at}.name`, fault);
    const type = spec['type'];
    if (typeof type !== 'string') return refuse(`${at}.type`, `column ${quote(name)} has no type`);
    if (!isNumeric(type)) {
      const known =
        (MLFLOW_COLUMN_TYPES as readonly string[]).includes(type) || COMPOSITE_TYPES.has(type);
      return refuse(
        `${at}.type`,
        known
          ? `column ${quote(name)} is ${type}: Gatehouse feeds the model a float matrix, so every column must be numeric (${NUMERIC_COLUMN_TYPES.join(', ')})`
          : `column ${quote(name)} has type ${quote(type)}, which is not an MLflow column type (${MLFLOW_COLUMN_TYPES.join(', ')})`,
      );
    }
    const required = spec['required'] ?? true;
    if (typeof required !== 'boolean')
      return refuse(`${at}.required`, `column ${quote(name)}: must be true or false`);
    columns.push({ name, type, required });
  }
  const first = new Map<string, number>();
  for (const [i, { name }] of columns.entries()) {
    const earlier = first.get(name);
    if (earlier !== undefined)
      return refuse(
        `signature.inputs[${i}]`,
        `column ${quote(name)} is listed twice (first at signature.inputs[${earlier}])`,
      );
    first.set(name, i);
  }
  try {
    // The rule registerModelVersion applies to featureColumns, so what is read here registers.
    checkColumns(
      'signature.inputs',
      columns.map((c) => c.name),
      false,
    );
  } catch (error) {
    if (!(error instanceof BadInputError)) throw error;
    const index = /\[(\d+)\]$/.exec(error.field)?.[1];
    const column = index === undefined ? undefined : columns[Number(index)];
    const reason = error.message.slice(error.field.length + 2);
    return refuse(error.field, column ? `column ${quote(column.name)}: ${reason}` : reason);
  }
  return { ok: true, inputs: { kind: 'columns', columns } };
}

function tensorInputs(specs: readonly Record<string, unknown>[]): SignatureReading {
  if (specs.length !== 1)
    return refuse(
      'signature.inputs',
      `has ${specs.length} tensor inputs; Gatehouse scores a model with one input, a float matrix [N, F]`,
    );
  const spec = specs[0] as Record<string, unknown>;
  const at = 'signature.inputs[0]';
  const name = spec['name'] ?? null;
  if (name !== null) {
    if (typeof name !== 'string') return refuse(`${at}.name`, 'must be a string');
    const fault = textFault(name);
    if (fault) return refuse(`${at}.name`, fault);
    if (name.trim() === '') return refuse(`${at}.name`, 'must not be empty');
  }
  const tensor = spec['tensor-spec'];
  if (typeof tensor !== 'object' || tensor === null || Array.isArray(tensor))
    return refuse(`${at}["tensor-spec"]`, 'must be an object with dtype and shape');
  const { dtype, shape } = tensor as Record<string, unknown>;
  if (typeof dtype !== 'string' || !/^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(dtype))
    return refuse(`${at}["tensor-spec"].dtype`, 'must be a NumPy dtype name such as float32');
  if (
    !Array.isArray(shape) ||
    shape.length === 0 ||
    shape.length > 32 ||
    !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= -1)
  )
    return refuse(
      `${at}["tensor-spec"].shape`,
      'must be a list of dimensions, each a size or -1 for a free one',
    );
  return { ok: true, inputs: { kind: 'tensor', name, dtype, shape: shape as number[] } };
}

function isNumeric(type: string): type is MlflowNumericType {
  return (NUMERIC_COLUMN_TYPES as readonly string[]).includes(type);
}

function refuse(member: string, reason: string): SignatureReading {
  return { ok: false, reason: `${member}: ${reason}` };
}

/** A name from the file, quoted with its control characters and lone surrogates escaped. */
export function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
