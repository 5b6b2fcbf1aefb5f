import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  CanonicalizationError,
  canonicalBytes,
  canonicalize,
  isInCanonicalOrder,
} from './canonical-json.js';

/** The IEEE-754 double whose bits are the given 16 hex digits (big-endian). */
function fromBits(hex: string): number {
  return Buffer.from(hex.padStart(16, '0'), 'hex').readDoubleBE(0);
}

/** The bits of a double as lowercase hex without leading zeros (the es6testfile format). */
function bitsOf(value: number): string {
  const buffer = Buffer.alloc(8);
  buffer.writeDoubleBE(value, 0);
  return buffer.readBigUInt64BE(0).toString(16);
}

describe('canonicalize: RFC 8785 test vectors', () => {
  // Data from the RFC 8785 reference test suite, cyberphone/json-canonicalization
  // testdata/input/*.json (input text) and testdata/outhex/*.txt (expected UTF-8 bytes).
  const vectors: [string, string, string][] = [
    [
      'arrays',
      '[\n  56,\n  {\n    "d": true,\n    "10": null,\n    "1": [ ]\n  }\n]\n',
      '5b35362c7b2231223a5b5d2c223130223a6e756c6c2c2264223a747275657d5d',
    ],
    [
      'french',
      '{\n  "peach": "This sorting order",\n  "péché": "is wrong according to French",\n  "pêche": "but canonicalization MUST",\n  "sin":   "ignore locale"\n}\n',
      '7b227065616368223a225468697320736f7274696e67206f72646572222c2270c3a96368c3a9223a2269732077726f6e67206163636f7264696e6720746f204672656e6368222c2270c3aa636865223a226275742063616e6f6e6963616c697a6174696f6e204d555354222c2273696e223a2269676e6f7265206c6f63616c65227d',
    ],
    [
      'structures',
      '{\n  "1": {"f": {"f": "hi","F": 5} ,"\\n": 56.0},\n  "10": { },\n  "": "empty",\n  "a": { },\n  "111": [ {"e": "yes","E": "no" } ],\n  "A": { }\n}',
      '7b22223a22656d707479222c2231223a7b225c6e223a35362c2266223a7b2246223a352c2266223a226869227d7d2c223130223a7b7d2c22313131223a5b7b2245223a226e6f222c2265223a22796573227d5d2c2241223a7b7d2c2261223a7b7d7d',
    ],
    [
      'unicode',
      '{\n  "Unnormalized Unicode":"A\\u030a"\n}\n',
      '7b22556e6e6f726d616c697a656420556e69636f6465223a2241cc8a227d',
    ],
    [
      'values',
      '{\n  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],\n  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}',
      '7b226c69746572616c73223a5b6e756c6c2c747275652c66616c73655d2c226e756d62657273223a5b3333333333333333332e333333333333332c31652b33302c342e352c302e3030322c31652d32375d2c22737472696e67223a22e282ac245c75303030665c6e4127425c225c5c5c5c5c222f227d',
    ],
    [
      'weird',
      '{\n  "\\u20ac": "Euro Sign",\n  "\\r": "Carriage Return",\n  "\\u000a": "Newline",\n  "1": "One",\n  "\\u0080": "Control\\u007f",\n  "\\ud83d\\ude02": "Smiley",\n  "\\u00f6": "Latin Small Letter O With Diaeresis",\n  "\\ufb33": "Hebrew Letter Dalet With Dagesh",\n  "</script>": "Browser Challenge"\n}\n',
      '7b225c6e223a224e65776c696e65222c225c72223a2243617272696167652052657475726e222c2231223a224f6e65222c223c2f7363726970743e223a2242726f77736572204368616c6c656e6765222c22c280223a22436f6e74726f6c7f222c22c3b6223a224c6174696e20536d616c6c204c6574746572204f205769746820446961657265736973222c22e282ac223a224575726f205369676e222c22f09f9882223a22536d696c6579222c22efacb3223a22486562726577204c65747465722044616c6574205769746820446167657368227d',
    ],
  ];
  it.each(vectors)('%s', (_name, input, expectedHex) => {
    expect(Buffer.from(canonicalBytes(JSON.parse(input))).toString('hex')).toBe(expectedHex);
  });
});

