import { describe, expect, it } from '@jest/globals';
import { ROW_BUFFER_BYTES, RowBuffers } from './row-buffers.js';

describe('row buffers', () => {
  it('hands a given-back buffer out again, whole, up to the number it keeps', () => {
    const buffers = new RowBuffers(1);
    const first = buffers.take(10);
    const second = buffers.take(10);
    expect(first.length).toBe(ROW_BUFFER_BYTES);
    buffers.give([first.subarray(0, 10), second.subarray(0, 20)]);
    expect(buffers.idle).toBe(1);
    const again = buffers.take(100);
    expect(again.buffer).toBe(first.buffer);
    expect(again.length).toBe(ROW_BUFFER_BYTES);
    expect(buffers.idle).toBe(0);
  });

  it('makes a larger buffer for a larger row, and does not keep it', () => {
    const buffers = new RowBuffers(4);
    const large = buffers.take(ROW_BUFFER_BYTES + 1);
    expect(large.length).toBe(ROW_BUFFER_BYTES + 1);
    buffers.give([large]);
    expect(buffers.idle).toBe(0);
  });
});
