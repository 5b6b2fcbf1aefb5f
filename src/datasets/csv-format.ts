import { isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';
import { CsvError, Parser } from 'csv-parse';
import { BadInputError } from '../common/errors.js';

export const MAX_RECORD_CHARS = 1 << 20;

/**
 * How Gatehouse reads a dataset CSV, the same at upload and every later read: RFC 4180
 * (comma, double quotes doubled inside quoted values, CRLF or LF), UTF-8 with an optional BOM,
 * a header line, blank lines ignored. Rows of the wrong length are refused by the callers
 * (with the header's width in the message), so the parser is told to let them through.
 *
 * Records are plain string arrays: csv-parse's per-record `info` would tell each row's line
 * but makes parsing 2.5 times slower, so rows are named by their number after the header and
 * lines are given where the parser knows them (syntax errors). The header is kept as soon as
 * it is parsed, since a syntax error can surface before a consumer has read any record.
 */
export class CsvParser extends Parser {
  header: string[] | undefined;

  constructor() {
    super({
      bom: true,
      relax_column_count: true,
      skip_empty_lines: true,
      // An unclosed quote would otherwise swallow the rest of the file into one value.
      max_record_size: MAX_RECORD_CHARS,
    });
  }

  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    if (this.header === undefined && Array.isArray(chunk)) this.header = chunk as string[];
    return super.push(chunk, encoding);
  }
}

/** The line endings csv-parse tells apart (the first in a file is its line ending). */
export type LineEnding = '\n' | '\r\n' | '\r';

const FIELD = 'dataset';

