import {
  AsyncByteQueue,
  Data,
  Dictionary,
  Field,
  Float64,
  Int32,
  makeData,
  Message,
  RecordBatch,
  RecordBatchFileWriter,
  RecordBatchReader,
  Schema,
  Struct,
  Type,
  Utf8,
  Vector,
  type DataType,
} from 'apache-arrow';
import { BadInputError } from '../common/errors.js';
import { csvProblem, parseNumber } from './csv-format.js';
import {
  ChunkBuffers,
  type DatasetChunk,
  type DatasetReadRequest,
  type GroupDictionary,
} from './dataset-chunks.js';

/**
 * A dataset's columns as an Apache Arrow IPC file: written once at upload, read by every
 * evaluation and batch job instead of parsing the uploaded file again. Numeric columns are
 * Float64 (regression labels and metrics need doubles; features are narrowed to Float32 when
 * read), text columns Utf8, dictionary-encoded when their first batch repeats values. A
 * missing value (an empty CSV cell in a numeric column, a Parquet null) is an Arrow null.
 */
export type ColumnKind = 'number' | 'string';

export interface ColumnSpec {
  readonly name: string;
  readonly kind: ColumnKind;
}

/** Values of one column for a run of rows, as a CSV or Parquet reader hands them over. */
export type ColumnValues =
  | {
      readonly kind: 'number';
      readonly values: Float64Array;
      /** 1 where the row has a value, 0 where it is missing; null when none is missing. */
      readonly valid: Uint8Array | null;
    }
  | { readonly kind: 'string'; readonly values: readonly (string | null)[] };

export interface ColumnBatch {
  readonly rows: number;
  /** In the order of the layout. */
  readonly columns: readonly ColumnValues[];
}

/** Rows per record batch: 63 numeric columns make about 16 MB, what a reader holds at once. */
export const COLUMNAR_BATCH_ROWS = 32_768;
/** Arrow's Utf8 offsets are 32-bit: a record batch's text column stays well below 2 GiB. */
const MAX_BATCH_TEXT_BYTES = 1 << 28;

/** The file format's leading magic (`ARROW1`) and padding, before the stream of messages. */
export const IPC_FILE_PREFIX_BYTES = 8;

/**
 * Arrow's JavaScript file writer leaves the schema message out of the body and writes it only
 * in the footer; the format (and pyarrow) puts it first as well, which is what lets the body
 * be read front to back as an IPC stream while it is hashed (see `readColumnarChunks`).
 */
class SequentialFileWriter extends RecordBatchFileWriter {
  protected override _writeSchema(schema: Schema): this {
    this._writeMagic()._writePadding(2);
    return this._writeMessage(Message.from(schema));
  }
}

/** The writer's output queue, emptied after every batch so that bytes leave as they are made. */
class DrainedQueue extends AsyncByteQueue {
  take(): Uint8Array[] {
    const taken = this._values;
    this._values = [];
    return taken;
  }
}

/**
 * The Arrow IPC file of `batches`, as bytes, batch by batch: memory holds one record batch
 * whatever the number of rows. Each incoming batch is cut into record batches of at most
 * COLUMNAR_BATCH_ROWS rows.
 */
export async function* columnarFileBytes(
  layout: readonly ColumnSpec[],
  batches: AsyncIterable<ColumnBatch>,
): AsyncGenerator<Uint8Array> {
  const encoder = new BatchEncoder(layout);
  const queue = new DrainedQueue();
  const writer = new SequentialFileWriter();
  writer.reset(queue);
  for await (const batch of batches) {
    if (batch.columns.length !== layout.length)
      throw new Error(`a batch has ${batch.columns.length} columns, the layout ${layout.length}`);
    for (const slice of slices(batch)) {
      writer.write(encoder.encode(slice));
      yield* queue.take();
    }
  }
  if (!encoder.started) writer.write(encoder.encode({ rows: 0, columns: emptyColumns(layout) }));
  writer.finish();
  yield* queue.take();
}

