import { isArrayBuffer } from 'node:util/types';
import type { LoggedTensor, PredictionArm, PredictionRecord } from './prediction.js';

/**
 * Predictions on their way from the event loop to the log's writer thread, packed so that the
 * hand-over costs the event loop a fraction of a microsecond a prediction: everything goes
 * into one `Float64Array` — numbers as the doubles they are, strings as their UTF-16 code
 * units — which moves to the thread without being copied. Structured cloning the records as
 * objects costs about what serializing them does, the very work the thread is there to take
 * off the event loop; with the strings in the array too, a message is one moved buffer and
 * nothing to copy.
 *
 * Numbers travel as the doubles they are, so the thread's JSON of a tensor is the JSON the
 * event loop would have written. Tensor data that is all numbers or all booleans is packed
 * value by value; anything else (text tensors) goes as its JSON text.
 */
export interface PackedRecords {
  readonly count: number;
  /** The records in order: their numbers, their strings' lengths and code units, layout counts. */
  readonly numbers: Float64Array;
}

const HAS_ERROR = 1;
const HAS_ROUTING_KEY = 2;
const HAS_OUTPUTS = 4;

const NUMBERS = 0 as const;
const BOOLEANS = 1 as const;
const JSON_TEXT = 2;

const ARMS: readonly PredictionArm[] = ['live', 'candidate', 'shadow'];

/** Numbers a packer's buffer starts with (512 KB: a few thousand predictions of 60 features). */
const INITIAL_NUMBERS = 64 * 1024;
/** Spare buffers a packer keeps. */
const SPARE_BUFFERS = 2;

/**
 * Packs records one at a time into a buffer; `take` hands the buffer over with what it holds
 * and goes on in another, and `give` takes a buffer back once the receiver has read it. Fresh
 * memory of this size comes from the kernel untouched, and on a virtual machine each 4 KB page
 * of it faults once at tens of microseconds: the buffers go round instead.
 */
export class RecordPacker {
  private numbers = new Float64Array(INITIAL_NUMBERS);
  private used = 0;
  private records = 0;
  private readonly spare: Float64Array<ArrayBuffer>[] = [];

  get count(): number {
    return this.records;
  }

  add(p: PredictionRecord): void {
    const start = this.used;
    try {
      this.put(p.modelVersion);
      this.put(p.latencyMs);
      this.put(p.createdAt.getTime());
      this.put(
        (p.error === null ? 0 : HAS_ERROR) |
          (p.routingKeyHash === null ? 0 : HAS_ROUTING_KEY) |
          (p.outputs === null ? 0 : HAS_OUTPUTS),
      );
      this.put(armCode(p.arm));
      this.string(p.requestId);
      this.string(p.endpoint);
      if (p.error !== null) this.string(p.error);
      if (p.routingKeyHash !== null) this.string(p.routingKeyHash);
      this.tensors(p.inputs);
      if (p.outputs !== null) this.tensors(p.outputs);
    } catch (error) {
      // Nothing of a record that cannot be packed stays behind.
      this.used = start;
      throw error;
    }
    this.records++;
  }

  /**
   * What was packed since the last call: a view of the buffer it was packed into, which is
   * the receiver's now (to move to another thread, and to `give` back once read).
   */
  take(): PackedRecords {
    const packed = { count: this.records, numbers: this.numbers.subarray(0, this.used) };
    this.numbers = this.spare.pop() ?? new Float64Array(INITIAL_NUMBERS);
    this.used = 0;
    this.records = 0;
    return packed;
  }

  /** A buffer handed over by `take`, back once its records have been read. */
  give(numbers: Float64Array): void {
    const buffer = numbers.buffer;
    // Not `instanceof`: a buffer that came back from another thread (or realm) is still one.
    if (this.spare.length < SPARE_BUFFERS && isArrayBuffer(buffer))
      this.spare.push(new Float64Array(buffer));
  }

  private put(value: number): void {
    this.room(1);
    this.numbers[this.used++] = value;
  }

  private string(value: string): void {
    this.room(value.length + 1);
    const numbers = this.numbers;
    let at = this.used;
    numbers[at++] = value.length;
    for (let i = 0; i < value.length; i++) numbers[at++] = value.charCodeAt(i);
    this.used = at;
  }

