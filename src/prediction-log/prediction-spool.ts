import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { PreparedBatch } from './prediction-digest.js';

/**
 * A batch read back from the spool: whole, or the reason it cannot be used (a record whose
 * bytes no longer match their check).
 */
export type SpooledBatch =
  | { readonly ok: true; readonly batch: PreparedBatch }
  | {
      readonly ok: false;
      readonly count: number;
      readonly endpoint: string;
      readonly reason: string;
    };

interface RecordHeader {
  readonly endpoint: string;
  readonly count: number;
  readonly sha256: string;
  readonly bytes: number;
  /** SHA-256 of the record's COPY bytes: what a torn or altered record is found by. */
  readonly check: string;
}

interface Segment {
  readonly number: number;
  readonly path: string;
}

const MAGIC = Buffer.from('GHSPOOL1', 'latin1');
const PREFIX_BYTES = MAGIC.length + 4;
/** A segment is closed once it holds this much; it is deleted when all of it is written. */
const SEGMENT_BYTES = 16 * 2 ** 20;
/** A header is a few hundred bytes; anything larger is not a header. */
const MAX_HEADER_BYTES = 64 * 1024;
/** Spools under one root at most: replicas sharing a data folder. */
const MAX_SPOOLS = 64;
const SEGMENT_NAME = /^segment-(\d{16})\.spool$/;
const CURSOR = 'cursor.json';
const LOCK = 'lock';
/** A lock of another host not touched for this long is taken over. */
const LEASE_MS = 60_000;
/** The holder touches its lock at most this often. */
const HEARTBEAT_MS = 5_000;

/**
 * Where the prediction log's batches wait while PostgreSQL cannot take them: append-only
 * segment files under one folder, each batch a record (its endpoint, row count, seal digest,
 * the SHA-256 of its bytes, then its COPY rows) written and fsynced before `append` returns.
 * Records are read back oldest first; `ack` moves a cursor (itself fsynced, through a rename)
 * past the one read, and a segment is deleted once the cursor has left it. The records not
 * yet acknowledged are bounded in bytes: `append` refuses a batch beyond the limit.
 *
 * After a crash, a record cut short at the end of the last segment (its write never finished,
 * so its batch was never reported spooled) is cut off; a record whose bytes do not match
 * their check is handed back as unusable rather than written. One process uses a folder at a
 * time; `claim` finds each process a folder of its own under one root, so that replicas
 * sharing a data folder each have a spool, and a process started after a crash takes over the
 * dead one's, and writes what it left.
 *
 * The lock file names its holder's host and pid, and the holder touches it (`heartbeat`) as a
 * lease. A lock of this host whose process is gone is free at once; one of another host (a
 * replica on a volume shared between machines, whose pids mean nothing here) is free once its
 * lease has not been renewed for LEASE_MS.
 *
 * All of it is synchronous: it runs on the log writer's own thread, where waiting for the
 * disk holds up nothing but the log.
 */
export class PredictionSpool {
  private segments: Segment[] = [];
  /** Position of the next record to read, in the first segment. */
  private cursor = 0;
  /** Open descriptor of the last segment, appended to. */
  private tail: { fd: number; size: number; number: number } | undefined;
  private pending = { batches: 0, rows: 0, bytes: 0 };
  private lastHeartbeat = 0;
  /** The record `peek` read, until it is acknowledged. */
  private peeked: { readonly next: number; readonly count: number } | undefined;
  /**
   * The number of the next segment made. Numbers only rise, so that a cursor left behind by
   * a crash can never point into a newer segment.
   */
  private nextSegment = 1;

  private constructor(
    private readonly dir: string,
    private readonly limitBytes: number,
  ) {}

  /**
   * The spool in the first numbered folder under `root` that no live process holds (most
   * often `root/0`).
   */
  static claim(root: string, limitBytes: number): PredictionSpool {
    for (let n = 0; n < MAX_SPOOLS; n++) {
      try {
        return PredictionSpool.open(join(root, String(n)), limitBytes);
      } catch (error) {
        if (!(error instanceof SpoolInUseError)) throw error;
      }
    }
    throw new Error(
      `every one of the ${MAX_SPOOLS} spools under ${root} is held by a live process`,
    );
  }

