import type { SchemaElement, TimeUnit } from 'hyparquet';

/**
 * How each Parquet column type becomes a dataset column. Numbers (booleans, integers, floats,
 * decimals) become `number` columns of exact doubles; text, and the types that are best read
 * as text (dates, times, timestamps, UUIDs), become `string` columns. Everything else (binary,
 * nested, geospatial, BSON, intervals, variants) is refused with the column's name.
 *
 * hyparquet decodes each column; for the types whose conversion must be exact (decimals) or
 * spelt one way (dates and times), the annotation is taken off the schema element it is given,
 * so it hands over the stored integers and the conversion is done here.
 */
export type ParquetDecoding =
  | { readonly kind: 'number'; readonly from: 'boolean' | 'integer' | 'float' }
  | { readonly kind: 'number'; readonly from: 'decimal'; readonly scale: number }
  | { readonly kind: 'string'; readonly from: 'text' | 'uuid' | 'int96' | 'null' | 'date' }
  | { readonly kind: 'string'; readonly from: 'time'; readonly unit: TimeUnit }
  | {
      readonly kind: 'string';
      readonly from: 'timestamp';
      readonly unit: TimeUnit;
      readonly utc: boolean;
    };

export type Classified =
  | { readonly decoding: ParquetDecoding; readonly element: SchemaElement }
  | { readonly refused: string };

const TEXT_ELEMENT = { converted_type: 'UTF8', logical_type: { type: 'STRING' } } as const;
const RAW_ELEMENT = { converted_type: undefined, logical_type: undefined } as const;

/**
 * What a top-level, flat column is read as, and the schema element hyparquet decodes it
 * with; or why it is refused.
 */
export function classify(element: SchemaElement): Classified {
  const { type, converted_type: converted } = element;
  const logical = element.logical_type;
  const keep = (decoding: ParquetDecoding): Classified => ({ decoding, element });
  const raw = (decoding: ParquetDecoding): Classified => ({
    decoding,
    element: { ...element, ...RAW_ELEMENT },
  });
  const refuse = (what: string): Classified => ({
    refused: `is ${what}; a dataset column holds numbers or text`,
  });

  if (logical?.type === 'NULL') return keep({ kind: 'string', from: 'null' });
  if (converted === 'DECIMAL' || logical?.type === 'DECIMAL') {
    const scale = logical?.type === 'DECIMAL' ? logical.scale : (element.scale ?? 0);
    return raw({ kind: 'number', from: 'decimal', scale });
  }
  if (converted === 'DATE' || logical?.type === 'DATE')
    return raw({ kind: 'string', from: 'date' });
  if (converted === 'TIME_MILLIS') return raw({ kind: 'string', from: 'time', unit: 'MILLIS' });
  if (converted === 'TIME_MICROS') return raw({ kind: 'string', from: 'time', unit: 'MICROS' });
  if (logical?.type === 'TIME') return raw({ kind: 'string', from: 'time', unit: logical.unit });
  if (converted === 'TIMESTAMP_MILLIS')
    return raw({ kind: 'string', from: 'timestamp', unit: 'MILLIS', utc: true });
  if (converted === 'TIMESTAMP_MICROS')
    return raw({ kind: 'string', from: 'timestamp', unit: 'MICROS', utc: true });
  if (logical?.type === 'TIMESTAMP')
    return raw({
      kind: 'string',
      from: 'timestamp',
      unit: logical.unit,
      utc: logical.isAdjustedToUTC,
    });
  if (converted === 'BSON' || logical?.type === 'BSON') return refuse('BSON');
  if (converted === 'INTERVAL' || logical?.type === 'INTERVAL') return refuse('an interval');
  if (logical?.type === 'GEOMETRY' || logical?.type === 'GEOGRAPHY')
    return refuse('geospatial (GEOMETRY or GEOGRAPHY)');
  if (logical?.type === 'VARIANT' || logical?.type === 'FILE')
    return refuse(`of the ${logical.type} type`);
  if (logical?.type === 'UUID') return keep({ kind: 'string', from: 'uuid' });
  if (logical?.type === 'FLOAT16') return keep({ kind: 'number', from: 'float' });

  switch (type) {
    case 'BOOLEAN':
      return keep({ kind: 'number', from: 'boolean' });
    case 'INT32':
    case 'INT64':
      return keep({ kind: 'number', from: 'integer' });
    case 'FLOAT':
    case 'DOUBLE':
      return keep({ kind: 'number', from: 'float' });
    case 'INT96':
      return keep({ kind: 'string', from: 'int96' });
    case 'BYTE_ARRAY':
      // STRING, ENUM, JSON, or no annotation at all: many writers leave it off text. The bytes
      // must be UTF-8 (checked as they are decoded), so a binary column is still refused.
      return {
        decoding: { kind: 'string', from: 'text' },
        element: { ...element, ...TEXT_ELEMENT },
      };
    case 'FIXED_LEN_BYTE_ARRAY':
      return refuse('binary (FIXED_LEN_BYTE_ARRAY)');
    case undefined:
      return refuse('a group of columns');
  }
}

/** A value that cannot be taken, and why: the caller names the row and column. */
export class ValueProblem extends Error {}

