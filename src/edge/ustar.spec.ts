import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { python3 } from '../../test/support/python.js';
import {
  readUstar,
  streamUstar,
  ustarLength,
  UstarError,
  writeUstar,
  type UstarMember,
} from './ustar.js';

const UTF8 = new TextEncoder();
const member = (name: string, text: string): UstarMember => ({ name, bytes: UTF8.encode(text) });
const SAMPLE = [
  member('spec.json', '{"v":1}'),
  member('a-model.onnx', 'x'.repeat(700)),
  member('empty', ''),
];

const names = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/);
const members = fc.uniqueArray(
  fc.record({ name: names, bytes: fc.uint8Array({ maxLength: 1500 }) }),
  { selector: (m) => m.name, maxLength: 8 },
);

function refusal(bytes: Uint8Array): UstarError {
  try {
    readUstar(bytes);
  } catch (error) {
    if (error instanceof UstarError) return error;
    throw error;
  }
  throw new Error('the archive was accepted');
}

describe('ustar', () => {
  it('reads back what it writes, in name order, and writes the same bytes for the same files', () => {
    fc.assert(
      fc.property(members, (ms) => {
        const bytes = writeUstar(ms);
        expect(writeUstar([...ms].reverse())).toEqual(bytes);
        const read = readUstar(bytes);
        const sorted = [...ms].sort((a, b) => (a.name < b.name ? -1 : 1));
        expect(read.map((m) => m.name)).toEqual(sorted.map((m) => m.name));
        for (const [i, m] of read.entries()) expect(m.bytes).toEqual(sorted[i]?.bytes);
      }),
    );
  });

  it('streams the same bytes it writes, reading each member in chunks, and refuses data of another size', async () => {
    const entries = (ms: readonly UstarMember[], skew = 0) =>
      ms.map((m) => ({
        name: m.name,
        size: m.bytes.length + skew,
        data: function* () {
          for (let at = 0; at < m.bytes.length; at += 100) yield m.bytes.subarray(at, at + 100);
        },
      }));
    const collect = async (chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> => {
      const parts: Uint8Array[] = [];
      for await (const c of chunks) parts.push(c);
      return Uint8Array.from(parts.flatMap((p) => [...p]));
    };
    await fc.assert(
      fc.asyncProperty(members, async (ms) => {
        const streamed = await collect(streamUstar(entries(ms)));
        expect(streamed).toEqual(writeUstar(ms));
        expect(ustarLength(entries(ms))).toBe(streamed.length);
      }),
      { numRuns: 50 },
    );
    await expect(collect(streamUstar(entries(SAMPLE, 1)))).rejects.toThrow(
      'a-model.onnx: its data is not the 701 bytes declared',
    );
    await expect(collect(streamUstar(entries(SAMPLE.slice(1, 2), -1)))).rejects.toThrow(
      'a-model.onnx: its data is not the 699 bytes declared',
    );
  });

  it('is read by the standard tar readers of other languages (GNU tar, Python tarfile)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ustar-'));
    try {
      const file = join(dir, 'bundle.tar');
      writeFileSync(file, writeUstar(SAMPLE));
      const listing = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' });
      expect(
        listing
          .trim()
          .split('\n')
          .map((l) => l.split(/\s+/).at(-1)),
      ).toEqual(['a-model.onnx', 'empty', 'spec.json']);
      expect(listing).toMatch(/^-rw-r--r-- 0\/0 +700 1970-01-01 00:00 a-model.onnx$/m);
      execFileSync('tar', ['-xf', file, '-C', dir]);
      expect(readFileSync(join(dir, 'spec.json'), 'utf8')).toBe('{"v":1}');
      if (!python3()) return;
      const python = execFileSync(
        'python3',
        [
          '-c',
          'import sys, tarfile\n' +
            'with tarfile.open(sys.argv[1], "r:") as t:\n' +
            '  for m in t.getmembers(): print(m.name, m.size, m.isreg(), t.extractfile(m).read().decode()[:7])',
          file,
        ],
        { encoding: 'utf8' },
      );
      expect(python.split('\n').filter(Boolean)).toEqual([
        `a-model.onnx 700 True ${'x'.repeat(7)}`,
        'empty 0 True ',
        'spec.json 7 True {"v":1}',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses names that could leave the folder, repeat, or confuse a reader', () => {
    for (const name of [
      '../etc/passwd',
      'a/b',
      '.hidden',
      '..',
      'a\\b',
      'nul\0byte',
      '',
      'x'.repeat(101),
      'é',
    ])
      expect(() => writeUstar([member(name, '')])).toThrow(UstarError);
    expect(() => writeUstar([member('a', '1'), member('a', '2')])).toThrow(/a: appears twice/);
  });

  it('refuses a traversing name, a duplicate, an unsorted archive, links and long-name headers, naming the member', () => {
    const good = writeUstar([member('a', '1'), member('b', '2')]);
    // The second header renamed, with the checksum made right again.
    const renamed = (name: string, typeflag = '0'): Uint8Array => {
      const bytes = good.slice();
      const h = bytes.subarray(1024, 1536);
      h.fill(0, 0, 100);
      h.set(UTF8.encode(name), 0);
      h[156] = typeflag.charCodeAt(0);
      h.set(UTF8.encode('        '), 148);
      const sum = h.reduce((n, b) => n + b, 0);
      h.set(UTF8.encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
      return bytes;
    };
    expect(refusal(renamed('../x')).message).toMatch(/^member 2: the name holds a path separator/);
    expect(refusal(renamed('a')).message).toBe('a: appears twice');
    expect(refusal(renamed('0')).message).toBe('0: is out of order: it comes after a');
    expect(refusal(renamed('c', '2')).message).toBe('c: is not a regular file (a symbolic link)');
    expect(refusal(renamed('c', 'L')).message).toBe('c: is not a regular file (a GNU long name)');
    expect(refusal(renamed('c', 'x')).message).toBe(
      'c: is not a regular file (a pax extended header)',
    );
    expect(refusal(renamed('c', '5')).message).toBe('c: is not a regular file (a directory)');
  });

  it('refuses a size past the end, trailing data and a truncated end', () => {
    const good = writeUstar([member('a', 'hello')]);
    const huge = good.slice();
    huge.set(UTF8.encode('77777777777\0'), 124);
    expect(refusal(huge).message).toMatch(/^a: /);
    expect(refusal(good.subarray(0, good.length - 512)).message).toMatch(/one zero block/);
    const trailing = new Uint8Array(good.length + 512);
    trailing.set(good);
    trailing[good.length] = 1;
    expect(refusal(trailing).message).toMatch(/data after the two zero blocks/);
    expect(refusal(good.subarray(0, 700)).message).toMatch(/not a multiple of 512/);
  });

  it('refuses any single changed byte of an archive, and never fails otherwise than with a UstarError', () => {
    const good = writeUstar(SAMPLE);
    fc.assert(
      fc.property(fc.nat(good.length - 1), fc.integer({ min: 1, max: 255 }), (at, delta) => {
        const bytes = good.slice();
        bytes[at] = ((bytes[at] ?? 0) + delta) % 256;
        let read: UstarMember[] | undefined;
        try {
          read = readUstar(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(UstarError);
          return;
        }
        // A byte of a member's data: the archive is well formed, the content differs.
        const changed = read.find((m, i) => !sameBytes(m.bytes, readUstar(good)[i]?.bytes));
        expect(changed).toBeDefined();
      }),
      { numRuns: 3000 },
    );
  });

  it('answers random and mutated input with a UstarError, never another error', () => {
    const good = writeUstar(SAMPLE);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 4096 }),
          fc.uint8Array({ minLength: 512, maxLength: 512 }).map((b) => {
            const out = good.slice();
            out.set(b, 0);
            return out;
          }),
          fc.nat(good.length).map((n) => good.subarray(0, n)),
        ),
        (bytes) => {
          try {
            readUstar(bytes);
          } catch (error) {
            expect(error).toBeInstanceOf(UstarError);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});

function sameBytes(a: Uint8Array, b: Uint8Array | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}
