import type { TensorSpec } from '../runtime/tensor-spec.js';
import { BadInputError } from '../common/errors.js';

/**
 * Open Inference Protocol (KServe v2) JSON tensors, checked against a model version's
 * signature: pure functions, no framework. A request that does not fit is refused with a
 * BadInputError naming the offending member (`inputs[0].data`, `inputs[0].shape`…) and the
 * input by name, before any model runs.
 */

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

export type TensorValue = number | boolean;

/** An input as checked: the client's values (for the prediction log) and the typed array. */
export interface InputTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: readonly number[];
  /** Row-major, flat: exactly what the client sent, in the order sent. */
  readonly values: readonly TensorValue[];
  readonly data: TypedArray;
}

/** A tensor as the model produced it. */
export interface RawTensor {
  readonly datatype: string;
  readonly shape: readonly number[];
  readonly data: TypedArray | readonly string[];
}

/** A response tensor: `data` flat, row-major (OIP JSON). */
export interface OutputTensor {
  readonly name: string;
  readonly datatype: string;
  readonly shape: number[];
  readonly data: (number | boolean | string)[];
}

/** What a model version accepts and returns; free dimensions are -1. */
export interface ModelSignature {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

/** The members of a request that choose the route, read before the version is known. */
export interface InferEnvelope {
  readonly id: string | undefined;
  /** `parameters.routing_key`. */
  readonly routingKey: string | undefined;
  /**
   * `parameters.attributes`: the protected attributes of the subject of the request (for
   * example `{"sex": "female"}`), never fed to the model; rollouts measure selection rates
   * per group with them.
   */
  readonly attributes: Readonly<Record<string, string>> | null;
  readonly inputs: readonly unknown[];
  readonly outputs: readonly unknown[] | undefined;
}

export interface CheckedRequest {
  readonly inputs: readonly InputTensor[];
  /** The outputs asked for, in the order asked; undefined: all of them. */
  readonly outputs: readonly string[] | undefined;
  /** The first dimension of the inputs (1 for scalar inputs). */
  readonly rows: number;
}

/** Longest request id kept: it is echoed and logged. */
export const MAX_REQUEST_ID_LENGTH = 256;

interface Kind {
  readonly create: (length: number) => TypedArray;
  /** The value to store, or undefined when `v` is not one of this type. */
  readonly convert: (v: unknown) => number | bigint | undefined;
  readonly expected: string;
}

/** A JSON literal beyond the double range (`1e400`) parses to Infinity: no model input. */
const float = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
/** A finite double can still overflow float32 (3.5e38 becomes Infinity when stored). */
const float32 = (v: unknown): number | undefined =>
  typeof v === 'number' && Math.abs(v) <= FLOAT32_MAX ? v : undefined;
const FLOAT32_MAX = 3.4028234663852886e38;
const integer =
  (min: number, max: number) =>
  (v: unknown): number | undefined =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? v : undefined;
const bigInteger =
  (min: number) =>
  (v: unknown): bigint | undefined =>
    typeof v === 'number' && Number.isSafeInteger(v) && v >= min ? BigInt(v) : undefined;

/**
 * The datatypes a JSON request may carry. INT64 and UINT64 values must be safe integers
 * (|v| < 2^53): JSON numbers beyond that have already lost their digits when parsed.
 */
const KINDS: Readonly<Record<string, Kind>> = {
  FP32: {
    create: (n) => new Float32Array(n),
    convert: float32,
    expected: 'a finite number within the float32 range',
  },
  FP64: { create: (n) => new Float64Array(n), convert: float, expected: 'a finite number' },
  INT8: {
    create: (n) => new Int8Array(n),
    convert: integer(-128, 127),
    expected: 'an integer from -128 to 127',
  },
  INT16: {
    create: (n) => new Int16Array(n),
    convert: integer(-32768, 32767),
    expected: 'an integer from -32768 to 32767',
  },
  INT32: {
    create: (n) => new Int32Array(n),
    convert: integer(-(2 ** 31), 2 ** 31 - 1),
    expected: 'a 32-bit integer',
  },
  INT64: {
    create: (n) => new BigInt64Array(n),
    convert: bigInteger(Number.MIN_SAFE_INTEGER),
    expected: 'an integer with |v| < 2^53',
  },
  UINT8: {
    create: (n) => new Uint8Array(n),
    convert: integer(0, 255),
    expected: 'an integer from 0 to 255',
  },
  UINT16: {
    create: (n) => new Uint16Array(n),
    convert: integer(0, 65535),
    expected: 'an integer from 0 to 65535',
  },
  UINT32: {
    create: (n) => new Uint32Array(n),
    convert: integer(0, 2 ** 32 - 1),
    expected: 'an unsigned 32-bit integer',
  },
  UINT64: {
    create: (n) => new BigUint64Array(n),
    convert: bigInteger(0),
    expected: 'a non-negative integer below 2^53',
  },
  BOOL: {
    create: (n) => new Uint8Array(n),
    convert: (v) => (typeof v === 'boolean' ? (v ? 1 : 0) : undefined),
    expected: 'true or false',
  },
};

export const SUPPORTED_DATATYPES: readonly string[] = Object.keys(KINDS);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads the request's id, routing key and tensor lists; the tensors are checked later. */
export function readEnvelope(body: unknown): InferEnvelope {
  if (!isObject(body))
    throw new BadInputError('body', 'expected a JSON object with an "inputs" array');
  const { id, parameters, inputs, outputs } = body;
  if (id !== undefined && (typeof id !== 'string' || id.length === 0))
    throw new BadInputError('id', 'must be a non-empty string');
  if (typeof id === 'string' && id.length > MAX_REQUEST_ID_LENGTH)
    throw new BadInputError('id', `must be at most ${MAX_REQUEST_ID_LENGTH} characters`);
  if (parameters !== undefined && !isObject(parameters))
    throw new BadInputError('parameters', 'must be an object');
  const routingKey = parameters?.['routing_key'];
  if (routingKey !== undefined && (typeof routingKey !== 'string' || routingKey === ''))
    throw new BadInputError('parameters.routing_key', 'must be a non-empty string');
  const attributes = readAttributes(parameters?.['attributes']);
  if (!Array.isArray(inputs) || inputs.length === 0)
    throw new BadInputError('inputs', 'expected a non-empty array of input tensors');
  if (outputs !== undefined && !Array.isArray(outputs))
    throw new BadInputError('outputs', 'must be an array of {"name": …}');
  return {
    id,
    routingKey,
    attributes,
    inputs: inputs as unknown[],
    outputs: outputs as unknown[] | undefined,
  };
}

const MAX_ATTRIBUTES = 16;
const MAX_ATTRIBUTE_LENGTH = 128;

function readAttributes(value: unknown): Readonly<Record<string, string>> | null {
  if (value === undefined) return null;
  const field = 'parameters.attributes';
  if (!isObject(value))
    throw new BadInputError(field, 'must be an object of attribute names to group names');
  const entries = Object.entries(value);
  if (entries.length > MAX_ATTRIBUTES)
    throw new BadInputError(field, `may name at most ${MAX_ATTRIBUTES} attributes`);
  const out: [string, string][] = [];
  for (const [name, group] of entries) {
    if (name.length === 0 || name.length > MAX_ATTRIBUTE_LENGTH)
      throw new BadInputError(
        field,
        `attribute names have 1 to ${MAX_ATTRIBUTE_LENGTH} characters`,
      );
    if (typeof group !== 'string' || group.length === 0 || group.length > MAX_ATTRIBUTE_LENGTH)
      throw new BadInputError(
        `${field}.${name}`,
        `must be a group name of 1 to ${MAX_ATTRIBUTE_LENGTH} characters`,
      );
    out.push([name, group]);
  }
  // Own members whatever the names (fromEntries defines them; assignment would not).
  return entries.length === 0 ? null : Object.fromEntries(out);
}

/** Checks the envelope's tensors against the signature of the version that will run them. */
export function checkTensors(
  envelope: InferEnvelope,
  signature: ModelSignature,
  maxRows: number,
): CheckedRequest {
  const given = new Set<string>();
  const inputs: InputTensor[] = [];
  let rows: number | undefined;
  envelope.inputs.forEach((raw, i) => {
    const input = checkInput(raw, i, signature, maxRows);
    if (given.has(input.name))
      throw new BadInputError(`inputs[${i}].name`, `input "${input.name}" is given twice`);
    given.add(input.name);
    const inputRows = input.shape.length === 0 ? 1 : (input.shape[0] ?? 1);
    if (rows !== undefined && inputRows !== rows)
      throw new BadInputError(
        `inputs[${i}].shape`,
        `input "${input.name}" has ${inputRows} rows, the inputs before it have ${rows}`,
      );
    rows = inputRows;
    inputs.push(input);
  });
  const missing = signature.inputs.filter((s) => !given.has(s.name)).map((s) => s.name);
  if (missing.length > 0)
    throw new BadInputError('inputs', `missing input ${missing.map((m) => `"${m}"`).join(', ')}`);
  return { inputs, outputs: checkRequestedOutputs(envelope.outputs, signature), rows: rows ?? 1 };
}

function checkInput(
  raw: unknown,
  i: number,
  signature: ModelSignature,
  maxRows: number,
): InputTensor {
  const at = `inputs[${i}]`;
  if (!isObject(raw))
    throw new BadInputError(at, 'expected an object with name, datatype, shape and data');
  const { name, datatype, shape, data } = raw;
  if (typeof name !== 'string' || name === '')
    throw new BadInputError(`${at}.name`, 'must be a non-empty string');
  const spec = signature.inputs.find((s) => s.name === name);
  if (!spec)
    throw new BadInputError(
      `${at}.name`,
      `unknown input "${name}"; the model's inputs: ${signature.inputs.map((s) => `"${s.name}"`).join(', ')}`,
    );
  if (typeof datatype !== 'string')
    throw new BadInputError(
      `${at}.datatype`,
      `input "${name}" needs a datatype (${spec.datatype})`,
    );
  if (datatype !== spec.datatype)
    throw new BadInputError(
      `${at}.datatype`,
      `input "${name}" is ${spec.datatype}, got ${datatype}`,
    );
  const kind = KINDS[datatype];
  if (!kind)
    throw new BadInputError(
      `${at}.datatype`,
      `input "${name}" is ${datatype}, which JSON requests cannot carry (supported: ${SUPPORTED_DATATYPES.join(', ')})`,
    );
  const dims = checkShape(shape, spec, `${at}.shape`, maxRows);
  const values = flatten(data, dims, `${at}.data`, name);
  const typed = kind.create(values.length);
  for (let j = 0; j < values.length; j++) {
    const converted = kind.convert(values[j]);
    if (converted === undefined)
      throw new BadInputError(
        `${at}.data`,
        `input "${name}" value ${j}${rowOf(j, dims)} must be ${kind.expected}, got ${describe(values[j])}`,
      );
    typed[j] = converted;
  }
  return { name, datatype, shape: dims, values: values as TensorValue[], data: typed };
}

function checkShape(shape: unknown, spec: TensorSpec, at: string, maxRows: number): number[] {
  if (
    !Array.isArray(shape) ||
    !shape.every((d): d is number => typeof d === 'number' && Number.isInteger(d) && d >= 0)
  )
    throw new BadInputError(at, 'must be an array of non-negative integers');
  const expected = spec.shape;
  if (shape.length !== expected.length)
    throw new BadInputError(
      at,
      `input "${spec.name}" has shape ${formatSpecShape(expected)} (rank ${expected.length}), got [${shape.join(', ')}]`,
    );
  expected.forEach((want, d) => {
    const got = shape[d] ?? 0;
    if (want >= 0 && got !== want) {
      const what =
        d === expected.length - 1 && expected.length >= 2
          ? `expected ${want} values per row, got ${got}`
          : `dimension ${d} must be ${want}, got ${got}`;
      throw new BadInputError(
        at,
        `input "${spec.name}" ${what} (shape ${formatSpecShape(expected)})`,
      );
    }
  });
  if (expected.length > 0 && (expected[0] ?? -1) < 0) {
    const rows = shape[0] ?? 0;
    if (rows < 1) throw new BadInputError(at, `input "${spec.name}" needs at least one row`);
    if (rows > maxRows)
      throw new BadInputError(
        at,
        `too many rows for input "${spec.name}": ${rows}, at most ${maxRows} per request`,
      );
  }
  return shape;
}

/** [N, 60] for a spec of [-1, 60]. */
function formatSpecShape(shape: readonly number[]): string {
  return `[${shape.map((d, i) => (d >= 0 ? String(d) : i === 0 ? 'N' : '?')).join(', ')}]`;
}

/**
 * The values of `data`, flat and row-major. Flat data must hold exactly the shape's number
 * of values; nested data must nest exactly as the shape says.
 */
function flatten(data: unknown, shape: readonly number[], at: string, name: string): unknown[] {
  if (!Array.isArray(data))
    throw new BadInputError(at, `input "${name}" needs its values as an array`);
  const size = shape.reduce((a, b) => a * b, 1);
  const nested = shape.length >= 2 && data.length > 0 && Array.isArray(data[0]);
  if (!nested) {
    if (data.length !== size) {
      const rows = shape[0] ?? 1;
      const hint = shape.length >= 2 && rows > 1 ? ` (${size / rows} values per row)` : '';
      throw new BadInputError(
        at,
        `input "${name}" has shape [${shape.join(', ')}]: expected ${size} values${hint}, got ${data.length}`,
      );
    }
    return data;
  }
  const flat: unknown[] = [];
  const walk = (node: unknown, depth: number, path: string): void => {
    const want = shape[depth] ?? 0;
    if (!Array.isArray(node))
      throw new BadInputError(
        `${at}${path}`,
        `input "${name}": expected an array of ${want} values for shape [${shape.join(', ')}], got ${describe(node)}`,
      );
    if (node.length !== want) {
      const what =
        depth === shape.length - 1 ? `${want} values per row` : `${want} entries at depth ${depth}`;
      throw new BadInputError(
        `${at}${path}`,
        `input "${name}": expected ${what}, got ${node.length}`,
      );
    }
    if (depth === shape.length - 1) {
      for (const v of node as unknown[]) flat.push(v);
      return;
    }
    (node as unknown[]).forEach((child, k) => {
      walk(child, depth + 1, `${path}[${k}]`);
    });
  };
  walk(data, 0, '');
  return flat;
}

function rowOf(index: number, shape: readonly number[]): string {
  if (shape.length < 2) return '';
  const perRow = shape.slice(1).reduce((a, b) => a * b, 1);
  return perRow > 0 ? ` (row ${Math.floor(index / perRow)}, column ${index % perRow})` : '';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  return typeof value === 'object' ? 'an object' : typeof value;
}

function checkRequestedOutputs(
  outputs: readonly unknown[] | undefined,
  signature: ModelSignature,
): string[] | undefined {
  if (outputs === undefined) return undefined;
  const names: string[] = [];
  outputs.forEach((raw, i) => {
    const name = isObject(raw) ? raw['name'] : undefined;
    if (typeof name !== 'string' || name === '')
      throw new BadInputError(`outputs[${i}].name`, 'must be a non-empty string');
    if (!signature.outputs.some((s) => s.name === name))
      throw new BadInputError(
        `outputs[${i}].name`,
        `unknown output "${name}"; the model's outputs: ${signature.outputs.map((s) => `"${s.name}"`).join(', ')}`,
      );
    if (!names.includes(name)) names.push(name);
  });
  return names;
}

/** An output value the protocol's JSON cannot carry: NaN or an infinity. */
export class NonFiniteOutputError extends Error {
  constructor(
    readonly output: string,
    readonly index: number,
    readonly value: number,
  ) {
    super(`output "${output}" value ${index} is ${String(value)}, which JSON cannot carry`);
    this.name = 'NonFiniteOutputError';
  }
}

/**
 * The response tensors, in the order asked for (or the model's order). Floating-point NaN or
 * infinities are refused with NonFiniteOutputError rather than sent as null: a score that is
 * not a number is a fault of the model, and a client must not mistake it for an answer.
 * INT64 outputs beyond 2^53 lose precision in JSON, as every JSON number does.
 */
export function presentOutputs(
  raw: ReadonlyMap<string, RawTensor>,
  specs: readonly TensorSpec[],
  requested: readonly string[] | undefined,
): OutputTensor[] {
  const names = requested ?? specs.map((s) => s.name);
  return names.map((name) => {
    const tensor = raw.get(name);
    if (!tensor) throw new Error(`the model did not return output "${name}"`);
    return {
      name,
      datatype: tensor.datatype,
      shape: [...tensor.shape],
      data: jsonValues(name, tensor),
    };
  });
}

function jsonValues(name: string, tensor: RawTensor): (number | boolean | string)[] {
  const { data } = tensor;
  if (tensor.datatype === 'BOOL') return Array.from(data as Uint8Array, (v) => v !== 0);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array)
    return Array.from(data, (v) => Number(v));
  if (Array.isArray(data)) return [...(data as readonly string[])];
  const values = Array.from(data as Exclude<TypedArray, BigInt64Array | BigUint64Array>);
  if (tensor.datatype === 'FP32' || tensor.datatype === 'FP64' || tensor.datatype === 'FP16') {
    for (let i = 0; i < values.length; i++) {
      const v = values[i] ?? 0;
      if (!Number.isFinite(v)) throw new NonFiniteOutputError(name, i, v);
    }
  }
  return values;
}
