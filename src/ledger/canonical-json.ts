/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * The ledger hashes and signs the canonical form of every event, and outside
 * auditors recompute it with their own JCS implementation, so this must agree byte for byte
 * with RFC 8785 — and refuse, rather than silently coerce, anything that has no single
 * canonical form: only arrays, plain objects, strings, finite numbers, booleans and null.
 *
 * JCS is defined in terms of ECMAScript: strings are escaped as JSON.stringify escapes them
 * (§3.2.2.2), numbers are written as Number.prototype.toString writes them (§3.2.2.3), and
 * members are sorted by UTF-16 code units (§3.2.3). So for data that is valid and whose
 * objects already list their keys in that order — anything parsed from canonical JSON, as in
 * chain verification — the native JSON.stringify output *is* the canonical form; otherwise a
 * serializer that sorts is used. Either way the value is walked and checked first.
 */

/** Thrown for values that have no RFC 8785 serialization; `path` names where, e.g. `$.a[2]`. */
export class CanonicalizationError extends TypeError {
  override readonly name = 'CanonicalizationError';
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`cannot canonicalize ${path}: ${problem}`);
  }
}

/** Internal: a problem on its way back up, collecting path segments (innermost first). */
class PathedProblem extends Error {
  readonly segments: string[] = [];
  constructor(readonly problem: string) {
    super(problem);
  }
}

/** Returns the RFC 8785 canonical JSON text of `value`; throws CanonicalizationError. */
export function canonicalize(value: unknown): string {
  try {
    return checkIsOrdered(value) && !toJsonHooked() ? JSON.stringify(value) : serialize(value);
  } catch (error) {
    throw located(error, '$');
  }
}

/**
 * Checks that `value` can be canonicalized (throws CanonicalizationError, its path starting
 * at `path`, if not) and tells whether JSON.stringify(value) already is its canonical text,
 * i.e. every object lists its keys in RFC 8785 order. For callers that assemble a larger
 * value from parts they have checked themselves.
 */
export function isInCanonicalOrder(value: unknown, path = '$'): boolean {
  try {
    return checkIsOrdered(value) && !toJsonHooked();
  } catch (error) {
    throw located(error, path);
  }
}

function located(error: unknown, path: string): unknown {
  if (!(error instanceof PathedProblem)) return error;
  return new CanonicalizationError(path + error.segments.reverse().join(''), error.problem);
}

const UTF8 = new TextEncoder();

/** The canonical text as UTF-8 bytes: RFC 8785 §3.2.4 mandates UTF-8 for the output. */
export function canonicalBytes(value: unknown): Uint8Array {
  return UTF8.encode(canonicalize(value));
}

// ---------------------------------------------------------------------------------------------
// What is refused, shared by the checking walk and the serializer.
// ---------------------------------------------------------------------------------------------

/**
 * Strings must be I-JSON (RFC 8785 §3.1, RFC 7493 §2.1): a lone surrogate has no UTF-8 form,
 * and JSON.stringify would write a \udXXX escape for it instead.
 */
function checkString(value: string): void {
  if (!isWellFormed(value)) throw new PathedProblem('string contains a lone surrogate');
}

type WellFormedCheck = (this: string) => boolean;
// ES2024 String.prototype.isWellFormed is native in Node ≥ 20; the target lib is ES2023.
const nativeIsWellFormed = (String.prototype as { isWellFormed?: WellFormedCheck }).isWellFormed;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** No lone UTF-16 surrogate (what RFC 8785 and PostgreSQL's text refuse). */
export function isWellFormed(value: string): boolean {
  return nativeIsWellFormed ? nativeIsWellFormed.call(value) : !LONE_SURROGATE.test(value);
}

/** RFC 8785 §3.2.2.3: IEEE-754 doubles only; NaN and ±Infinity are not JSON. */
function checkNumber(value: number): void {
  if (!Number.isFinite(value)) throw new PathedProblem(`${String(value)} is not a JSON number`);
}

/** JSON has no undefined, functions, symbols or bigints; dropping a member silently would. */
function refuseType(value: unknown): never {
  throw new PathedProblem(`${typeof value} is not a JSON value`);
}

function checkArray(value: unknown[]): void {
  if (Object.getPrototypeOf(value) !== Array.prototype) {
    throw new PathedProblem('array subclasses are not plain JSON arrays');
  }
}

/**
 * Plain objects only: Dates, Maps, Buffers and class instances have a JSON form by
 * convention (toJSON, or their enumerable fields), not as data, and would not survive a round
 * trip through the stored event. (Symbol-keyed properties are not members, as for
 * JSON.stringify: data parsed from JSON never has them.)
 */
function checkObject(value: object): Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new PathedProblem(`${describe(value)} is not a plain object`);
  }
  return value as Record<string, unknown>;
}

