import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { escaped, findValueFault, numberFault, textFault } from './text-rules.js';

/** The rule as the language states it (String.prototype.isWellFormed, ES2024). */
const wellFormed = (s: string): boolean =>
  (s as unknown as { isWellFormed(): boolean }).isWellFormed();

const codeUnits = fc
  .array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 12 })
  .map((units) => String.fromCharCode(...units));

describe('textFault', () => {
  it('refuses exactly the text with NUL or an unpaired surrogate', () => {
    fc.assert(
      fc.property(codeUnits, (s) => {
        expect(textFault(s) !== undefined).toBe(s.includes('\u0000') || !wellFormed(s));
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts paired surrogates, controls other than NUL and formula starts', () => {
    for (const s of ['😀', 'a\u0001b', '=SUM(A1)', '\t\r\n', '\uffff', ''])
      expect(textFault(s)).toBeUndefined();
  });

  it('names the reason', () => {
    expect(textFault('a\u0000')).toMatch(/NUL/);
    expect(textFault('\ud800x')).toMatch(/unpaired UTF-16 surrogate/);
    expect(textFault('x\udc00')).toMatch(/unpaired/);
  });
});

describe('numberFault', () => {
  it('refuses Infinity and NaN, and nothing finite', () => {
    fc.assert(
      fc.property(fc.double(), (d) => {
        expect(numberFault(d) !== undefined).toBe(!Number.isFinite(d));
      }),
    );
    expect(numberFault(JSON.parse('1e400') as number)).toBe(
      'must be a finite number, got Infinity',
    );
  });
});

describe('findValueFault', () => {
  it('finds a fault exactly when some string or member name breaks the rule', () => {
    const bad = (v: unknown): boolean =>
      typeof v === 'string'
        ? v.includes('\u0000') || !wellFormed(v)
        : Array.isArray(v)
          ? v.some(bad)
          : typeof v === 'object' && v !== null
            ? Object.entries(v).some(([k, m]) => bad(k) || bad(m))
            : false;
    const text = fc.oneof(fc.string(), codeUnits);
    const json = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        text,
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(text, tie('v'), { maxKeys: 4 }),
      ),
    })).v;
    fc.assert(
      fc.property(json, (value) => {
        expect(findValueFault(value, '') !== undefined).toBe(bad(value));
      }),
      { numRuns: 500 },
    );
  });

  it('names the path of a bad value planted anywhere in a value', () => {
    const bad = fc.constantFrom(
      '\u0000',
      'x\ud800',
      '\udfff',
      Number.POSITIVE_INFINITY,
      Number.NaN,
    );
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.nat(3), fc.constantFrom('a', 'b', 'constructor')), { maxLength: 5 }),
        bad,
        (path, value) => {
          let root: unknown = value;
          let expected = '';
          for (const step of [...path].reverse()) {
            if (typeof step === 'number') {
              const list: unknown[] = Array.from({ length: step + 1 }, () => 1);
              list[step] = root;
              root = list;
            } else {
              root = Object.fromEntries([[step, root]]);
            }
          }
          for (const step of path)
            expected =
              typeof step === 'number'
                ? `${expected}[${step}]`
                : expected === ''
                  ? step
                  : `${expected}.${step}`;
          expect(findValueFault(root, '')?.field).toBe(expected);
        },
      ),
    );
  });

  it('checks member names, and names a bad one with escapes', () => {
    expect(findValueFault(JSON.parse('{"a":{"b\\u0000":1}}'), 'body')).toEqual({
      field: 'body.a.b\\u0000',
      reason: 'the member name contains NUL (U+0000), which no text may hold here',
    });
  });

  it('walks a value nested far deeper than the call stack could', () => {
    const depth = 200_000;
    const deep = JSON.parse(`${'['.repeat(depth)}"\\u0000"${']'.repeat(depth)}`) as unknown;
    expect(findValueFault(deep, 'x')?.field).toBe(`x${'[0]'.repeat(depth)}`);
  });
});

describe('escaped', () => {
  it('writes NUL and surrogates as \\u escapes and leaves the rest', () => {
    expect(escaped('a\u0000b\ud800')).toBe('a\\u0000b\\ud800');
    fc.assert(
      fc.property(codeUnits, (s) => {
        expect(textFault(escaped(s))).toBeUndefined();
      }),
    );
  });
});