describe('canonicalize: RFC 8785 Appendix B number serialization', () => {
  // IEEE-754 bit patterns and expected output from RFC 8785 Appendix B.
  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('%s → %s', (bits, expected) => {
    expect(canonicalize(fromBits(bits))).toBe(expected);
    expect(canonicalize([fromBits(bits)])).toBe(`[${expected}]`);
  });

  it.each([['7fffffffffffffff'], ['7ff0000000000000'], ['fff0000000000000']])(
    'refuses %s (NaN / ±Infinity)',
    (bits) => {
      expect(() => canonicalize(fromBits(bits))).toThrow(CanonicalizationError);
    },
  );

  it('matches the published checksum of the first 100,000 es6testfile lines', () => {
    // cyberphone/json-canonicalization testdata/README.md: the ES6 number test file is a
    // deterministic sequence of doubles (a fixed list, then 2,000 consecutive bit patterns
    // from 0x0010000000000000, then doubles read from a SHA-256 chain over a 32-byte zero
    // block, skipping zero and non-finite ones), one "hex-bits,expected\n" line each. The
    // README publishes the SHA-256 of the first 100,000 lines.
    const hash = createHash('sha256');
    let lines = 0;
    for (const value of es6TestValues()) {
      hash.update(`${bitsOf(value)},${canonicalize(value)}\n`);
      if (++lines === 100_000) break;
    }
    expect(hash.digest('hex')).toBe(
      '22776e6d4b49fa294a0d0f349268e5c28808fe7e0cb2bcbe28f63894e494d4c7',
    );
  });
});