/** A number as a dataset value: decimal or scientific notation, finite; spaces around allowed. */
const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function parseNumber(text: string): number | undefined {
  const plain = plainDecimal(text);
  if (plain !== undefined) return plain;
  const trimmed = text.trim();
  if (!NUMBER.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

const POWERS_OF_TEN = Array.from({ length: 16 }, (_, k) => 10 ** k);

/**
 * The common case, twice as fast as `Number` (which a dataset calls for every value of every
 * row): a sign, at most 15 digits and a point, nothing else. Its digits are an integer below
 * 2^53 and its scale a power of ten that doubles hold exactly, so one division gives the
 * correctly rounded value, the double `Number` gives (Clinger's fast path). Undefined for
 * anything else, which the pattern then decides.
 */
function plainDecimal(text: string): number | undefined {
  const length = text.length;
  let i = 0;
  const sign = text.charCodeAt(0);
  if (sign === 0x2d || sign === 0x2b) i = 1;
  let digits = 0;
  let mantissa = 0;
  let point = -1;
  for (; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x30 && code <= 0x39) {
      mantissa = mantissa * 10 + (code - 0x30);
      digits++;
    } else if (code === 0x2e && point < 0) point = i;
    else return undefined;
  }
  if (digits === 0 || digits > 15) return undefined;
  const value = mantissa / (POWERS_OF_TEN[point < 0 ? 0 : length - 1 - point] ?? Number.NaN);
  return sign === 0x2d ? -value : value;
}

/** Where in the file a problem is: data rows count from 1 after the header. */
export interface CsvPosition {
  readonly row?: number;
  readonly line?: number;
  readonly column?: string;
}

export function csvProblem(position: CsvPosition, reason: string): BadInputError {
  const where = [
    position.row === undefined ? undefined : `row ${position.row}`,
    position.line === undefined ? undefined : `line ${position.line}`,
    position.column === undefined ? undefined : `column ${JSON.stringify(position.column)}`,
  ].filter((p) => p !== undefined);
  const details: Record<string, unknown> = {};
  if (position.row !== undefined) details['row'] = position.row;
  if (position.line !== undefined) details['line'] = position.line;
  if (position.column !== undefined) details['column'] = position.column;
  return new BadInputError(
    FIELD,
    where.length === 0 ? reason : `${where.join(', ')}: ${reason}`,
    details,
  );
}

/** csv-parse's syntax errors, named by data row (1-based, after the header), line and column. */
export function csvSyntaxProblem(
  error: unknown,
  header: readonly string[] | undefined,
): BadInputError | undefined {
  if (!(error instanceof CsvError)) return undefined;
  const records = typeof error['records'] === 'number' ? error['records'] : undefined;
  const index = typeof error['index'] === 'number' ? error['index'] : undefined;
  const line = typeof error['lines'] === 'number' ? error['lines'] : undefined;
  const inHeader = records === 0 || header === undefined;
  const column =
    index === undefined
      ? undefined
      : inHeader
        ? `#${index + 1}`
        : (header[index] ?? `#${index + 1} (beyond the header)`);
  const row = inHeader ? {} : { row: records };
  const code = error.code as string;
  switch (code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      // csv-parse reports the last line of the file here, not where the quote opened.
      return csvProblem(
        { ...row, column },
        'a quoted value is never closed (the file ends inside it)',
      );
    case 'CSV_INVALID_CLOSING_QUOTE':
      return csvProblem(
        { ...row, line, column },
        'a closing quote must be followed by a comma or the end of the line; write a quote inside a quoted value as two quotes ("")',
      );
    case 'INVALID_OPENING_QUOTE':
      return csvProblem(
        { ...row, line, column },
        'a quote inside an unquoted value; quote the whole value and write the inner quote as two quotes ("")',
      );
    case 'CSV_MAX_RECORD_SIZE':
      return csvProblem(
        row,
        `the row is longer than ${MAX_RECORD_CHARS} characters (often an unclosed quote)`,
      );
    default:
      return csvProblem({ ...row, line, column }, error.message);
  }
}

/**
 * Refuses bytes that are not UTF-8, naming the line and byte offset of the first bad byte
 * (csv-parse would otherwise turn them into U+FFFD without a word). A multi-byte character
 * split across chunks is carried over to the next.
 */
export class Utf8Guard extends Transform {
  private readonly check = new Utf8Check();

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    try {
      this.check.pass(chunk);
    } catch (error) {
      done(error as Error);
      return;
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    try {
      this.check.end();
    } catch (error) {
      done(error as Error);
      return;
    }
    done(null);
  }
}

/** Utf8Guard's rule, chunk by chunk: `pass` and `end` throw the BadInputError of a bad byte. */
export class Utf8Check {
  private carry: Buffer = Buffer.alloc(0);
  /** Bytes passed before `carry`, and the line they end on. */
  private offset = 0;
  private line = 1;

  pass(chunk: Buffer): void {
    const bytes = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    const end = completeEnd(bytes);
    const body = bytes.subarray(0, end);
    if (!isUtf8(body)) throw this.failure(body);
    // The one character of the text rule (src/common/text-rules.ts) that UTF-8 can carry:
    // valid UTF-8 holds no unpaired surrogate.
    const nul = body.indexOf(0);
    if (nul !== -1) throw this.nulFailure(body, nul);
    this.line += countNewlines(body);
    this.offset += end;
    this.carry = Buffer.from(bytes.subarray(end));
  }

  end(): void {
    if (this.carry.length !== 0) throw this.failure(this.carry);
  }

  private nulFailure(bytes: Buffer, at: number): BadInputError {
    const line = this.line + countNewlines(bytes.subarray(0, at));
    return new BadInputError(
      FIELD,
      `line ${line}: contains NUL (U+0000, at offset ${this.offset + at}), which no text may hold here`,
      { line, offset: this.offset + at },
    );
  }

  private failure(bytes: Buffer): BadInputError {
    const at = firstInvalidUtf8(bytes);
    const line = this.line + countNewlines(bytes.subarray(0, at));
    const byte = bytes[at] ?? 0;
    return new BadInputError(
      FIELD,
      `line ${line}: is not UTF-8 text (byte 0x${byte.toString(16).padStart(2, '0')} at offset ${this.offset + at}); save the file as UTF-8`,
      { line, offset: this.offset + at },
    );
  }
}

/** The end of the last complete UTF-8 sequence: a lead byte whose sequence is cut is held back. */
function completeEnd(bytes: Buffer): number {
  for (let back = 1; back <= Math.min(3, bytes.length); back++) {
    const b = bytes[bytes.length - back] ?? 0;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for its lead
    const length = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return length > back ? bytes.length - back : bytes.length;
  }
  return bytes.length;
}

function countNewlines(bytes: Buffer): number {
  let count = 0;
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1)) count++;
  return count;
}

/** Offset of the first byte that does not belong to a well-formed UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined) return i;
      if (k === 1 ? c < low || c > high : c < 0x80 || c > 0xbf) return i;
    }
    i += need + 1;
  }
  return bytes.length;
}
