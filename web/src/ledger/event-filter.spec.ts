import { describe, expect, it } from '@jest/globals';
import { exportFileName, exportLine } from './event-export.js';
import {
  describeFilter,
  filterVariables,
  instantOf,
  NO_FILTER,
  readFilter,
} from './event-filter.js';

describe('instantOf', () => {
  it('reads RFC 3339 instants with their offset, and dates as midnight UTC', () => {
    expect(instantOf('2026-12-01')).toBe('2026-12-01T00:00:00.000Z');
    expect(instantOf('2026-12-01T09:30:00Z')).toBe('2026-12-01T09:30:00.000Z');
    expect(instantOf('2026-12-01T09:30:00.123Z')).toBe('2026-12-01T09:30:00.123Z');
    expect(instantOf('2026-12-01T01:30:00+02:00')).toBe('2026-11-30T23:30:00.000Z');
    expect(instantOf('2026-12-01 09:30Z')).toBe('2026-12-01T09:30:00.000Z');
  });

  it('refuses what is no instant: words, local times without an offset, days that do not exist', () => {
    for (const text of [
      'yesterday',
      '2026-12-01T09:30',
      '2026-02-30',
      '2026-13-01',
      '12/01/2026',
    ]) {
      expect(instantOf(text)).toBeNull();
    }
  });
});

describe('readFilter', () => {
  it('trims, normalises the window and leaves empty fields as no filter', () => {
    const read = readFilter({ ...NO_FILTER, actor: ' bob ', from: '2026-12-01', to: '' });
    expect(read).toEqual({
      ok: true,
      filter: { ...NO_FILTER, actor: 'bob', from: '2026-12-01T00:00:00.000Z' },
    });
    expect(read.ok && filterVariables(read.filter)).toEqual({
      actor: 'bob',
      from: '2026-12-01T00:00:00.000Z',
    });
  });

  it('names the field of a bad date, and refuses a window that ends before it starts', () => {
    expect(readFilter({ ...NO_FILTER, to: 'soon' })).toMatchObject({ ok: false, field: 'to' });
    expect(readFilter({ ...NO_FILTER, from: '2026-12-02', to: '2026-12-01' })).toMatchObject({
      ok: false,
      field: 'from',
      reason: 'From must be before To (2026-12-02T00:00:00.000Z is not).',
    });
  });
});

describe('describeFilter and the export', () => {
  it('says the filter in words and names the file after it', () => {
    const filter = { ...NO_FILTER, type: 'promotion.approved', actor: 'carol' };
    expect(describeFilter(NO_FILTER)).toBe('');
    expect(describeFilter(filter)).toBe('of type “promotion.approved”, by “carol”');
    expect(exportFileName(filter)).toBe('ledger-events-type-promotion.approved-actor-carol.jsonl');
    expect(exportFileName({ ...NO_FILTER, subject: 'promotion:a/b c' })).toBe(
      'ledger-events-subject-promotion_a_b_c.jsonl',
    );
  });

  it('writes the canonical text byte for byte into a line of the service export', () => {
    const canonical = '{"payload":{"note":"ünïcödé €"},"seq":3}';
    const line = exportLine({ canonical, hash: 'ab'.repeat(32), jws: 'h..s' });
    expect(line).toBe(`{"event":${canonical},"hash":"${'ab'.repeat(32)}","jws":"h..s"}\n`);
    expect(JSON.parse(line)).toEqual({
      event: JSON.parse(canonical),
      hash: 'ab'.repeat(32),
      jws: 'h..s',
    });
  });
});
