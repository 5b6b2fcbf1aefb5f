import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DomainError } from '../common/errors.js';
import { parseSubject } from './report-subject.js';

describe('parseSubject', () => {
  it('reads a period in RFC 3339 dates and instants, the end excluded', () => {
    expect(parseSubject('period:2026-01-01/2026-02-01T12:00:00+01:00')).toEqual({
      kind: 'period',
      text: 'period:2026-01-01T00:00:00.000Z/2026-02-01T11:00:00.000Z',
      from: '2026-01-01T00:00:00.000Z',
      to: '2026-02-01T11:00:00.000Z',
    });
  });

  it('refuses periods outside the years 0001 to 9999 (UTC), naming the subject', () => {
    for (const text of [
      'period:0000-01-01T00:00:00Z/9999-12-31T23:59:59Z',
      'period:0001-01-01T00:00:00+01:00/2000-01-01',
      'period:2000-01-01/9999-12-31T23:59:59-01:00',
    ])
      expect(() => parseSubject(text)).toThrow(
        /^subject: the period's (start|end) must fall within/,
      );
    expect(parseSubject('period:0001-01-01/9999-12-31T23:59:59Z').kind).toBe('period');
  });

  it('answers any text with a subject or a client error, never anything else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.string().map((s) => `period:${s}`),
          fc
            .tuple(fc.integer({ min: -1000, max: 12000 }), fc.integer({ min: 0, max: 13 }))
            .map(
              ([y, m]) =>
                `period:${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-01/2000-01-01`,
            ),
        ),
        (text) => {
          try {
            parseSubject(text);
          } catch (error) {
            expect(error).toBeInstanceOf(DomainError);
            expect((error as DomainError).code).toBe('BAD_USER_INPUT');
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