function* slices(batch: ColumnBatch): Generator<ColumnBatch> {
  for (let start = 0; start < batch.rows;) {
    let end = Math.min(batch.rows, start + COLUMNAR_BATCH_ROWS);
    while (end - start > 1 && textBytes(batch, start, end) > MAX_BATCH_TEXT_BYTES)
      end = start + Math.ceil((end - start) / 2);
    yield sliceOf(batch, start, end);
    start = end;
  }
}

function textBytes(batch: ColumnBatch, start: number, end: number): number {
  let most = 0;
  for (const column of batch.columns) {
    if (column.kind !== 'string') continue;
    let bytes = 0;
    for (let i = start; i < end; i++) {
      const value = column.values[i];
      if (value != null) bytes += Buffer.byteLength(value, 'utf8');
    }
    most = Math.max(most, bytes);
  }
  return most;
}

function sliceOf(batch: ColumnBatch, start: number, end: number): ColumnBatch {
  if (start === 0 && end === batch.rows) return batch;
  return {
    rows: end - start,
    columns: batch.columns.map((column) =>
      column.kind === 'number'
        ? {
            kind: 'number',
            values: column.values.subarray(start, end),
            valid: column.valid?.subarray(start, end) ?? null,
          }
        : { kind: 'string', values: column.values.slice(start, end) },
    ),
  };
}

function emptyColumns(layout: readonly ColumnSpec[]): ColumnValues[] {
  return layout.map((spec) =>
    spec.kind === 'number'
      ? { kind: 'number', values: new Float64Array(0), valid: null }
      : { kind: 'string', values: [] },
  );
}

/** A text column stored as a dictionary: the values seen so far, growing by delta batches. */
interface DictionaryState {
  readonly type: Dictionary<Utf8, Int32>;
  readonly codes: Map<string, number>;
  vector: Vector<Utf8> | undefined;
}

/**
 * Turns column batches into record batches of one schema. The schema is fixed by the first
 * batch: a text column whose first batch holds at most half as many distinct values as rows is
 * dictionary-encoded for the whole file (a group, a category), any other stays plain Utf8 (an
 * id, free text).
 */
class BatchEncoder {
  private schema: Schema | undefined;
  private dictionaries: (DictionaryState | undefined)[] = [];

  constructor(private readonly layout: readonly ColumnSpec[]) {}

  get started(): boolean {
    return this.schema !== undefined;
  }

  encode(batch: ColumnBatch): RecordBatch {
    const schema = (this.schema ??= this.schemaFor(batch));
    const children = batch.columns.map((column, j) => {
      const spec = this.layout[j];
      if (spec === undefined || spec.kind !== column.kind)
        throw new Error(`column ${j} is not of the layout's kind`);
      if (column.kind === 'number') return float64Data(column.values, column.valid);
      const dictionary = this.dictionaries[j];
      return dictionary === undefined
        ? utf8Data(column.values)
        : dictionaryData(dictionary, column.values);
    });
    const data = makeData({
      type: new Struct(schema.fields),
      length: batch.rows,
      nullCount: 0,
      children,
    });
    return new RecordBatch(schema, data);
  }

  private schemaFor(batch: ColumnBatch): Schema {
    const fields = this.layout.map((spec, j) => {
      const column = batch.columns[j];
      if (spec.kind === 'number') return new Field(spec.name, new Float64(), true);
      if (column?.kind === 'string' && repeats(column.values)) {
        const type = new Dictionary(new Utf8(), new Int32(), j);
        this.dictionaries[j] = { type, codes: new Map(), vector: undefined };
        return new Field(spec.name, type, true);
      }
      return new Field(spec.name, new Utf8(), true);
    });
    return new Schema(fields);
  }
}

function repeats(values: readonly (string | null)[]): boolean {
  const distinct = new Set<string>();
  for (const value of values) if (value !== null) distinct.add(value);
  return values.length > 0 && distinct.size * 2 <= values.length;
}