  /** Opens (creating if need be) the spool in `dir`, recovering what a previous run left. */
  static open(dir: string, limitBytes: number): PredictionSpool {
    mkdirSync(dir, { recursive: true });
    const spool = new PredictionSpool(dir, limitBytes);
    spool.lock();
    spool.recover();
    return spool;
  }

  /** Batches waiting to be written. */
  get batches(): number {
    return this.pending.batches;
  }

  /** Predictions waiting to be written. */
  get rows(): number {
    return this.pending.rows;
  }

  /** Bytes of the records waiting. */
  get bytes(): number {
    return this.pending.bytes;
  }

  get empty(): boolean {
    return this.pending.batches === 0;
  }

  /**
   * Writes the batch at the end of the spool and fsyncs it; false, with nothing written, when
   * it would take the spool beyond its limit.
   */
  append(batch: PreparedBatch): boolean {
    const payloadBytes = batch.chunks.reduce((n, c) => n + c.length, 0);
    const check = createHash('sha256');
    for (const chunk of batch.chunks) check.update(chunk);
    const header: RecordHeader = {
      endpoint: batch.endpoint,
      count: batch.count,
      sha256: batch.sha256,
      bytes: payloadBytes,
      check: check.digest('hex'),
    };
    const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
    const prefix = Buffer.alloc(PREFIX_BYTES);
    MAGIC.copy(prefix);
    prefix.writeUInt32BE(headerBytes.length, MAGIC.length);
    const recordBytes = PREFIX_BYTES + headerBytes.length + payloadBytes;
    if (this.pending.bytes + recordBytes > this.limitBytes) return false;
    const tail = this.writableTail();
    let at = tail.size;
    for (const part of [prefix, headerBytes, ...batch.chunks]) {
      at += writeAll(tail.fd, part, at);
    }
    fsyncSync(tail.fd);
    tail.size = at;
    this.pending.batches++;
    this.pending.rows += batch.count;
    this.pending.bytes += recordBytes;
    return true;
  }

  /** The oldest batch waiting, read again until `ack`; null when none waits. */
  peek(): SpooledBatch | null {
    const head = this.segments[0];
    if (!head || this.pending.batches === 0) return null;
    const fd = openSync(head.path, 'r');
    try {
      const size = fstatSync(fd).size;
      if (this.cursor >= size) {
        // Everything of this segment is written: on to the next.
        this.dropHead();
        return this.peek();
      }
      const read = readRecord(fd, this.cursor, size);
      if (read.kind === 'torn')
        // Only the last segment's end can be torn (recover cuts it off); a shorter one is damage.
        return this.unusable(size, { endpoint: '?', count: 0 }, read.reason);
      const { header, payload, next } = read;
      this.peeked = { next, count: header.count };
      const check = createHash('sha256').update(payload).digest('hex');
      if (check !== header.check)
        return this.unusable(next, header, 'its bytes do not match their SHA-256');
      return {
        ok: true,
        batch: {
          endpoint: header.endpoint,
          chunks: [payload],
          count: header.count,
          sha256: header.sha256,
        },
      };
    } finally {
      closeSync(fd);
    }
  }

  /** The batch `peek` gave is written (or given up): the cursor moves past it, durably. */
  ack(): void {
    const peeked = this.peeked;
    if (!peeked) throw new Error('ack without a peeked record');
    this.peeked = undefined;
    this.pending.batches = Math.max(0, this.pending.batches - 1);
    this.pending.rows = Math.max(0, this.pending.rows - peeked.count);
    this.pending.bytes = Math.max(0, this.pending.bytes - (peeked.next - this.cursor));
    this.cursor = peeked.next;
    if (this.pending.batches === 0) {
      this.reset();
      return;
    }
    this.saveCursor();
  }

  /**
   * Renews the lease on the folder (at most every HEARTBEAT_MS); throws if another process
   * holds it now (this one stalled for longer than the lease, and was taken over).
   */
  heartbeat(now = Date.now()): void {
    if (now - this.lastHeartbeat < HEARTBEAT_MS) return;
    const path = join(this.dir, LOCK);
    const holder = readLock(path);
    if (holder?.host !== hostname() || holder.pid !== process.pid)
      throw new Error(`the prediction spool ${this.dir} was taken over by another process`);
    utimesSync(path, new Date(now), new Date(now));
    this.lastHeartbeat = now;
  }