  private tensors(tensors: readonly LoggedTensor[]): void {
    this.put(tensors.length);
    for (const t of tensors) {
      this.string(t.name);
      this.string(t.datatype);
      this.put(t.shape.length);
      for (const d of t.shape) this.put(d);
      if (!this.values(t.data, NUMBERS) && !this.values(t.data, BOOLEANS)) {
        this.put(JSON_TEXT);
        this.string(JSON.stringify(t.data));
      }
    }
  }

  /**
   * The data as values of one kind, if every value is of it (an empty tensor is one of
   * numbers: its JSON is [] either way). Locals and an indexed loop: this runs for every value
   * of every prediction, on the event loop.
   */
  private values(data: LoggedTensor['data'], kind: typeof NUMBERS | typeof BOOLEANS): boolean {
    this.room(data.length + 2);
    const numbers = this.numbers;
    const start = this.used;
    let at = start + 2;
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (kind === NUMBERS) {
        if (typeof v !== 'number') return false;
        numbers[at++] = v;
      } else {
        if (typeof v !== 'boolean') return false;
        numbers[at++] = v ? 1 : 0;
      }
    }
    numbers[start] = kind;
    numbers[start + 1] = data.length;
    this.used = at;
    return true;
  }

  /** Room for `n` more numbers: the buffer doubles when full, and stays that size. */
  private room(n: number): void {
    if (this.used + n <= this.numbers.length) return;
    const grown = new Float64Array(Math.max(this.numbers.length * 2, this.used + n));
    grown.set(this.numbers.subarray(0, this.used));
    this.numbers = grown;
  }
}

function armCode(arm: PredictionArm): number {
  const code = ARMS.indexOf(arm);
  if (code < 0) throw new Error(`unknown arm ${JSON.stringify(arm)}`);
  return code;
}

/** Code units per `String.fromCharCode` call: well under any engine's argument limit. */
const DECODE_SLICE = 8192;

/** The records as they were packed. */
export function unpackRecords(packed: PackedRecords): PredictionRecord[] {
  const { numbers } = packed;
  let at = 0;
  const next = (): number => {
    const value = numbers[at++];
    if (value === undefined) throw new Error('packed predictions end early');
    return value;
  };
  const string = (): string => {
    const length = next();
    const end = at + length;
    if (end > numbers.length) throw new Error('packed predictions end early');
    let value = '';
    for (let from = at; from < end; from += DECODE_SLICE)
      value += String.fromCharCode(...numbers.subarray(from, Math.min(end, from + DECODE_SLICE)));
    at = end;
    return value;
  };
  const tensors = (): LoggedTensor[] => {
    const list: LoggedTensor[] = [];
    for (let n = next(); n > 0; n--) {
      const name = string();
      const datatype = string();
      const shape: number[] = [];
      for (let d = next(); d > 0; d--) shape.push(next());
      const kind = next();
      let data: LoggedTensor['data'];
      if (kind === JSON_TEXT) {
        data = JSON.parse(string()) as LoggedTensor['data'];
      } else {
        const values: (number | boolean)[] = new Array<number | boolean>(next());
        for (let i = 0; i < values.length; i++)
          values[i] = kind === BOOLEANS ? next() === 1 : next();
        data = values;
      }
      list.push({ data, datatype, name, shape });
    }
    return list;
  };
  const records: PredictionRecord[] = [];
  for (let r = 0; r < packed.count; r++) {
    const modelVersion = next();
    const latencyMs = next();
    const createdAt = new Date(next());
    const flags = next();
    const arm = ARMS[next()];
    if (arm === undefined) throw new Error('packed predictions hold an unknown arm');
    const requestId = string();
    const endpoint = string();
    const error = flags & HAS_ERROR ? string() : null;
    const routingKeyHash = flags & HAS_ROUTING_KEY ? string() : null;
    const inputs = tensors();
    const outputs = flags & HAS_OUTPUTS ? tensors() : null;
    records.push({
      requestId,
      endpoint,
      modelVersion,
      arm,
      inputs,
      outputs,
      error,
      latencyMs,
      routingKeyHash,
      createdAt,
    });
  }
  if (at !== numbers.length) throw new Error('packed predictions hold more than their count');
  return records;
}