function validityOf(
  length: number,
  isValid: (i: number) => boolean,
): { nullCount: number; nullBitmap?: Uint8Array } {
  let nullCount = 0;
  const bitmap = new Uint8Array((length + 7) >> 3);
  for (let i = 0; i < length; i++) {
    if (isValid(i)) bitmap[i >> 3] = (bitmap[i >> 3] ?? 0) | (1 << (i & 7));
    else nullCount++;
  }
  return nullCount === 0 ? { nullCount } : { nullCount, nullBitmap: bitmap };
}

function float64Data(values: Float64Array, valid: Uint8Array | null): Data<Float64> {
  const validity =
    valid === null ? { nullCount: 0 } : validityOf(values.length, (i) => valid[i] === 1);
  return makeData({ type: new Float64(), length: values.length, data: values, ...validity });
}

const encoder = new TextEncoder();

function utf8Data(values: readonly (string | null)[]): Data<Utf8> {
  const offsets = new Int32Array(values.length + 1);
  let total = 0;
  for (const value of values) if (value !== null) total += Buffer.byteLength(value, 'utf8');
  const bytes = new Uint8Array(total);
  let at = 0;
  values.forEach((value, i) => {
    if (value !== null) at += encoder.encodeInto(value, bytes.subarray(at)).written;
    offsets[i + 1] = at;
  });
  return makeData({
    type: new Utf8(),
    length: values.length,
    valueOffsets: offsets,
    data: bytes,
    ...validityOf(values.length, (i) => values[i] !== null),
  });
}

