import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EdgeBundle } from './edge-bundle-verify.js';
import { backoffMs, replacementRefusal, writeFileAtomically } from './edge-bundle-poller.js';

const bundle = (endpoint: string, treeSize: number): EdgeBundle =>
  ({
    spec: { endpoint },
    evidence: { checkpoint: { checkpoint: { treeSize } } },
  }) as unknown as EdgeBundle;

describe('polling for the bundle', () => {
  it('waits the interval after a poll that worked, doubling after each failure up to ten minutes', () => {
    expect(backoffMs(60_000, 0)).toBe(60_000);
    expect(backoffMs(60_000, 1)).toBe(120_000);
    expect(backoffMs(60_000, 3)).toBe(480_000);
    expect(backoffMs(60_000, 4)).toBe(600_000);
    expect(backoffMs(60_000, 1000)).toBe(600_000);
    // An interval longer than the cap is never shortened by failing.
    expect(backoffMs(3_600_000, 5)).toBe(3_600_000);
  });

  it('refuses a step back and another endpoint, and takes the same state or a later one', () => {
    const running = bundle('credit', 40);
    expect(replacementRefusal(running, bundle('credit', 41))).toBe(null);
    expect(replacementRefusal(running, bundle('credit', 40))).toBe(null);
    expect(replacementRefusal(running, bundle('credit', 39))).toBe(
      'a step back: its checkpoint tree size 39 is smaller than 40 of the bundle served',
    );
    expect(replacementRefusal(running, bundle('fraud', 41))).toBe(
      'it is of endpoint fraud, this device serves credit',
    );
  });

  it('replaces the bundle file whole and leaves no temporary file beside it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-poller-'));
    try {
      const file = join(dir, 'credit.edge.tar');
      writeFileSync(file, 'old bundle');
      writeFileAtomically(file, new TextEncoder().encode('new bundle'));
      expect(readFileSync(file, 'utf8')).toBe('new bundle');
      expect(readdirSync(dir)).toEqual(['credit.edge.tar']);
      expect(() => {
        writeFileAtomically(join(dir, 'missing', 'x.tar'), new Uint8Array([1]));
      }).toThrow(/ENOENT/);
      expect(readdirSync(dir)).toEqual(['credit.edge.tar']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
