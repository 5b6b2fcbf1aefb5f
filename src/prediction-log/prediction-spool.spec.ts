import { afterEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PreparedBatch } from './prediction-digest.js';
import { PredictionSpool } from './prediction-spool.js';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-spool-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A batch whose rows say who it is: `n` rows of `tag`, in one or more chunks. */
function batch(tag: string, rows: number, endpoint = 'credit'): PreparedBatch {
  const text = Array.from({ length: rows }, (_, i) => `${tag}-${i}\tx\n`).join('');
  const bytes = Buffer.from(text, 'utf8');
  const middle = Math.floor(bytes.length / 2);
  return {
    endpoint,
    chunks: rows > 1 ? [bytes.subarray(0, middle), bytes.subarray(middle)] : [bytes],
    count: rows,
    sha256: tag.padEnd(64, '0').slice(0, 64),
  };
}

/** Reads the oldest batch back, as text, and acknowledges it. */
function take(spool: PredictionSpool): string | null {
  const read = spool.peek();
  if (!read) return null;
  if (!read.ok) throw new Error(read.reason);
  spool.ack();
  return `${read.batch.endpoint}:${read.batch.count}:${read.batch.sha256.slice(0, 4)}:${Buffer.concat(read.batch.chunks).toString('utf8')}`;
}
const text = (b: PreparedBatch): string =>
  `${b.endpoint}:${b.count}:${b.sha256.slice(0, 4)}:${Buffer.concat(b.chunks).toString('utf8')}`;