function describe(value: object): string {
  const name = (value.constructor as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' && name !== '' ? `a ${name}` : 'an object with a prototype';
}

/** On the way up from a problem, records where it was; the segment is built only then. */
function addSegment(error: unknown, segment: string): unknown {
  if (error instanceof PathedProblem) error.segments.push(segment);
  return error;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function memberSegment(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** A toJSON on the shared prototypes would make JSON.stringify disagree with the data. */
function toJsonHooked(): boolean {
  return 'toJSON' in Object.prototype || 'toJSON' in Array.prototype;
}

// ---------------------------------------------------------------------------------------------
// The checking walk: throws for what is refused, and tells whether every object already lists
// its keys in code-unit order, in which case JSON.stringify gives the canonical text.
// ---------------------------------------------------------------------------------------------

function checkIsOrdered(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
      checkString(value);
      return true;
    case 'number':
      checkNumber(value);
      return true;
    case 'boolean':
      return true;
    case 'object':
      if (value === null) return true;
      return Array.isArray(value) ? arrayIsOrdered(value) : objectIsOrdered(value);
    case 'undefined':
    case 'function':
    case 'symbol':
    case 'bigint':
      return refuseType(value);
  }
}

function arrayIsOrdered(value: unknown[]): boolean {
  checkArray(value);
  for (let i = 0; i < value.length; i++) {
    try {
      // A hole reads as undefined and is refused, where JSON.stringify would write null.
      if (!checkIsOrdered(value[i])) return false;
    } catch (error) {
      throw addSegment(error, `[${i}]`);
    }
  }
  return true;
}

function objectIsOrdered(value: object): boolean {
  const record = checkObject(value);
  const keys = Object.keys(record);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    // `<` on strings compares UTF-16 code units, the RFC 8785 §3.2.3 order.
    if (i > 0 && (keys[i - 1] as string) >= key) return false;
    try {
      checkString(key);
      if (!checkIsOrdered(record[key])) return false;
    } catch (error) {
      throw addSegment(error, memberSegment(key));
    }
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// The sorting serializer, for values whose objects are not already in order.
// ---------------------------------------------------------------------------------------------

function serialize(value: unknown): string {
  switch (typeof value) {
    case 'string':
      checkString(value);
      // RFC 8785 §3.2.2.2: escaped exactly as JSON.stringify does.
      return JSON.stringify(value);
    case 'number':
      checkNumber(value);
      // RFC 8785 §3.2.2.3: Number.prototype.toString, which also writes -0 as "0".
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      return Array.isArray(value) ? serializeArray(value) : serializeObject(value);
    case 'undefined':
    case 'function':
    case 'symbol':
    case 'bigint':
      return refuseType(value);
  }
}

function serializeArray(value: unknown[]): string {
  checkArray(value);
  let out = '[';
  for (let i = 0; i < value.length; i++) {
    if (i > 0) out += ',';
    try {
      out += serialize(value[i]);
    } catch (error) {
      throw addSegment(error, `[${i}]`);
    }
  }
  return out + ']';
}

/** RFC 8785 §3.2.3: the default Array.prototype.sort compares strings by UTF-16 code units. */
function serializeObject(value: object): string {
  const record = checkObject(value);
  const keys = Object.keys(record).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (i > 0) out += ',';
    try {
      out += serialize(key) + ':' + serialize(record[key]);
    } catch (error) {
      throw addSegment(error, memberSegment(key));
    }
  }
  return out + '}';
}
