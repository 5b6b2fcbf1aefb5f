import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviceLogFile, logLines, type Prediction } from './device-log-file.js';
import { CHAIN_START, parseRecords, verifyChain } from './device-log.js';

const prediction = (i: number): Prediction => ({
  arm: 'live',
  bundleSha256: 'b'.repeat(64),
  endpoint: 'credit',
  error: null,
  inputs: [{ data: [i, i + 1], datatype: 'FP32', name: 'features', shape: [1, 2] }],
  latencyMs: 0.125,
  model: 'credit-risk',
  modelVersion: 1,
  outputs: [{ data: [0.5], datatype: 'FP32', name: 'score', shape: [1, 1] }],
  requestId: `req-${i}`,
  routingKeyHash: null,
  ts: '2026-12-08T03:00:00.000Z',
});

describe('the device log file', () => {
  let dir: string;
  let path: string;
  let warnings: string[];
  const open = (device = 'kiosk-7') =>
    DeviceLogFile.open(path, device, (w) => {
      warnings.push(w);
    });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'device-log-'));
    path = join(dir, 'log.ndjson');
    warnings = [];
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('continues the chain across opens, gapless from seq 1', () => {
    let log = open();
    for (let i = 0; i < 3; i++) log.append(prediction(i));
    log.close();
    log = open();
    expect(log.position.seq).toBe(3);
    log.append(prediction(3));
    log.close();
    const records = parseRecords(readFileSync(path, 'utf8'));
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(verifyChain(records, CHAIN_START).ok).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('cuts off a torn last line, saying so, and refuses a log changed before its end', () => {
    const log = open();
    for (let i = 0; i < 3; i++) log.append(prediction(i));
    log.close();
    const whole = readFileSync(path, 'utf8');
    appendFileSync(path, '{"arm":"li');
    const reopened = open();
    expect(reopened.position.seq).toBe(3);
    reopened.close();
    expect(warnings).toEqual([
      `the device log ${path} ended with a torn record (the last line has no end): cut off its last 10 bytes; the chain continues from seq 3`,
    ]);
    expect(readFileSync(path, 'utf8')).toBe(whole);

    // A whole last line that is no record (written, then the power went before the rest).
    writeFileSync(path, `${whole}{"seq":4}\n`);
    const cut = open();
    expect(cut.position.seq).toBe(3);
    cut.close();

    // A record changed in the middle: the log is not continued.
    writeFileSync(path, whole.replace('"req-1"', '"req-X"'));
    expect(() => open()).toThrow(
      new RegExp(
        `^the device log ${path} is broken at line 2: seq 2: hash \\w+ does not recompute`,
      ),
    );
  });

  it('is one device’s, and one writer’s at a time', () => {
    const log = open();
    log.append(prediction(0));
    log.close();
    // Another live process holds it (the parent of this one stands in for a running edge serve).
    writeFileSync(`${path}.lock`, `${process.ppid}\n`);
    expect(() => open()).toThrow(`the device log ${path} is in use by process ${process.ppid}`);
    rmSync(`${path}.lock`);
    expect(() => open('kiosk-8')).toThrow(
      `the device log ${path} holds the records of device kiosk-7, not kiosk-8: give each device its own log`,
    );
    // A lock left by a process that is gone is taken over.
    writeFileSync(`${path}.lock`, '999999999\n');
    open().close();
  });

  it('lists only whole lines, for a reader beside a writer', () => {
    const log = open();
    log.append(prediction(0));
    log.close();
    appendFileSync(path, '{"partial"');
    expect([...logLines(path)].map((l) => l.line)).toEqual([1]);
  });
});
