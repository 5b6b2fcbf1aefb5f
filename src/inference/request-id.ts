import { randomFillSync } from 'node:crypto';

/** Random bytes drawn in bulk, 10 per id (as crypto.randomUUID does for its own). */
const pool = new Uint8Array(10 * 512);
let poolOffset = pool.length;
const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, '0'),
);

/**
 * A UUID version 7 (RFC 9562 §5.7): 48 bits of Unix time in milliseconds, then random bits.
 * Request ids are generated for every request that brings none; being time-ordered, they
 * land at the right edge of the prediction log's request-id index instead of on a random
 * page of it, which keeps logging cheap as the table grows.
 */
export function uuidV7(now: number = Date.now()): string {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const r = poolOffset;
  poolOffset += 10;
  // 48 bits of milliseconds, big-endian: the high 16 bits, then the low 32.
  const high = Math.floor(now / 2 ** 32);
  const low = now >>> 0;
  const h = (byte: number): string => HEX[byte & 0xff] ?? '00';
  const b = (i: number): number => pool[r + i] ?? 0;
  return (
    h(high >>> 8) +
    h(high) +
    h(low >>> 24) +
    h(low >>> 16) +
    '-' +
    h(low >>> 8) +
    h(low) +
    '-' +
    h(0x70 | (b(0) & 0x0f)) +
    h(b(1)) +
    '-' +
    h(0x80 | (b(2) & 0x3f)) +
    h(b(3)) +
    '-' +
    h(b(4)) +
    h(b(5)) +
    h(b(6)) +
    h(b(7)) +
    h(b(8)) +
    h(b(9))
  );
}