function dictionaryData(
  state: DictionaryState,
  values: readonly (string | null)[],
): Data<Dictionary<Utf8, Int32>> {
  const codes = new Int32Array(values.length);
  const added: string[] = [];
  values.forEach((value, i) => {
    if (value === null) return;
    let code = state.codes.get(value);
    if (code === undefined) {
      code = state.codes.size;
      state.codes.set(value, code);
      added.push(value);
    }
    codes[i] = code;
  });
  if (added.length > 0 || state.vector === undefined) {
    // Appended as a chunk: the writer sends only chunks it has not sent, as delta batches.
    const chunk = new Vector([utf8Data(added)]);
    state.vector = state.vector === undefined ? chunk : state.vector.concat(chunk);
  }
  return makeData({
    type: state.type,
    length: values.length,
    data: codes,
    dictionary: state.vector,
    ...validityOf(values.length, (i) => values[i] !== null),
  });
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/** One column of one record batch, read as the request needs it. */
interface ColumnReader {
  /** The value as text: a number as JavaScript prints it, a missing value as ''. */
  text(i: number): string;
  /**
   * Rows `start` to `start + count` as numbers into `out`, from `at` on, `stride` apart; NaN
   * where a value is missing or (text) not a number. Returns the first such row, counted from
   * `start`, or -1 when there is none.
   */
  fillNumbers(
    start: number,
    count: number,
    out: Float32Array | Float64Array,
    at: number,
    stride: number,
  ): number;
  /** Rows `start` to `start + count` as codes of their text in `dictionary`, into `out` from `at`. */
  fillCodes(
    start: number,
    count: number,
    out: Int32Array,
    at: number,
    dictionary: GroupDictionary,
  ): void;
}

/**
 * The chunks of a columnar file's body: the bytes after its 8-byte leading magic, read front
 * to back as an Arrow IPC stream (schema, dictionaries, record batches, end-of-stream); the
 * footer that follows is left unread. Produces the same chunks as `readCsvChunks` does for
 * the CSV the file was made from: features as Float32, requested text columns as written (a
 * numeric column requested as text gives `String(value)`), errors naming the data row and
 * column. Values are copied column by column from the record batch's arrays.
 */
export async function* readColumnarChunks(
  body: AsyncIterable<Uint8Array>,
  request: DatasetReadRequest,
): AsyncGenerator<DatasetChunk> {
  const buffers = new ChunkBuffers(request);
  const { chunkRows, width } = buffers;
  const featureNames = request.features;
  const readers = new ColumnReaders();
  const names = {
    features: featureNames,
    strings: request.strings ?? [],
    numbers: request.numbers ?? [],
    groups: request.groups ?? [],
  };

  let at: Record<keyof typeof names, number[]> | undefined;
  let row = 0;
  let filled = 0;

  const reader = await RecordBatchReader.from(plainIterable(body));
  for await (const batch of reader) {
    if (at === undefined) {
      const schema = batch.schema.fields.map((f) => f.name);
      const indexes = (list: readonly string[]) => list.map((name) => columnIndex(schema, name));
      at = {
        features: indexes(names.features),
        strings: indexes(names.strings),
        numbers: indexes(names.numbers),
        groups: indexes(names.groups),
      };
    }
    const columns = batch.data.children;
    const of = (list: number[]) => list.map((j) => readers.of(j, columns[j]));
    const featureColumns = of(at.features);
    const stringColumns = of(at.strings);
    const numberColumns = of(at.numbers);
    const groupColumns = of(at.groups);
    for (let start = 0; start < batch.numRows;) {
      const take = Math.min(batch.numRows - start, chunkRows - filled);
      featureColumns.forEach((column, j) => {
        const bad = column.fillNumbers(start, take, buffers.features, filled * width + j, width);
        if (bad >= 0)
          throw featureProblem(row + bad + 1, featureNames[j] ?? '', column.text(start + bad));
      });
      stringColumns.forEach((column, k) => {
        const out = buffers.strings[k];
        if (out !== undefined) for (let i = 0; i < take; i++) out.push(column.text(start + i));
      });
      numberColumns.forEach((column, k) => {
        const out = buffers.numbers[k];
        if (out !== undefined) column.fillNumbers(start, take, out, filled, 1);
      });
      groupColumns.forEach((column, k) => {
        const out = buffers.codes[k];
        const dictionary = buffers.dictionaries[k];
        if (out !== undefined && dictionary !== undefined)
          column.fillCodes(start, take, out, filled, dictionary);
      });
      filled += take;
      row += take;
      start += take;
      if (filled === chunkRows) {
        yield buffers.take(filled, row - filled + 1);
        filled = 0;
      }
    }
  }
  if (at === undefined) throw new Error('the columnar file has no schema');
  if (filled > 0) yield buffers.take(filled, row - filled + 1);
}

/**
 * Arrow's reader takes a Node stream through an adapter of its own, which loses bytes of an
 * object-mode stream (`Readable.from`); a plain async iterable is read as given.
 */
async function* plainIterable(body: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* body;
}

function featureProblem(row: number, column: string, text: string): BadInputError {
  return csvProblem(
    { row, column },
    text.trim() === ''
      ? 'the value is empty; a feature column needs a number in every row'
      : `${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)} is not a number`,
  );
}

function columnIndex(names: readonly string[], name: string): number {
  const index = names.indexOf(name);
  if (index < 0)
    throw new BadInputError('dataset', `has no column ${JSON.stringify(name)}`, { column: name });
  return index;
}

/** A dictionary column's values, decoded once for the whole read. */
interface DecodedDictionary {
  readonly texts: string[];
  /** Each value as a number, NaN where it is not one. */
  readonly numbers: number[];
  /** Per group dictionary it is read into: the code there of each value, -1 until seen. */
  readonly codes: Map<GroupDictionary, number[]>;
}

/**
 * Column readers over record batches. A dictionary's values are decoded once and kept (the
 * file format only ever adds to a dictionary), so a group column costs a lookup per row.
 */
class ColumnReaders {
  private readonly decoded = new Map<number, DecodedDictionary>();

  of(index: number, data: Data | undefined): ColumnReader {
    if (data === undefined) throw new Error(`the columnar file lacks column ${index}`);
    if (data.offset !== 0) throw new Error('a record batch column starts at an offset');
    const valid = validityReader(data);
    const type: DataType = data.type;
    if (type.typeId === Type.Float) {
      const values: unknown = data.values;
      if (!(values instanceof Float64Array))
        throw new Error('the columnar file has a numeric column that is not Float64');
      return float64Reader(values, data.nullCount === 0 ? null : valid);
    }
    if (type.typeId === Type.Utf8) {
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return textReader((i) =>
        valid(i) ? buffer.toString('utf8', offsets[i], offsets[i + 1]) : '',
      );
    }
    if (type.typeId === Type.Dictionary)
      return dictionaryReader(
        data.values as Int32Array,
        this.dictionaryOf(index, data.dictionary),
        valid,
      );
    throw new Error(`the columnar file has a column of Arrow type ${Type[type.typeId]}`);
  }

  private dictionaryOf(index: number, dictionary: Vector | undefined): DecodedDictionary {
    let decoded = this.decoded.get(index);
    if (decoded === undefined)
      this.decoded.set(index, (decoded = { texts: [], numbers: [], codes: new Map() }));
    const size = dictionary?.length ?? 0;
    for (let k = decoded.texts.length; k < size; k++) {
      const text = String(dictionary?.get(k) ?? '');
      decoded.texts.push(text);
      decoded.numbers.push(parseNumber(text) ?? Number.NaN);
    }
    return decoded;
  }
}

function float64Reader(values: Float64Array, valid: ((i: number) => boolean) | null): ColumnReader {
  const text = (i: number): string => (valid === null || valid(i) ? String(values[i]) : '');
  return {
    text,
    fillNumbers(start, count, out, at, stride) {
      if (valid === null) {
        for (let i = 0, o = at; i < count; i++, o += stride) out[o] = values[start + i] ?? 0;
        return -1;
      }
      let bad = -1;
      for (let i = 0, o = at; i < count; i++, o += stride) {
        if (valid(start + i)) out[o] = values[start + i] ?? 0;
        else {
          out[o] = Number.NaN;
          if (bad < 0) bad = i;
        }
      }
      return bad;
    },
    fillCodes(start, count, out, at, dictionary) {
      for (let i = 0; i < count; i++) out[at + i] = dictionary.code(text(start + i));
    },
  };
}

function textReader(text: (i: number) => string): ColumnReader {
  return {
    text,
    fillNumbers(start, count, out, at, stride) {
      let bad = -1;
      for (let i = 0, o = at; i < count; i++, o += stride) {
        const value = parseNumber(text(start + i));
        out[o] = value ?? Number.NaN;
        if (value === undefined && bad < 0) bad = i;
      }
      return bad;
    },
    fillCodes(start, count, out, at, dictionary) {
      for (let i = 0; i < count; i++) out[at + i] = dictionary.code(text(start + i));
    },
  };
}

function dictionaryReader(
  keys: Int32Array,
  decoded: DecodedDictionary,
  valid: (i: number) => boolean,
): ColumnReader {
  const { texts, numbers } = decoded;
  const text = (i: number): string => (valid(i) ? (texts[keys[i] ?? -1] ?? '') : '');
  return {
    text,
    fillNumbers(start, count, out, at, stride) {
      let bad = -1;
      for (let i = 0, o = at; i < count; i++, o += stride) {
        const value = valid(start + i)
          ? (numbers[keys[start + i] ?? -1] ?? Number.NaN)
          : Number.NaN;
        out[o] = value;
        if (Number.isNaN(value) && bad < 0) bad = i;
      }
      return bad;
    },
    fillCodes(start, count, out, at, dictionary) {
      let codes = decoded.codes.get(dictionary);
      if (codes === undefined) decoded.codes.set(dictionary, (codes = []));
      for (let k = codes.length; k < texts.length; k++) codes.push(-1);
      for (let i = 0; i < count; i++) {
        const row = start + i;
        if (!valid(row)) {
          out[at + i] = dictionary.code('');
          continue;
        }
        const key = keys[row] ?? -1;
        let code = codes[key] ?? -1;
        if (code < 0) codes[key] = code = dictionary.code(texts[key] ?? '');
        out[at + i] = code;
      }
    },
  };
}

function validityReader(data: Data): (i: number) => boolean {
  const bitmap = data.nullBitmap;
  if (data.nullCount === 0 || bitmap.length === 0) return () => true;
  return (i) => ((bitmap[i >> 3] ?? 0) & (1 << (i & 7))) !== 0;
}
