import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readFileSync,
  readSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import {
  CHAIN_START,
  DEVICE_LOG_VERSION,
  DeviceLogError,
  parseLine,
  readRecord,
  sealRecord,
  verifyChain,
  type ChainHead,
  type DeviceLogRecord,
  type UnhashedRecord,
} from './device-log.js';

/**
 * The device log on disk: records appended one line each to one file, the chain continued
 * across restarts, the file synced to disk in batches.
 *
 * Durability: a record is written (into the page cache) before its answer is sent, and the file
 * is fdatasync'ed at most `syncIntervalMs` later (200 ms) and on close. A crash of the process
 * loses nothing written; a power cut loses the records of the last interval at most, and can
 * leave the last line torn, which the next start cuts off (saying so). What a power cut loses
 * is then missing from the log, not forged into it: the chain is continued from the last whole
 * record, so the seqs stay gapless and the service sees no hole. Syncing every record would
 * cost a disk flush per prediction (milliseconds on the flash storage of a small device).
 */

/** What a log file ended with when it was opened. */
export interface OpenedLog {
  readonly head: ChainHead;
  /** Bytes of a torn or unreadable last line cut off, 0 when the file ended cleanly. */
  readonly cut: number;
  /** The device that wrote the records already there; undefined for an empty log. */
  readonly deviceId: string | undefined;
}

export class DeviceLogFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeviceLogFileError';
  }
}

const CHUNK = 1 << 20;

/**
 * Reads the log from the start, checking every record's chain as it goes, and returns where the
 * chain stands. Streams in chunks: a log kept for months offline is not read into memory. A last
 * line with no newline, or one that is not a record, is cut off (a crash or power cut mid-append);
 * a bad record anywhere before the last line is refused: the log was changed, and continuing
 * it would chain new records onto a lie.
 */
export function openLogFile(path: string, onWarning: (message: string) => void): OpenedLog {
  const fd = openSync(path, 'a+');
  try {
    const size = fstatSync(fd).size;
    let head: ChainHead = CHAIN_START;
    let deviceId: string | undefined;
    let good = 0; // bytes of whole, valid records
    let position = 0;
    let pending = Buffer.alloc(0);
    let line = 0;
    const buffer = Buffer.alloc(CHUNK);
    while (position < size) {
      const read = readSync(fd, buffer, 0, CHUNK, position);
      if (read === 0) break;
      position += read;
      pending = Buffer.concat([pending, buffer.subarray(0, read)]);
      let newline = pending.indexOf(0x0a);
      while (newline !== -1) {
        line++;
        const text = pending.subarray(0, newline).toString('utf8');
        let record: DeviceLogRecord;
        try {
          record = readRecord(parseLine(text, line), line);
          const verdict = verifyChain([record], head);
          if (!verdict.ok) throw new DeviceLogError({ seq: verdict.seq, line }, '', verdict.reason);
          if (deviceId !== undefined && record.deviceId !== deviceId)
            throw new DeviceLogError(
              { seq: record.seq, line },
              'deviceId',
              `is ${record.deviceId}; the records before it are ${deviceId}'s`,
            );
        } catch (error) {
          const last = good + newline + 1 === size;
          if (!last || !(error instanceof DeviceLogError))
            throw new DeviceLogFileError(
              `the device log ${path} is broken at line ${line}: ${error instanceof Error ? error.message : String(error)}; it is not continued`,
            );
          return cut(fd, path, good, size, head, deviceId, onWarning, error.message);
        }
        head = { seq: record.seq, hash: record.hash };
        deviceId = record.deviceId;
        good += newline + 1;
        pending = pending.subarray(newline + 1);
        newline = pending.indexOf(0x0a);
      }
    }
    if (pending.length > 0)
      return cut(fd, path, good, size, head, deviceId, onWarning, 'the last line has no end');
    return { head, cut: 0, deviceId };
  } finally {
    closeSync(fd);
  }
}

function cut(
  fd: number,
  path: string,
  good: number,
  size: number,
  head: ChainHead,
  deviceId: string | undefined,
  onWarning: (message: string) => void,
  why: string,
): OpenedLog {
  ftruncateSync(fd, good);
  fdatasyncSync(fd);
  onWarning(
    `the device log ${path} ended with a torn record (${why}): cut off its last ${size - good} bytes; the chain continues from seq ${head.seq}`,
  );
  return { head, cut: size - good, deviceId };
}

