import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ort, type InferenceSession } from '../runtime/ort.js';
import type { EdgeSpec } from './edge-bundle-format.js';
import { DeviceLogFile } from './device-log-file.js';
import { EdgeRuntime, type EdgeArm } from './edge-runtime.js';

const signature = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 1] }],
  outputs: [{ name: 'score', datatype: 'FP32', shape: [-1, 1] }],
};

/** An arm whose model answers `score` when `gate` lets it, counting its releases. */
function armOf(version: number, bundleSha256: string, gate: () => Promise<void>) {
  const calls = { runs: 0, releases: 0 };
  const session = {
    run: async () => {
      calls.runs++;
      await gate();
      return { score: new ort.Tensor('float32', Float32Array.from([version / 10]), [1, 1]) };
    },
    release: () => {
      calls.releases++;
      return Promise.resolve();
    },
  } as unknown as InferenceSession;
  const arm: EdgeArm = {
    arm: 'live',
    answers: true,
    spec: { endpoint: 'credit', model: 'credit-risk', version } as EdgeSpec,
    bundleSha256,
    session,
    signature,
  };
  return { arm, calls };
}

describe('the edge runtime swapping its arms', () => {
  it('finishes a request under way on the arms it started with, runs later ones on the new arms, and releases the old once done', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-edge-runtime-'));
    const logPath = join(dir, 'log.ndjson');
    let open!: () => void;
    const held = new Promise<void>((resolve) => {
      open = resolve;
    });
    const old = armOf(1, 'a'.repeat(64), () => held);
    const next = armOf(2, 'b'.repeat(64), () => Promise.resolve());
    const runtime = new EdgeRuntime({
      arms: [old.arm],
      log: DeviceLogFile.open(logPath, 'kiosk-7', () => undefined),
    });
    try {
      const url = await runtime.listen(0, '127.0.0.1');
      const infer = (id: string) =>
        fetch(`${url}/v2/models/credit/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            id,
            inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1], data: [0.5] }],
          }),
        }).then(async (r) => (await r.json()) as { model_version: string });
      const first = infer('first');
      while (old.calls.runs === 0) await new Promise((resolve) => setImmediate(resolve));

      runtime.swap([next.arm]);
      expect(runtime.arms).toEqual([next.arm]);
      expect((await infer('second')).model_version).toBe('2');
      expect(old.calls.releases).toBe(0);
      open();
      expect((await first).model_version).toBe('1');
      expect(old.calls.releases).toBe(1);
      expect(next.calls.releases).toBe(0);

      const records = readFileSync(logPath, 'utf8')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as { requestId: string; bundleSha256: string });
      expect(records.map((r) => [r.requestId, r.bundleSha256])).toEqual([
        ['second', 'b'.repeat(64)],
        ['first', 'a'.repeat(64)],
      ]);
      expect(() => {
        runtime.swap([{ ...next.arm, spec: { ...next.arm.spec, endpoint: 'fraud' } }]);
      }).toThrow('a bundle of endpoint fraud cannot replace one of credit');
    } finally {
      await runtime.close();
      rmSync(dir, { recursive: true, force: true });
    }
    expect(next.calls.releases).toBe(1);
  });
});