/** The largest integer a double holds exactly, and every integer below it. */
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * One decoded Parquet value as a dataset number; null for a missing value. Throws
 * ValueProblem for a value Gatehouse refuses: NaN or an infinity, an integer beyond 2^53 − 1
 * (a double would round it).
 */
export function numberOf(
  decoding: Extract<ParquetDecoding, { kind: 'number' }>,
  value: unknown,
): number | null {
  if (value === null || value === undefined) return null;
  switch (decoding.from) {
    case 'boolean':
      return value === true ? 1 : 0;
    case 'integer':
      if (typeof value === 'bigint') {
        if (value > SAFE || value < -SAFE)
          throw new ValueProblem(
            `${value} is beyond ±(2^53 − 1), the integers a double holds exactly`,
          );
        return Number(value);
      }
      return Number(value);
    case 'float': {
      const number = Number(value);
      if (!Number.isFinite(number))
        throw new ValueProblem(
          `${String(number)} is not a finite number; write a missing value as null`,
        );
      return number;
    }
    case 'decimal':
      return decimalOf(unscaledOf(value), decoding.scale);
  }
}

function unscaledOf(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number') return BigInt(value);
  if (value instanceof Uint8Array) {
    // Big-endian two's complement, as Parquet stores a decimal in bytes.
    let unscaled = 0n;
    for (const byte of value) unscaled = (unscaled << 8n) | BigInt(byte);
    const bits = BigInt(value.length * 8);
    if (value.length > 0 && (value[0] ?? 0) >= 0x80) unscaled -= 1n << bits;
    return unscaled;
  }
  throw new ValueProblem('a decimal whose stored value cannot be read');
}

/**
 * The double nearest the decimal: the one the same value written out in a CSV gives, since
 * JavaScript's parsing of decimal text rounds correctly.
 */
export function decimalOf(unscaled: bigint, scale: number): number {
  return Number(`${unscaled}e${-scale}`);
}

const UNITS_PER_MS: Readonly<Record<TimeUnit, bigint>> = {
  MILLIS: 1n,
  MICROS: 1000n,
  NANOS: 1_000_000n,
};
const FRACTION_DIGITS: Readonly<Record<TimeUnit, number>> = { MILLIS: 3, MICROS: 6, NANOS: 9 };
/** The range of JavaScript dates: ±100,000,000 days around 1970. */
const MAX_MS = 8_640_000_000_000_000n;

/**
 * One decoded Parquet value as dataset text; null for a missing value. Dates are ISO 8601
 * (`2024-03-01`), times `13:45:00.250` to the column's precision, timestamps
 * `2024-03-01T13:45:00.250Z` to the column's precision (no `Z` when the column is not
 * adjusted to UTC: a local time).
 */
export function textOf(
  decoding: Extract<ParquetDecoding, { kind: 'string' }>,
  value: unknown,
): string | null {
  if (value === null || value === undefined) return null;
  switch (decoding.from) {
    case 'text':
    case 'uuid':
    case 'int96':
      if (typeof value !== 'string') throw new ValueProblem('holds a value that is not text');
      return value;
    case 'null':
      throw new ValueProblem('holds a value in a column declared NULL (always missing)');
    case 'date':
      return isoDate(Number(value));
    case 'time':
      return isoTime(BigInt(value as number | bigint), decoding.unit);
    case 'timestamp':
      return isoTimestamp(BigInt(value as number | bigint), decoding.unit, decoding.utc);
  }
}

export function isoDate(days: number): string {
  const ms = BigInt(days) * 86_400_000n;
  if (ms > MAX_MS || ms < -MAX_MS) throw new ValueProblem(`day ${days} is out of range`);
  const iso = new Date(Number(ms)).toISOString();
  return iso.slice(0, iso.indexOf('T'));
}

export function isoTimestamp(value: bigint, unit: TimeUnit, utc: boolean): string {
  const perMs = UNITS_PER_MS[unit];
  let ms = value / perMs;
  let rest = value % perMs;
  if (rest < 0n) {
    ms -= 1n;
    rest += perMs;
  }
  if (ms > MAX_MS || ms < -MAX_MS)
    throw new ValueProblem(`${value} (${unit.toLowerCase()}) is out of the range of dates`);
  const iso = new Date(Number(ms)).toISOString();
  const subMs = FRACTION_DIGITS[unit] - 3;
  const text = subMs === 0 ? iso : `${iso.slice(0, -1)}${String(rest).padStart(subMs, '0')}Z`;
  return utc ? text : text.slice(0, -1);
}

export function isoTime(value: bigint, unit: TimeUnit): string {
  const perMs = UNITS_PER_MS[unit];
  if (value < 0n || value >= 86_400_000n * perMs)
    throw new ValueProblem(`${value} (${unit.toLowerCase()}) is not a time of day`);
  return isoTimestamp(value, unit, true).slice(11, -1);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Parquet text as a string: refused unless UTF-8, and without NUL, as a CSV's text is. */
export function stringFromBytes(bytes: Uint8Array | undefined): string | undefined {
  if (bytes === undefined) return undefined;
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new ValueProblem('holds bytes that are not UTF-8 text (a binary column?)');
  }
  if (text.includes('\u0000'))
    throw new ValueProblem('contains NUL (U+0000), which no text may hold here');
  return text;
}