// The fixed start of the es6testfile sequence (cyberphone/json-canonicalization
// testdata/README.md), as IEEE-754 bit patterns.
const ES6_STATIC_BITS = [
  '0000000000000000',
  '8000000000000000',
  '0000000000000001',
  '8000000000000001',
  'c46696695dbd1cc3',
  'c43211ede4974a35',
  'c3fce97ca0f21056',
  'c3c7213080c1a6ac',
  'c39280f39a348556',
  'c35d9b1f5d20d557',
  'c327af4c4a80aaac',
  'c2f2f2a36ecd5556',
  'c2be51057e155558',
  'c28840d131aaaaac',
  'c253670dc1555557',
  'c21f0b4935555557',
  'c1e8d5d42aaaaaac',
  'c1b3de4355555556',
  'c17fca0555555556',
  'c1496e6aaaaaaaab',
  'c114585555555555',
  'c0e046aaaaaaaaab',
  'c0aa0aaaaaaaaaaa',
  'c074d55555555555',
  'c040aaaaaaaaaaab',
  'c00aaaaaaaaaaaab',
  'bfd5555555555555',
  'bfa1111111111111',
  'bf6b4e81b4e81b4f',
  'bf35d867c3ece2a5',
  'bf0179ec9cbd821e',
  'becbf647612f3696',
  'be965e9f80f29212',
  'be61e54c672874db',
  'be2ca213d840baf8',
  'bdf6e80fe033c8c6',
  'bdc2533fe68fd3d2',
  'bd8d51ffd74c861c',
  'bd5774ccac3d3817',
  'bd22c3d6f030f9ac',
  'bcee0624b3818f79',
  'bcb804ea293472c7',
  'bc833721ba905bd3',
  'bc4ebe9c5db3c61e',
  'bc18987d17c304e5',
  'bbe3ad30dfcf371d',
  'bbaf7b816618582f',
  'bb792f9ab81379bf',
  'bb442615600f9499',
  'bb101e77800c76e1',
  'bad9ca58cce0be35',
  'baa4a1e0a3e6fe90',
  'ba708180831f320d',
  'ba3a68cd9e985016',
  '446696695dbd1cc3',
  '443211ede4974a35',
  '43fce97ca0f21056',
  '43c7213080c1a6ac',
  '439280f39a348556',
  '435d9b1f5d20d557',
  '4327af4c4a80aaac',
  '42f2f2a36ecd5556',
  '42be51057e155558',
  '428840d131aaaaac',
  '4253670dc1555557',
  '421f0b4935555557',
  '41e8d5d42aaaaaac',
  '41b3de4355555556',
  '417fca0555555556',
  '41496e6aaaaaaaab',
  '4114585555555555',
  '40e046aaaaaaaaab',
  '40aa0aaaaaaaaaaa',
  '4074d55555555555',
  '4040aaaaaaaaaaab',
  '400aaaaaaaaaaaab',
  '3fd5555555555555',
  '3fa1111111111111',
  '3f6b4e81b4e81b4f',
  '3f35d867c3ece2a5',
  '3f0179ec9cbd821e',
  '3ecbf647612f3696',
  '3e965e9f80f29212',
  '3e61e54c672874db',
  '3e2ca213d840baf8',
  '3df6e80fe033c8c6',
  '3dc2533fe68fd3d2',
  '3d8d51ffd74c861c',
  '3d5774ccac3d3817',
  '3d22c3d6f030f9ac',
  '3cee0624b3818f79',
  '3cb804ea293472c7',
  '3c833721ba905bd3',
  '3c4ebe9c5db3c61e',
  '3c18987d17c304e5',
  '3be3ad30dfcf371d',
  '3baf7b816618582f',
  '3b792f9ab81379bf',
  '3b442615600f9499',
  '3b101e77800c76e1',
  '3ad9ca58cce0be35',
  '3aa4a1e0a3e6fe90',
  '3a708180831f320d',
  '3a3a68cd9e985016',
  '4024000000000000',
  '4014000000000000',
  '3fe0000000000000',
  '3fa999999999999a',
  '3f747ae147ae147b',
  '3f40624dd2f1a9fc',
  '3f0a36e2eb1c432d',
  '3ed4f8b588e368f1',
  '3ea0c6f7a0b5ed8d',
  '3e6ad7f29abcaf48',
  '3e35798ee2308c3a',
  '3ed539223589fa95',
  '3ed4ff26cd5a7781',
  '3ed4f95a762283ff',
  '3ed4f8c60703520c',
  '3ed4f8b72f19cd0d',
  '3ed4f8b5b31c0c8d',
  '3ed4f8b58d1c461a',
  '3ed4f8b5894f7f0e',
  '3ed4f8b588ee37f3',
  '3ed4f8b588e47da4',
  '3ed4f8b588e3849c',
  '3ed4f8b588e36bb5',
  '3ed4f8b588e36937',
  '3ed4f8b588e368f8',
  '3ed4f8b588e368f1',
  '3ff0000000000000',
  'bff0000000000000',
  'bfeffffffffffffa',
  'bfeffffffffffffb',
  '3feffffffffffffa',
  '3feffffffffffffb',
  '3feffffffffffffc',
  '3feffffffffffffe',
  'bfefffffffffffff',
  'bfefffffffffffff',
  '3fefffffffffffff',
  '3fefffffffffffff',
  '3fd3333333333332',
  '3fd3333333333333',
  '3fd3333333333334',
  '0010000000000000',
  '000ffffffffffffd',
  '000fffffffffffff',
  '7fefffffffffffff',
  'ffefffffffffffff',
  '4340000000000000',
  'c340000000000000',
  '4430000000000000',
  '44b52d02c7e14af5',
  '44b52d02c7e14af6',
  '44b52d02c7e14af7',
  '444b1ae4d6e2ef4e',
  '444b1ae4d6e2ef4f',
  '444b1ae4d6e2ef50',
  '3eb0c6f7a0b5ed8c',
  '3eb0c6f7a0b5ed8d',
  '41b3de4355555553',
  '41b3de4355555554',
  '41b3de4355555555',
  '41b3de4355555556',
  '41b3de4355555557',
  'becbf647612f3696',
  '43143ff3c1cb0959',
];

