import { createHash } from 'node:crypto';
import { canonicalize } from '../ledger/canonical-json.js';
import { findValueFault } from '../common/text-rules.js';
import type { LoggedTensor, PredictionArm } from '../prediction-log/prediction.js';

/**
 * The device log: every prediction a device makes, one JSON record a line, hash-chained on the
 * device so that the service can tell, when the log comes home, that nothing was left out,
 * reordered or changed since it was written (docs/edge.md, "The device log"). Pure: the edge
 * runtime writes records with it, the service checks uploads with it.
 *
 *   hash = lowercase hex SHA-256 of 0x00 ‖ RFC 8785 (JCS) of the record without `hash`
 *   prev = the hash of the record of seq − 1; 64 zeros for seq 1
 *
 * The 0x00 prefix is the ledger's leaf prefix (RFC 9162): a record's hash can never be taken
 * for an interior node of a Merkle tree built over them.
 */

export const DEVICE_LOG_VERSION = 1;
export const GENESIS_HASH = '0'.repeat(64);

/** One prediction as a device logged it. Members in RFC 8785 order. */
export interface DeviceLogRecord {
  readonly arm: PredictionArm;
  /** SHA-256 (hex) of the manifest subject of the bundle whose model answered. */
  readonly bundleSha256: string;
  readonly deviceId: string;
  readonly endpoint: string;
  /** Null when the model answered; why it failed otherwise. */
  readonly error: string | null;
  readonly hash: string;
  readonly inputs: readonly LoggedTensor[];
  /** The run and the output checks, in ms rounded to the microsecond. */
  readonly latencyMs: number;
  readonly model: string;
  readonly modelVersion: number;
  /** Null when the model failed. */
  readonly outputs: readonly LoggedTensor[] | null;
  readonly prev: string;
  readonly requestId: string;
  /** SHA-256 (hex) of the request's routing key; null without one. */
  readonly routingKeyHash: string | null;
  readonly seq: number;
  /** RFC 3339, UTC, milliseconds, `Z`. */
  readonly ts: string;
  readonly v: 1;
}

export type UnhashedRecord = Omit<DeviceLogRecord, 'hash'>;

/** Where a chain stands: the last record's seq and hash (0 and 64 zeros before the first). */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export const CHAIN_START: ChainHead = { seq: 0, hash: GENESIS_HASH };

export function recordHash(record: UnhashedRecord): string {
  return createHash('sha256')
    .update(new Uint8Array([0]))
    .update(canonicalize(record), 'utf8')
    .digest('hex');
}

/** The record as its hash covers it: every member but `hash`. */
export function unhashed(record: DeviceLogRecord): UnhashedRecord {
  const copy: Record<string, unknown> = { ...record };
  delete copy['hash'];
  return copy as unknown as UnhashedRecord;
}

/** The record with its hash, and its line in the log file (JCS, then a newline). */
export function sealRecord(record: UnhashedRecord): { record: DeviceLogRecord; line: string } {
  const sealed: DeviceLogRecord = { ...record, hash: recordHash(record) };
  return { record: sealed, line: `${canonicalize(sealed)}\n` };
}

/** A record that is not one, or a chain that does not hold: where, and why. */
export class DeviceLogError extends Error {
  constructor(
    /** The record's seq when it has one; else its line (1-based) in what was read. */
    readonly at: { readonly seq?: number; readonly line?: number },
    readonly field: string,
    readonly reason: string,
  ) {
    super(
      `${at.seq !== undefined ? `seq ${at.seq}` : `line ${at.line ?? '?'}`}: ${field ? `${field}: ` : ''}${reason}`,
    );
    this.name = 'DeviceLogError';
  }
}

