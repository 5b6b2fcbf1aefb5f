/**
 * Ordering of finite floats by an LSD radix sort on their IEEE-754 bit patterns: linear time and
 * no comparator calls, which on a million rows is several times faster than a comparison sort
 * of row indices, and stable, so equal scores keep their row order.
 */

/** Sort keys, least significant 32-bit word first: one word for float32, two for float64. */
export type SortKeys = readonly Uint32Array[];

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Unsigned keys whose order is the numeric order of finite `values`: the sign bit is flipped
 * for positives and all bits for negatives; -0 gets the key of +0, so the two tie. Float64 values that are all
 * exactly float32 (as ONNX scores are) get the narrower key.
 */
export function sortKeys(values: Float64Array | Float32Array): SortKeys {
  if (values instanceof Float64Array && !allFloat32(values)) {
    if (!LITTLE_ENDIAN) throw new Error('radix keys assume a little-endian platform');
    const words = new Uint32Array(
      values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength),
    );
    const n = values.length;
    const low = new Uint32Array(n);
    const high = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
      const lo = words[2 * i] ?? 0;
      const hi = words[2 * i + 1] ?? 0;
      if (hi === 0x80000000 && lo === 0) {
        high[i] = 0x80000000; // -0 sorts as +0
      } else if (hi & 0x80000000) {
        low[i] = ~lo >>> 0;
        high[i] = ~hi >>> 0;
      } else {
        low[i] = lo;
        high[i] = (hi | 0x80000000) >>> 0;
      }
    }
    return [low, high];
  }
  const bits = new Uint32Array(Float32Array.from(values).buffer);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i] ?? 0;
    // -0 (0x80000000) sorts as +0
    bits[i] = b & 0x7fffffff && b & 0x80000000 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
  }
  return [bits];
}

function allFloat32(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) {
    const value = values[i] ?? 0;
    if (Math.fround(value) !== value) return false;
  }
  return true;
}

/** The value a key stands for (the inverse of sortKeys), as a float64. */
export function keyValues(keys: SortKeys): Float64Array {
  const n = keys[0]?.length ?? 0;
  const out = new Float64Array(n);
  if (keys.length === 1) {
    const bits = new Uint32Array(n);
    const key = keys[0] ?? bits;
    for (let i = 0; i < n; i++) {
      const k = key[i] ?? 0;
      bits[i] = k & 0x80000000 ? (k ^ 0x80000000) >>> 0 : ~k >>> 0;
    }
    out.set(new Float32Array(bits.buffer));
    return out;
  }
  const low = keys[0] ?? new Uint32Array(0);
  const high = keys[1] ?? new Uint32Array(0);
  const words = new Uint32Array(out.buffer);
  for (let i = 0; i < n; i++) {
    const lo = low[i] ?? 0;
    const hi = high[i] ?? 0;
    if (hi & 0x80000000) {
      words[2 * i] = lo;
      words[2 * i + 1] = (hi ^ 0x80000000) >>> 0;
    } else {
      words[2 * i] = ~lo >>> 0;
      words[2 * i + 1] = ~hi >>> 0;
    }
  }
  return out;
}

// 11-bit digits: a 2048-entry histogram stays in the first-level cache, and a 32-bit word takes
// three passes (11 + 11 + 10 bits).
const DIGITS: readonly (readonly [shift: number, mask: number])[] = [
  [0, 0x7ff],
  [11, 0x7ff],
  [22, 0x3ff],
];

/**
 * Sorts the keys ascending, carrying `payload` (e.g. row indices) along; stable. Passes over a
 * digit that every key shares are skipped. Returns new arrays; the inputs are reused as
 * scratch space and must not be read afterwards.
 */
export function radixSort(
  keys: SortKeys,
  payload: Int32Array | null,
): { keys: Uint32Array[]; payload: Int32Array | null } {
  const n = keys[0]?.length ?? 0;
  let current: Uint32Array[] = [...keys];
  let spare: Uint32Array[] = keys.map(() => new Uint32Array(n));
  let carried: Int32Array | null = payload;
  let carriedSpare: Int32Array | null = payload === null ? null : new Int32Array(n);
  const offsets = new Int32Array(2048);
  for (let w = 0; w < keys.length; w++) {
    for (const [shift, mask] of DIGITS) {
      const word = current[w] ?? new Uint32Array(0);
      offsets.fill(0);
      for (let i = 0; i < n; i++) {
        const d = ((word[i] ?? 0) >>> shift) & mask;
        offsets[d] = (offsets[d] ?? 0) + 1;
      }
      if (offsets.includes(n)) continue;
      let offset = 0;
      for (let d = 0; d <= mask; d++) {
        const c = offsets[d] ?? 0;
        offsets[d] = offset;
        offset += c;
      }
      scatter({ word, shift, mask, offsets }, current, spare, carried, carriedSpare);
      [current, spare] = [spare, current];
      [carried, carriedSpare] = [carriedSpare, carried];
    }
  }
  return { keys: current, payload: carried };
}

interface Digit {
  readonly word: Uint32Array;
  readonly shift: number;
  readonly mask: number;
  /** Where the next key with each digit value goes; advanced as keys are placed. */
  readonly offsets: Int32Array;
}

/** One stable counting-sort pass over one digit, moving every key word and the payload. */
function scatter(
  { word, shift, mask, offsets }: Digit,
  from: readonly Uint32Array[],
  to: readonly Uint32Array[],
  payload: Int32Array | null,
  payloadTo: Int32Array | null,
): void {
  const n = word.length;
  const empty = new Uint32Array(0);
  const low = from[0] ?? empty;
  const lowTo = to[0] ?? empty;
  const high = from[1] ?? empty;
  const highTo = to[1] ?? empty;
  const twoWords = from.length > 1;
  const indices = payload ?? new Int32Array(0);
  const indicesTo = payloadTo ?? new Int32Array(0);
  const carry = payload !== null;
  for (let i = 0; i < n; i++) {
    const d = ((word[i] ?? 0) >>> shift) & mask;
    const p = offsets[d] ?? 0;
    offsets[d] = p + 1;
    lowTo[p] = low[i] ?? 0;
    if (twoWords) highTo[p] = high[i] ?? 0;
    if (carry) indicesTo[p] = indices[i] ?? 0;
  }
}