function* es6TestValues(): Generator<number> {
  for (const bits of ES6_STATIC_BITS) yield fromBits(bits);
  for (let i = 0n; i < 2000n; i++) yield fromBits((0x0010000000000000n + i).toString(16));
  let block = Buffer.alloc(32);
  for (;;) {
    block = createHash('sha256').update(block).digest();
    for (let offset = 0; offset < 32; offset += 8) {
      const value = block.readDoubleLE(offset);
      if (value !== 0 && Number.isFinite(value)) yield value;
    }
  }
}

describe('canonicalize: member ordering (RFC 8785 §3.2.3, UTF-16 code units)', () => {
  it('sorts by UTF-16 code units, not code points or locale', () => {
    // U+20AC (0x20ac) sorts before U+1F600, whose first code unit is 0xd83d, and
    // U+FB33 (0xfb33) sorts after it although its code point is smaller.
    const value = {
      '\ufb33': 6,
      '\ud83d\ude00': 5,
      '\u20ac': 4,
      a: 3,
      '10': 2,
      '1': 1,
      '\r': 0,
      '\u00f6': 7,
    };
    expect(canonicalize(value)).toBe(
      '{"\\r":0,"1":1,"10":2,"a":3,"\u00f6":7,"\u20ac":4,"\ud83d\ude00":5,"\ufb33":6}',
    );
  });

  it('sorts nested objects independently and keeps array order', () => {
    const value = { b: [{ z: 1, y: { d: null, c: true } }, 3, 'x'], a: { '': 0, A: 1, a: 2 } };
    expect(canonicalize(value)).toBe(
      '{"a":{"":0,"A":1,"a":2},"b":[{"y":{"c":true,"d":null},"z":1},3,"x"]}',
    );
  });

  it('is independent of insertion order', () => {
    const keys = ['\ud83d\ude00', '\u20ac', '10', '1', 'a', '\r', 'B', '_'];
    const forward = Object.fromEntries(keys.map((k, i) => [k, i]));
    const backward = Object.fromEntries([...keys].reverse().map((k) => [k, forward[k]]));
    expect(canonicalize(backward)).toBe(canonicalize(forward));
  });

  it('accepts objects without a prototype', () => {
    const value = Object.create(null) as Record<string, unknown>;
    value['b'] = 1;
    value['a'] = 2;
    expect(canonicalize(value)).toBe('{"a":2,"b":1}');
  });
});

describe('canonicalize: strings and literals', () => {
  it('escapes exactly as JSON.stringify', () => {
    const text = '\u0000\u0001\u001f "\\/\b\f\n\r\t\u007f\u2028\u2029é\ud83d\ude00';
    expect(canonicalize(text)).toBe(JSON.stringify(text));
    expect(canonicalize(text)).toBe(
      '"\\u0000\\u0001\\u001f \\"\\\\/\\b\\f\\n\\r\\t\u007f\u2028\u2029é\ud83d\ude00"',
    );
  });

  it('writes literals, empty containers and UTF-8 bytes', () => {
    expect(canonicalize([null, true, false, {}, [], ''])).toBe('[null,true,false,{},[],""]');
    expect(Buffer.from(canonicalBytes({ '€': 'é' })).toString('hex')).toBe(
      '7b22e282ac223a22c3a9227d',
    );
  });

  it('writes -0 as 0 and integers without exponent below 1e21', () => {
    expect(canonicalize({ a: -0, b: 1e20, c: 1e21, d: 0.1 + 0.2 })).toBe(
      '{"a":0,"b":100000000000000000000,"c":1e+21,"d":0.30000000000000004}',
    );
  });
});