const HEX64 = /^[0-9a-f]{64}$/;
const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
const SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ARMS: readonly string[] = ['live', 'candidate', 'shadow'];
const MEMBERS = [
  'arm',
  'bundleSha256',
  'deviceId',
  'endpoint',
  'error',
  'hash',
  'inputs',
  'latencyMs',
  'model',
  'modelVersion',
  'outputs',
  'prev',
  'requestId',
  'routingKeyHash',
  'seq',
  'ts',
  'v',
] as const;
const TENSOR_MEMBERS = ['data', 'datatype', 'name', 'shape'];
/** Longest text a record may carry in one member: a request id is at most 256 characters. */
const MAX_TEXT = 1000;

export function isDeviceId(value: string): boolean {
  return DEVICE_ID.test(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A parsed line as a record, every member checked (no member missing, none extra, each of its
 * type, text free of NUL and unpaired surrogates, numbers finite); the hash is not checked here.
 */
export function readRecord(value: unknown, line: number): DeviceLogRecord {
  if (!isObject(value)) throw new DeviceLogError({ line }, '', 'is not a JSON object');
  const seq = value['seq'];
  const at =
    typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 1 ? { seq, line } : { line };
  const bad = (field: string, reason: string): never => {
    throw new DeviceLogError(at, field, reason);
  };
  const fault = findValueFault(value, '');
  if (fault) bad(fault.field.replace(/^\./, ''), fault.reason);
  for (const key of Object.keys(value))
    if (!(MEMBERS as readonly string[]).includes(key)) bad(key, 'is not a member of a record');
  for (const key of MEMBERS) if (!(key in value)) bad(key, 'is missing');
  const v = value as Record<(typeof MEMBERS)[number], unknown>;
  if (v.v !== DEVICE_LOG_VERSION) bad('v', `must be ${DEVICE_LOG_VERSION}`);
  if (at.seq === undefined) bad('seq', 'must be a whole number from 1');
  const text = (field: string, x: unknown, pattern?: RegExp, what?: string): string => {
    if (typeof x !== 'string' || x.length === 0 || x.length > MAX_TEXT)
      return bad(field, `must be a string of 1 to ${MAX_TEXT} characters`);
    if (pattern && !pattern.test(x)) return bad(field, `must be ${what ?? pattern.source}`);
    return x;
  };
  text(
    'deviceId',
    v.deviceId,
    DEVICE_ID,
    'a device id (letters, digits and . _ : @ -, at most 128)',
  );
  text('endpoint', v.endpoint, SLUG, 'an endpoint name');
  text('ts', v.ts, TIMESTAMP, 'an RFC 3339 UTC time with milliseconds (2026-12-08T03:00:00.000Z)');
  if (Number.isNaN(Date.parse(v.ts as string))) bad('ts', 'is not a date');
  text('requestId', v.requestId);
  if ((v.requestId as string).length > 256) bad('requestId', 'must be at most 256 characters');
  text('model', v.model, SLUG, 'a model name');
  if (
    typeof v.modelVersion !== 'number' ||
    !Number.isSafeInteger(v.modelVersion) ||
    v.modelVersion < 1
  )
    bad('modelVersion', 'must be a whole number from 1');
  if (typeof v.arm !== 'string' || !ARMS.includes(v.arm))
    bad('arm', `must be one of ${ARMS.join(', ')}`);
  text('bundleSha256', v.bundleSha256, HEX64, '64 lowercase hex digits');
  text('prev', v.prev, HEX64, '64 lowercase hex digits');
  text('hash', v.hash, HEX64, '64 lowercase hex digits');
  if (v.routingKeyHash !== null)
    text('routingKeyHash', v.routingKeyHash, HEX64, '64 lowercase hex digits or null');
  if (typeof v.latencyMs !== 'number' || v.latencyMs < 0)
    bad('latencyMs', 'must be a number of milliseconds, at least 0');
  if (v.error !== null) text('error', v.error);
  readTensors(v.inputs, 'inputs', bad);
  if (v.outputs !== null) readTensors(v.outputs, 'outputs', bad);
  if ((v.outputs === null) === (v.error === null))
    bad('outputs', 'exactly one of outputs and error must be null');
  return value as unknown as DeviceLogRecord;
}

function readTensors(
  value: unknown,
  field: string,
  bad: (field: string, reason: string) => never,
): void {
  if (!Array.isArray(value) || value.length > 64)
    bad(field, 'must be an array of at most 64 tensors');
  (value as unknown[]).forEach((t, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(t)) bad(at, 'must be a tensor {data, datatype, name, shape}');
    const tensor = t;
    for (const key of Object.keys(tensor))
      if (!TENSOR_MEMBERS.includes(key)) bad(`${at}.${key}`, 'is not a member of a tensor');
    const { data, datatype, name, shape } = tensor;
    if (typeof name !== 'string' || name === '' || name.length > MAX_TEXT)
      bad(`${at}.name`, 'must be a non-empty string');
    if (typeof datatype !== 'string' || !/^[A-Z0-9]{2,8}$/.test(datatype))
      bad(`${at}.datatype`, 'must be a datatype (FP32, INT64…)');
    if (
      !Array.isArray(shape) ||
      shape.length > 8 ||
      !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)
    )
      bad(`${at}.shape`, 'must be an array of at most 8 non-negative integers');
    if (
      !Array.isArray(data) ||
      !data.every((x) => typeof x === 'number' || typeof x === 'boolean' || typeof x === 'string')
    )
      bad(`${at}.data`, 'must be a flat array of numbers, booleans or strings');
    const size = (shape as number[]).reduce((a, b) => a * b, 1);
    if ((data as unknown[]).length !== size)
      bad(
        `${at}.data`,
        `holds ${(data as unknown[]).length} values, its shape [${(shape as number[]).join(', ')}] ${size}`,
      );
  });
}