  /** Closes the files and lets another process have the folder. */
  close(): void {
    if (this.tail) closeSync(this.tail.fd);
    this.tail = undefined;
    const path = join(this.dir, LOCK);
    const holder = readLock(path);
    if (holder?.host === hostname() && holder.pid === process.pid) rmSync(path, { force: true });
  }

  private unusable(
    next: number,
    header: { endpoint: string; count: number },
    reason: string,
  ): SpooledBatch {
    this.peeked = { next, count: header.count };
    return { ok: false, endpoint: header.endpoint, count: header.count, reason };
  }

  /**
   * Takes the folder, or fails naming the live process that holds it. The lock file is made
   * exclusively, so that of two processes starting at once only one gets it; one left by a
   * process that is gone (or whose lease ran out) is taken over.
   */
  private lock(): void {
    const path = join(this.dir, LOCK);
    const mine = JSON.stringify({ host: hostname(), pid: process.pid });
    for (let attempt = 0; ; attempt++) {
      try {
        writeFileSync(path, mine, { flag: 'wx' });
        this.lastHeartbeat = Date.now();
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      }
      const holder = readLock(path);
      if (holder && holderLives(holder, statSync(path).mtimeMs)) {
        // This process's own: a writer thread started again after the last one failed.
        if (holder.host === hostname() && holder.pid === process.pid) {
          this.lastHeartbeat = 0;
          return;
        }
        throw new SpoolInUseError(this.dir, `${holder.host}:${holder.pid}`);
      }
      rmSync(path, { force: true });
    }
  }

  /** Reads what a previous run left: the segments, the cursor, and the records still waiting. */
  private recover(): void {
    this.segments = readdirSync(this.dir)
      .map((name) => SEGMENT_NAME.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ number: Number(m[1]), path: join(this.dir, m[0]) }))
      .sort((a, b) => a.number - b.number);
    const saved = readCursor(join(this.dir, CURSOR));
    this.nextSegment = Math.max((this.segments.at(-1)?.number ?? 0) + 1, saved?.segment ?? 1);
    // Segments before the cursor's were written in full (their deletion did not finish).
    while (this.segments[0] && saved && this.segments[0].number < saved.segment) this.dropHead();
    this.cursor = saved && this.segments[0]?.number === saved.segment ? saved.offset : 0;
    this.segments.forEach((segment, index) => {
      const fd = openSync(segment.path, 'r+');
      try {
        const size = fstatSync(fd).size;
        let at = index === 0 ? this.cursor : 0;
        while (at < size) {
          const read = readRecord(fd, at, size);
          if (read.kind === 'torn') {
            // Cut short by a crash mid-append: that batch was never reported spooled.
            ftruncateSync(fd, at);
            fsyncSync(fd);
            break;
          }
          this.pending.batches++;
          this.pending.rows += read.header.count;
          this.pending.bytes += read.next - at;
          at = read.next;
        }
      } finally {
        closeSync(fd);
      }
    });
    if (this.pending.batches === 0) this.reset();
  }

  private writableTail(): { fd: number; size: number; number: number } {
    if (this.tail && this.tail.size < SEGMENT_BYTES) return this.tail;
    if (this.tail) closeSync(this.tail.fd);
    this.tail = undefined;
    const last = this.segments.at(-1);
    if (last) {
      // Left by a previous run, or by the segment before this one filled up.
      const fd = openSync(last.path, 'a');
      const size = fstatSync(fd).size;
      if (size < SEGMENT_BYTES) return (this.tail = { fd, size, number: last.number });
      closeSync(fd);
    }
    const number = this.nextSegment++;
    const path = segmentPath(this.dir, number);
    this.segments.push({ number, path });
    const fd = openSync(path, 'a');
    return (this.tail = { fd, size: 0, number });
  }

  private dropHead(): void {
    const head = this.segments.shift();
    if (!head) return;
    if (this.tail?.number === head.number) {
      closeSync(this.tail.fd);
      this.tail = undefined;
    }
    rmSync(head.path, { force: true });
    this.cursor = 0;
    if (this.segments[0]) this.saveCursor();
  }

  /** Nothing waits: every segment goes, and the next record starts a fresh one. */
  private reset(): void {
    if (this.tail) closeSync(this.tail.fd);
    this.tail = undefined;
    for (const segment of this.segments) rmSync(segment.path, { force: true });
    this.segments = [];
    this.cursor = 0;
    this.pending = { batches: 0, rows: 0, bytes: 0 };
    writeCursor(join(this.dir, CURSOR), { segment: this.nextSegment, offset: 0 });
  }

  private saveCursor(): void {
    const head = this.segments[0];
    if (head) writeCursor(join(this.dir, CURSOR), { segment: head.number, offset: this.cursor });
  }
}

