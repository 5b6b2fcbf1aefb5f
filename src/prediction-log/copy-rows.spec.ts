import { describe, expect, it } from '@jest/globals';
import { COPY_WRITE_BYTES, copyField, turnBySlice } from './copy-rows.js';

describe('COPY text fields', () => {
  it('writes NULL as \\N and numbers as JavaScript writes them', () => {
    expect(copyField(null)).toBe('\\N');
    expect(copyField(0.125)).toBe('0.125');
    expect(copyField(12)).toBe('12');
  });

  it('escapes backslashes, tabs, newlines and carriage returns', () => {
    expect(copyField('{"a":"x\\"y"}')).toBe('{"a":"x\\\\"y"}');
    expect(copyField('line 1\nline 2\tend\r')).toBe('line 1\\nline 2\\tend\\r');
    expect(copyField('plain')).toBe('plain');
  });
});

describe('the rows sent a slice at a time', () => {
  it('cuts the chunks into slices of at most COPY_WRITE_BYTES, bytes and order kept', async () => {
    const chunks = [
      Buffer.alloc(2.5 * COPY_WRITE_BYTES, 'a'),
      Buffer.from('xyz'),
      Buffer.alloc(COPY_WRITE_BYTES, 'b'),
    ];
    const slices: Buffer[] = [];
    for await (const slice of turnBySlice(chunks)) slices.push(slice);
    expect(slices.map((s) => s.length)).toEqual([
      COPY_WRITE_BYTES,
      COPY_WRITE_BYTES,
      COPY_WRITE_BYTES / 2,
      3,
      COPY_WRITE_BYTES,
    ]);
    expect(Buffer.concat(slices).equals(Buffer.concat(chunks))).toBe(true);
  });

  it('gives the event loop a turn before each slice', async () => {
    let turns = 0;
    const tick = (): void => {
      turns++;
      if (turns < 100) setImmediate(tick);
    };
    setImmediate(tick);
    const seen: number[] = [];
    for await (const slice of turnBySlice([Buffer.alloc(3 * COPY_WRITE_BYTES)])) {
      expect(slice.length).toBe(COPY_WRITE_BYTES);
      seen.push(turns);
    }
    expect(seen).toHaveLength(3);
    expect(seen[0]).toBeGreaterThan(0);
    expect(seen[1]).toBeGreaterThan(seen[0] ?? Number.NaN);
    expect(seen[2]).toBeGreaterThan(seen[1] ?? Number.NaN);
  });
});