describe('canonicalize: refusals name the JSON path', () => {
  class Point {
    x = 1;
  }
  it.each<[string, unknown, string]>([
    ['NaN', { a: [1, NaN] }, '$.a[1]'],
    ['Infinity', { a: { b: Infinity } }, '$.a.b'],
    ['-Infinity', [-Infinity], '$[0]'],
    ['undefined member', { a: 1, b: undefined }, '$.b'],
    ['undefined at the top', undefined, '$'],
    ['function', { f: () => 1 }, '$.f'],
    ['symbol', { 'x-y': Symbol('s') }, '$["x-y"]'],
    ['bigint', { n: 1n }, '$.n'],
    ['Date', { when: new Date(0) }, '$.when'],
    ['Map', [new Map()], '$[0]'],
    ['class instance', { p: new Point() }, '$.p'],
    ['Buffer', { b: Buffer.from('x') }, '$.b'],
    ['array hole', { a: [1, , 3] }, '$.a[1]'],
    ['lone high surrogate', { s: 'a\ud800' }, '$.s'],
    ['lone low surrogate in a key', { ['\udc00']: 1 }, '$["\\udc00"]'],
    ['deep', { a: [{ b: [0, { c: NaN }] }] }, '$.a[0].b[1].c'],
  ])('%s', (_name, value, path) => {
    let caught: unknown;
    try {
      canonicalize(value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CanonicalizationError);
    expect(caught).toBeInstanceOf(TypeError);
    expect((caught as CanonicalizationError).path).toBe(path);
    expect((caught as CanonicalizationError).message).toContain(path);
  });
});

describe('native fast path', () => {
  /** A deterministic pseudo-random JSON value (xorshift), with awkward keys and strings. */
  function randomValue(seed: number): unknown {
    let state = seed || 1;
    const next = (): number => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 2 ** 32;
    };
    const pieces = ['a', 'B', '1', '10', '\u20ac', '\ud83d\ude00', '\ufb33', '\r', '"', '\\', 'é'];
    const text = (): string =>
      Array.from({ length: Math.floor(next() * 4) }, () => pieces[Math.floor(next() * 11)]).join(
        '',
      );
    const build = (depth: number): unknown => {
      const kind = Math.floor(next() * (depth > 3 ? 4 : 6));
      if (kind === 0) return text();
      if (kind === 1) return (next() - 0.5) * 10 ** Math.floor(next() * 40 - 20);
      if (kind === 2) return next() < 0.5;
      if (kind === 3) return null;
      if (kind === 4) return Array.from({ length: Math.floor(next() * 4) }, () => build(depth + 1));
      const obj: Record<string, unknown> = {};
      for (let i = Math.floor(next() * 5); i > 0; i--) obj[text()] = build(depth + 1);
      return obj;
    };
    return build(0);
  }

  it('gives the same text for any key order, on both paths', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const value = randomValue(seed);
      const canonical = canonicalize(value);
      const reparsed: unknown = JSON.parse(canonical);
      expect(isInCanonicalOrder(reparsed)).toBe(true);
      expect(canonicalize(reparsed)).toBe(canonical);
      expect(JSON.stringify(reparsed)).toBe(canonical);
    }
  });

  it('tells whether JSON.stringify already is canonical', () => {
    expect(isInCanonicalOrder({ a: 1, b: [{ c: 2, d: 3 }] })).toBe(true);
    expect(isInCanonicalOrder({ b: 1, a: 2 })).toBe(false);
    expect(isInCanonicalOrder([{ d: 1, c: 2 }])).toBe(false);
    // Integer-like keys come first in property order but sort as strings: "10" < "9".
    expect(isInCanonicalOrder({ '9': 1, '10': 2 })).toBe(false);
    expect(canonicalize({ '9': 1, '10': 2 })).toBe('{"10":2,"9":1}');
    expect(isInCanonicalOrder('x')).toBe(true);
  });

  it('checks values on the fast path too, with paths from the given root', () => {
    expect(() => isInCanonicalOrder({ a: { b: NaN } }, '$.payload')).toThrow('$.payload.a.b');
    expect(() => isInCanonicalOrder({ a: [1, undefined] })).toThrow('$.a[1]');
    expect(() => canonicalize({ a: 1, b: { c: 'x\udc00' } })).toThrow('$.b.c');
  });

  it('ignores symbol-keyed properties on both paths, as JSON.stringify does', () => {
    const ordered = { a: 1, [Symbol('s')]: 2 };
    const unordered = { b: 1, a: 2, [Symbol('s')]: 3 };
    expect(canonicalize(ordered)).toBe('{"a":1}');
    expect(canonicalize(unordered)).toBe('{"a":2,"b":1}');
  });
});