/** Why a chain does not hold. `gap`: a seq is not the one after the previous. */
export type ChainFault = 'gap' | 'hash' | 'link';

export type ChainVerdict =
  | { readonly ok: true; readonly head: ChainHead }
  | {
      readonly ok: false;
      readonly seq: number;
      readonly fault: ChainFault;
      readonly reason: string;
    };

/**
 * Checks records that continue the chain from `from`: each seq is the one after, each `prev` is
 * the hash before it, each `hash` recomputes. Stops at the first that does not hold.
 */
export function verifyChain(records: readonly DeviceLogRecord[], from: ChainHead): ChainVerdict {
  let head = from;
  for (const record of records) {
    if (record.seq !== head.seq + 1)
      return {
        ok: false,
        seq: record.seq,
        fault: 'gap',
        reason: `expected seq ${head.seq + 1} after seq ${head.seq}, got seq ${record.seq}`,
      };
    if (record.prev !== head.hash)
      return {
        ok: false,
        seq: record.seq,
        fault: 'link',
        reason: `prev ${record.prev} is not the hash of seq ${head.seq} (${head.hash})`,
      };
    const { hash } = record;
    const computed = recordHash(unhashed(record));
    if (computed !== hash)
      return {
        ok: false,
        seq: record.seq,
        fault: 'hash',
        reason: `hash ${hash} does not recompute (the record hashes to ${computed})`,
      };
    head = { seq: record.seq, hash };
  }
  return { ok: true, head };
}

/**
 * The records of NDJSON text, each line parsed with prototype keys refused and checked by
 * `readRecord`. A blank last line (the final newline) is allowed, no other.
 */
export function parseRecords(text: string): DeviceLogRecord[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((line, i) => readRecord(parseLine(line, i + 1), i + 1));
}

export function parseLine(line: string, number: number): unknown {
  try {
    return JSON.parse(line, (key, value: unknown) => {
      if (key === '__proto__' || key === 'constructor' || key === 'prototype')
        throw new DeviceLogError({ line: number }, key, 'a member of this name is not accepted');
      return value;
    });
  } catch (error) {
    if (error instanceof DeviceLogError) throw error;
    throw new DeviceLogError(
      { line: number },
      '',
      `is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