describe('the prediction spool', () => {
  it('gives batches back in order, whole, and forgets each once acknowledged', () => {
    const dir = freshDir();
    const spool = PredictionSpool.open(dir, 1 << 20);
    const batches = [batch('a', 3), batch('b', 1, 'other'), batch('c', 5)];
    for (const b of batches) expect(spool.append(b)).toBe(true);
    expect({ batches: spool.batches, rows: spool.rows }).toEqual({ batches: 3, rows: 9 });
    expect(take(spool)).toBe(text(batches[0]!));
    // Not acknowledged: read again.
    expect(spool.peek()).toMatchObject({ ok: true, batch: { sha256: batches[1]!.sha256 } });
    expect(spool.peek()).toMatchObject({ ok: true, batch: { sha256: batches[1]!.sha256 } });
    spool.ack();
    expect(take(spool)).toBe(text(batches[2]!));
    expect(spool.empty).toBe(true);
    expect(spool.peek()).toBeNull();
    // Nothing waits: no segment is left on disk.
    expect(readdirSync(dir).filter((f) => f.endsWith('.spool'))).toEqual([]);
    spool.close();
  });

  it('refuses a batch beyond its limit, writing nothing of it', () => {
    const spool = PredictionSpool.open(freshDir(), 300);
    expect(spool.append(batch('a', 2))).toBe(true);
    const before = spool.bytes;
    expect(spool.append(batch('b', 40))).toBe(false);
    expect(spool.bytes).toBe(before);
    expect(spool.batches).toBe(1);
    spool.close();
  });

  it('after a crash mid-append, cuts off the torn record and keeps the whole ones', () => {
    const dir = freshDir();
    const first = PredictionSpool.open(dir, 1 << 20);
    first.append(batch('a', 2));
    first.append(batch('b', 2));
    // No close: the process died. Its last record was being written when it did.
    const [segment] = readdirSync(dir).filter((f) => f.endsWith('.spool'));
    appendFileSync(join(dir, segment!), Buffer.from('GHSPOOL1\u0000\u0000\u0001\u0000{"endpo'));
    const second = PredictionSpool.open(dir, 1 << 20);
    expect(second.rows).toBe(4);
    expect(take(second)).toBe(text(batch('a', 2)));
    second.append(batch('c', 1));
    expect(take(second)).toBe(text(batch('b', 2)));
    expect(take(second)).toBe(text(batch('c', 1)));
    second.close();
  });

  it('hands back a record whose bytes were altered as unusable, and goes on', () => {
    const dir = freshDir();
    const spool = PredictionSpool.open(dir, 1 << 20);
    spool.append(batch('a', 2));
    spool.close();
    const [segment] = readdirSync(dir).filter((f) => f.endsWith('.spool'));
    const path = join(dir, segment!);
    // Flip the last byte of the COPY rows.
    const bytes = readFileSync(path);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 2) ^ 1, bytes.length - 2);
    writeFileSync(path, bytes);
    const again = PredictionSpool.open(dir, 1 << 20);
    again.append(batch('b', 1));
    expect(again.peek()).toEqual({
      ok: false,
      endpoint: 'credit',
      count: 2,
      reason: 'its bytes do not match their SHA-256',
    });
    again.ack();
    expect(take(again)).toBe(text(batch('b', 1)));
    again.close();
  });

  it('is refused to a second live process, of this host or, while its lease lasts, of another', () => {
    const dir = freshDir();
    const lock = join(dir, 'lock');
    const holder = (host: string, pid: number): string => JSON.stringify({ host, pid });
    // The parent of the test process is alive and is not this process.
    writeFileSync(lock, holder(hostname(), process.ppid));
    expect(() => PredictionSpool.open(dir, 1 << 20)).toThrow(/in use by process/);
    // A lock left by a process of this host that is gone is taken over.
    writeFileSync(lock, holder(hostname(), 2147483646));
    PredictionSpool.open(dir, 1 << 20).close();
    // Another host's pids mean nothing here: its lock holds while it is renewed.
    writeFileSync(lock, holder('another-host', 2147483646));
    expect(() => PredictionSpool.open(dir, 1 << 20)).toThrow(/another-host:2147483646/);
    const lapsed = new Date(Date.now() - 61_000);
    utimesSync(lock, lapsed, lapsed);
    const taken = PredictionSpool.open(dir, 1 << 20);
    // The other host comes back and takes it again: this holder's next heartbeat says so.
    writeFileSync(lock, holder('another-host', 7));
    expect(() => {
      taken.heartbeat(Date.now() + 10_000);
    }).toThrow(/taken over/);
    taken.close();
    // Its close leaves the other's lock alone.
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toEqual({ host: 'another-host', pid: 7 });
  });

  it('finds each live process a folder of its own under one root, and a dead one’s is taken over', () => {
    const root = freshDir();
    const first = PredictionSpool.claim(root, 1 << 20);
    first.append(batch('a', 1));
    // Another live process (the test's parent) holds folder 1 too.
    mkdirSync(join(root, '1'));
    const parent = JSON.stringify({ host: hostname(), pid: process.ppid });
    writeFileSync(join(root, '1', 'lock'), parent);
    // Folder 0 is this process's own: claimed again (a writer thread started again), it is kept.
    const again = PredictionSpool.claim(root, 1 << 20);
    expect(again.rows).toBe(1);
    // As a process that is gone left it: the next claim takes 0 over and finds its batch.
    writeFileSync(join(root, '0', 'lock'), JSON.stringify({ host: hostname(), pid: 2147483646 }));
    expect(PredictionSpool.claim(root, 1 << 20).rows).toBe(1);
    // Held by a live process: the next free folder.
    writeFileSync(join(root, '0', 'lock'), parent);
    const other = PredictionSpool.claim(root, 1 << 20);
    expect(other.rows).toBe(0);
    expect(readdirSync(root).sort()).toEqual(['0', '1', '2']);
  });

  it('loses nothing and repeats nothing across appends, reads and restarts (property)', () => {
    type Op =
      | { kind: 'append'; rows: number; big: boolean }
      | { kind: 'take' }
      | { kind: 'reopen' }
      | { kind: 'tear' };
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('append' as const),
        rows: fc.integer({ min: 1, max: 20 }),
        big: fc.boolean(),
      }),
      fc.constant({ kind: 'take' as const }),
      fc.constant({ kind: 'reopen' as const }),
      fc.constant({ kind: 'tear' as const }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops: Op[]) => {
        const dir = freshDir();
        const limit = 64 * 1024;
        let spool = PredictionSpool.open(dir, limit);
        const expected: string[] = [];
        let n = 0;
        for (const o of ops) {
          if (o.kind === 'append') {
            // A big batch fills a segment quickly, so that segments roll and get deleted.
            const b = batch(`b${n++}`, o.big ? o.rows * 200 : o.rows);
            if (spool.append(b)) expected.push(text(b));
          } else if (o.kind === 'take') {
            expect(take(spool)).toBe(expected.shift() ?? null);
          } else {
            if (o.kind === 'tear') {
              // Died mid-append: a partial record at the end of the newest segment.
              const segments = readdirSync(dir)
                .filter((f) => f.endsWith('.spool'))
                .sort();
              const last = segments.at(-1);
              if (last) appendFileSync(join(dir, last), Buffer.from('GHSPOOL1\u0000\u0000'));
            } else spool.close();
            spool = PredictionSpool.open(dir, limit);
          }
          expect(spool.batches).toBe(expected.length);
        }
        for (const e of expected) expect(take(spool)).toBe(e);
        expect(spool.peek()).toBeNull();
        spool.close();
        rmSync(dir, { recursive: true, force: true });
      }),
      { numRuns: 60 },
    );
  });
});
