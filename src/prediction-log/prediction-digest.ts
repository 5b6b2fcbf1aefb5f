import { createHash, type Hash } from 'node:crypto';
import { isWellFormed } from '../ledger/canonical-json.js';
import { copyField, jsonCopyField } from './copy-rows.js';
import type { PredictionRecord } from './prediction.js';
import { RowBuffers } from './row-buffers.js';

/**
 * The digest that seals a batch of logged predictions into the ledger. It is defined over the
 * rows as PostgreSQL holds them, so that an auditor can recompute it from the `predictions`
 * table alone (docs/inference.md shows how):
 *
 *   line(row) = RFC 8785 (JCS) serialization of the object whose members are these columns
 *               of the row, by name: arm, created_at (RFC 3339, UTC, milliseconds, `Z`),
 *               endpoint, error, inputs, latency_ms, model_version, outputs, request_id,
 *               routing_key_hash — SQL NULL as JSON null
 *   sha256    = lowercase hex SHA-256 of line(row) + "\n" for every row of the batch
 *               (`batch_id`), in ascending id order
 *
 * The ids are not in the lines (PostgreSQL numbers the rows as they are copied in, in the
 * batch's order); the ledger event binds the batch to its id range and count. Every column
 * reads back exactly as written: `inputs` and `outputs` are json (the text as written), the
 * latency is a double rounded to the microsecond, and times are written to the millisecond.
 */

/** A logged prediction's columns, as the table holds them. */
export interface LoggedRow {
  readonly request_id: string;
  readonly endpoint: string;
  readonly model_version: number;
  readonly arm: string;
  readonly inputs: unknown;
  readonly outputs: unknown;
  readonly error: string | null;
  readonly latency_ms: number;
  readonly routing_key_hash: string | null;
  /** RFC 3339, UTC, milliseconds, `Z` (Date.prototype.toISOString). */
  readonly created_at: string;
}

/**
 * The COPY columns of a prepared row. `batch_id` is not among them: the writer names the batch
 * once per transaction and the column's default reads it (migration PredictionBatchDefault).
 */
export const COPY_COLUMNS =
  'request_id, endpoint, model_version, arm, inputs, outputs, error, latency_ms, routing_key_hash, created_at';

/** A batch ready to be written: its COPY text, its size and its digest. */
export interface PreparedBatch {
  readonly endpoint: string;
  /**
   * The COPY rows, tab-separated and newline-terminated, as UTF-8 bytes in buffers of whole
   * rows, in the batch's order.
   */
  readonly chunks: readonly Buffer[];
  /** Rows in the chunks. */
  readonly count: number;
  readonly sha256: string;
}

/**
 * One endpoint's batch as predictions join it. Each prediction is serialized once, when it
 * is added: its canonical line goes into the running digest at once and its COPY row is
 * written straight into the batch's buffers, outside the JavaScript heap, so that nothing of
 * it survives the young generation. Kept as strings, or as a Buffer per row, a batch's rows
 * (thousands, megabytes) were copied and promoted by the garbage collector on the event loop.
 */
export class BatchBuilder {
  private readonly chunks: Buffer[] = [];
  private chunk: Buffer = Buffer.alloc(0);
  private used = 0;
  private rows = 0;
  private readonly hash: Hash = createHash('sha256');

  /**
   * `buffers`: where the rows' buffers come from (ROW_BUFFER_BYTES each, about a hundred
   * predictions: a piece the COPY stream hands the connection at a time, so that writing a
   * large batch never holds the event loop for long).
   */
  constructor(
    readonly endpoint: string,
    private readonly buffers: RowBuffers = new RowBuffers(0),
  ) {}

  get count(): number {
    return this.rows;
  }

  add(p: PredictionRecord): void {
    if (p.endpoint !== this.endpoint) throw new Error('a prediction of another endpoint');
    const { line, copyRow } = serializePrediction(p);
    this.hash.update(`${line}\n`, 'utf8');
    this.append(copyRow);
    this.rows++;
  }

  seal(): PreparedBatch {
    this.closeChunk();
    return {
      endpoint: this.endpoint,
      chunks: this.chunks,
      count: this.rows,
      sha256: this.hash.digest('hex'),
    };
  }

  private append(row: string): void {
    const room = this.chunk.length - this.used;
    // A UTF-16 unit takes at most 3 bytes of UTF-8: measure only a row that might not fit.
    if (row.length * 3 > room) {
      const bytes = Buffer.byteLength(row, 'utf8');
      if (bytes > room) {
        this.closeChunk();
        this.chunk = this.buffers.take(bytes);
      }
    }
    this.used += this.chunk.write(row, this.used, 'utf8');
  }