class SpoolInUseError extends Error {
  constructor(dir: string, holder: string) {
    super(`the prediction spool ${dir} is in use by process ${holder}`);
  }
}

interface LockHolder {
  readonly host: string;
  readonly pid: number;
}

function readLock(path: string): LockHolder | null {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockHolder> | null;
    if (typeof value?.host === 'string' && Number.isSafeInteger(value.pid))
      return value as LockHolder;
    return null;
  } catch {
    return null;
  }
}

/** A holder of this host lives while its process does; one of another host, while its lease. */
function holderLives(holder: LockHolder, touchedAt: number): boolean {
  if (holder.host === hostname()) return holder.pid === process.pid || isAlive(holder.pid);
  return Date.now() - touchedAt < LEASE_MS;
}

type ReadResult =
  | {
      readonly kind: 'record';
      readonly header: RecordHeader;
      readonly payload: Buffer;
      readonly next: number;
    }
  | { readonly kind: 'torn'; readonly reason: string };

function readRecord(fd: number, at: number, size: number): ReadResult {
  if (size - at < PREFIX_BYTES) return { kind: 'torn', reason: 'a record cut short' };
  const prefix = readExactly(fd, at, PREFIX_BYTES);
  if (!prefix.subarray(0, MAGIC.length).equals(MAGIC))
    return { kind: 'torn', reason: 'no record starts here' };
  const headerLength = prefix.readUInt32BE(MAGIC.length);
  if (headerLength > MAX_HEADER_BYTES || size - at - PREFIX_BYTES < headerLength)
    return { kind: 'torn', reason: 'a record header cut short' };
  let header: RecordHeader;
  try {
    header = headerOf(
      JSON.parse(readExactly(fd, at + PREFIX_BYTES, headerLength).toString('utf8')),
    );
  } catch {
    return { kind: 'torn', reason: 'an unreadable record header' };
  }
  const start = at + PREFIX_BYTES + headerLength;
  if (size - start < header.bytes) return { kind: 'torn', reason: 'a record cut short' };
  return {
    kind: 'record',
    header,
    payload: readExactly(fd, start, header.bytes),
    next: start + header.bytes,
  };
}

function headerOf(value: unknown): RecordHeader {
  const h = value as Partial<RecordHeader> | null;
  if (
    typeof h?.endpoint !== 'string' ||
    typeof h.sha256 !== 'string' ||
    typeof h.check !== 'string' ||
    !Number.isSafeInteger(h.count) ||
    !Number.isSafeInteger(h.bytes) ||
    (h.bytes ?? -1) < 0
  )
    throw new Error('not a record header');
  return h as RecordHeader;
}

function readExactly(fd: number, at: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buffer, done, length - done, at + done);
    if (n === 0) throw new Error('the spool file ended early');
    done += n;
  }
  return buffer;
}

function writeAll(fd: number, bytes: Buffer, at: number): number {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, at + done);
  return done;
}

function segmentPath(dir: string, number: number): string {
  return join(dir, `segment-${String(number).padStart(16, '0')}.spool`);
}

function readCursor(path: string): { segment: number; offset: number } | null {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as { segment?: unknown; offset?: unknown };
    const { segment, offset } = value;
    if (Number.isSafeInteger(segment) && Number.isSafeInteger(offset))
      return { segment: segment as number, offset: offset as number };
    return null;
  } catch {
    return null;
  }
}

/** Replaces the cursor file whole: a crash leaves the old one or the new one, never half. */
function writeCursor(path: string, cursor: { segment: number; offset: number }): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, JSON.stringify(cursor));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
