import { describe, expect, it } from '@jest/globals';
import { uuidV7 } from './request-id.js';

describe('uuidV7', () => {
  it('is an RFC 9562 version 7 UUID carrying the time in milliseconds', () => {
    const id = uuidV7(0x0190_1234_5678);
    expect(id).toMatch(/^01901234-5678-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('sorts by time', () => {
    const ids = [3, 1, 2].map((ms) => uuidV7(1_700_000_000_000 + ms));
    expect([...ids].sort()).toEqual([ids[1], ids[2], ids[0]]);
  });

  it('differs from call to call within one millisecond', () => {
    const now = Date.now();
    expect(new Set(Array.from({ length: 1000 }, () => uuidV7(now))).size).toBe(1000);
  });
});