  private closeChunk(): void {
    if (this.used > 0) this.chunks.push(this.chunk.subarray(0, this.used));
    this.chunk = Buffer.alloc(0);
    this.used = 0;
  }
}

/**
 * A prediction's canonical line and COPY row, serializing its tensors once for both. The line
 * lists its members in RFC 8785 order and the logged tensors keep theirs in that order too
 * (LoggedTensor), so it is the canonical form that `canonicalize` gives (the spec checks it)
 * without a second walk. What JCS would refuse — NaN, infinities, lone surrogates — cannot
 * occur: JSON-parsed inputs and checked outputs are finite, and text is made well-formed here.
 */
export function serializePrediction(p: PredictionRecord): { line: string; copyRow: string } {
  const text = JSON.stringify;
  const requestId = wellFormed(p.requestId);
  const error = p.error === null ? null : wellFormed(p.error);
  const createdAt = isoTime(p.createdAt);
  const endpoint = endpointFields(p.endpoint);
  const inputs = text(p.inputs);
  const outputs = p.outputs === null ? null : text(p.outputs);
  const version = String(p.modelVersion);
  return {
    line:
      `{"arm":${ARM_JSON[p.arm] ?? text(p.arm)},"created_at":"${createdAt}",` +
      `"endpoint":${endpoint.json},` +
      `"error":${text(error)},"inputs":${inputs},"latency_ms":${text(p.latencyMs)},` +
      `"model_version":${version},"outputs":${outputs ?? 'null'},` +
      `"request_id":${text(requestId)},"routing_key_hash":${text(p.routingKeyHash)}}`,
    copyRow:
      `${copyField(requestId)}\t${endpoint.copy}\t${version}\t${p.arm}\t` +
      `${jsonCopyField(inputs)}\t${outputs === null ? '\\N' : jsonCopyField(outputs)}\t` +
      `${copyField(error)}\t${p.latencyMs}\t${copyField(p.routingKeyHash)}\t${createdAt}\n`,
  };
}

/** The arms' JSON; a row read back with anything else (checked by its digest) is escaped. */
const ARM_JSON: Readonly<Record<string, string>> = {
  live: '"live"',
  candidate: '"candidate"',
  shadow: '"shadow"',
};

/*
 * What every prediction of a busy endpoint repeats is made once: the time (RFC 3339) of the
 * millisecond predictions were last made in, and the endpoint's two fields. A few hundred
 * nanoseconds each, of a serialization that costs a few microseconds.
 */
let lastMs = Number.NaN;
let lastIso = '';
function isoTime(at: Date): string {
  const ms = at.getTime();
  if (ms !== lastMs) {
    lastIso = at.toISOString();
    lastMs = ms;
  }
  return lastIso;
}

let lastEndpoint: { readonly name: string; readonly json: string; readonly copy: string } = {
  name: '',
  json: '""',
  copy: '',
};
function endpointFields(name: string): typeof lastEndpoint {
  if (name !== lastEndpoint.name)
    lastEndpoint = { name, json: JSON.stringify(name), copy: copyField(name) };
  return lastEndpoint;
}

/** One row's canonical line, without its newline, from the row as the table holds it. */
export function canonicalLine(row: LoggedRow): string {
  return serializePrediction({
    requestId: row.request_id,
    endpoint: row.endpoint,
    modelVersion: row.model_version,
    arm: row.arm as PredictionRecord['arm'],
    inputs: row.inputs as PredictionRecord['inputs'],
    outputs: row.outputs as PredictionRecord['outputs'],
    error: row.error,
    latencyMs: row.latency_ms,
    routingKeyHash: row.routing_key_hash,
    createdAt: new Date(row.created_at),
  }).line;
}

/** The batch digest of rows given in ascending id order. */
export function batchDigest(rows: readonly LoggedRow[]): string {
  const hash = createHash('sha256');
  for (const row of rows) hash.update(`${canonicalLine(row)}\n`, 'utf8');
  return hash.digest('hex');
}

/** Latencies are kept to the microsecond: a double that PostgreSQL returns unchanged. */
export function roundLatency(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Text PostgreSQL stores as given: lone UTF-16 surrogates replaced, NUL removed. */
export function wellFormed(text: string): string {
  // Every prediction passes here with a request id that is almost always fine already.
  if (isWellFormed(text) && !text.includes('\u0000')) return text;
  return text.replace(LONE_SURROGATE, '\ufffd').replaceAll('\u0000', '');
}