/** The fields of a prediction a device log record carries besides its place in the chain. */
export type Prediction = Omit<UnhashedRecord, 'v' | 'seq' | 'prev' | 'deviceId'>;

/**
 * The open log: appends records to the chain, syncs in batches. One writer per file: a lock
 * file beside it (`<log>.lock`, holding the writer's pid) keeps a second `edge serve` from
 * forking the chain.
 */
export class DeviceLogFile {
  private readonly fd: number;
  private head: ChainHead;
  private dirty = false;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  private constructor(
    readonly path: string,
    readonly deviceId: string,
    opened: OpenedLog,
    private readonly lockPath: string,
    syncIntervalMs: number,
  ) {
    this.head = opened.head;
    this.fd = openSync(path, 'a');
    this.timer = setInterval(() => {
      this.sync();
    }, syncIntervalMs);
    this.timer.unref();
  }

  static open(
    path: string,
    deviceId: string,
    onWarning: (message: string) => void,
    syncIntervalMs = 200,
  ): DeviceLogFile {
    const lockPath = `${path}.lock`;
    takeLock(lockPath, path);
    try {
      const opened = openLogFile(path, onWarning);
      if (opened.deviceId !== undefined && opened.deviceId !== deviceId)
        throw new DeviceLogFileError(
          `the device log ${path} holds the records of device ${opened.deviceId}, not ${deviceId}: give each device its own log`,
        );
      return new DeviceLogFile(path, deviceId, opened, lockPath, syncIntervalMs);
    } catch (error) {
      unlinkSync(lockPath);
      throw error;
    }
  }

  get position(): ChainHead {
    return this.head;
  }

  /** Appends the prediction as the next record; returns it as written. */
  append(prediction: Prediction): DeviceLogRecord {
    if (this.closed) throw new Error('the device log is closed');
    const { record, line } = sealRecord({
      ...prediction,
      v: DEVICE_LOG_VERSION,
      deviceId: this.deviceId,
      seq: this.head.seq + 1,
      prev: this.head.hash,
    });
    const bytes = Buffer.from(line, 'utf8');
    // One write of the whole line, to a file opened for appending: a crash leaves at most this
    // line torn, never two records interleaved.
    let written = 0;
    while (written < bytes.length)
      written += writeSync(this.fd, bytes, written, bytes.length - written);
    this.head = { seq: record.seq, hash: record.hash };
    this.dirty = true;
    return record;
  }

  sync(): void {
    if (!this.dirty || this.closed) return;
    this.dirty = false;
    fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.closed) return;
    this.sync();
    this.closed = true;
    clearInterval(this.timer);
    closeSync(this.fd);
    try {
      unlinkSync(this.lockPath);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

function takeLock(lockPath: string, logPath: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lockPath, `${process.pid}\n`, { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const pid = Number(readFileSync(lockPath, 'utf8').trim());
    if (Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
      throw new DeviceLogFileError(
        `the device log ${logPath} is in use by process ${pid} (${lockPath}); one edge serve per log`,
      );
    // Left by a process that is gone (killed, or the device lost power).
    unlinkSync(lockPath);
  }
  throw new DeviceLogFileError(`could not lock the device log ${logPath} (${lockPath})`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The whole lines of a log file, in order, each with its number (1-based); a last line with no
 * end yet (being appended by `edge serve` as this reads) is not one of them. Read in chunks.
 */
export function* logLines(
  path: string,
): Generator<{ readonly text: string; readonly line: number }> {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(CHUNK);
    let pending = Buffer.alloc(0);
    let position = 0;
    let line = 0;
    for (;;) {
      const read = readSync(fd, buffer, 0, CHUNK, position);
      if (read === 0) return;
      position += read;
      pending = Buffer.concat([pending, buffer.subarray(0, read)]);
      let newline = pending.indexOf(0x0a);
      while (newline !== -1) {
        line++;
        yield { text: pending.subarray(0, newline).toString('utf8'), line };
        pending = pending.subarray(newline + 1);
        newline = pending.indexOf(0x0a);
      }
    }
  } finally {
    closeSync(fd);
  }
}
