import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { BadInputError } from '../common/errors.js';
import { textFault } from '../common/text-rules.js';
import { checkMetadata, METADATA_KEY } from './registry-rules.js';

function refusal(metadata: Record<string, unknown>): BadInputError {
  try {
    checkMetadata(metadata);
  } catch (error) {
    if (error instanceof BadInputError) return error;
    throw error;
  }
  throw new Error('accepted');
}

describe('checkMetadata', () => {
  it('keeps a flat map of keys to text as given, and none as an empty map', () => {
    const given = {
      'mlflow.run_id': '8c9f0e3b1c2d4e5f8a7b6c5d4e3f2a1b',
      'git.commit': '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
      'pipeline-run_7': '',
      note: 'Zürich 😀',
    };
    expect(checkMetadata(given)).toEqual(given);
    expect(checkMetadata(null)).toEqual({});
    expect(checkMetadata(undefined)).toEqual({});
  });

  it('refuses a key of 65 characters, and takes one of 64', () => {
    expect(refusal({ ['x'.repeat(65)]: 'v' }).field).toBe(`metadata.${'x'.repeat(65)}`);
    expect(checkMetadata({ ['x'.repeat(64)]: 'v' })).toEqual({ ['x'.repeat(64)]: 'v' });
  });

  it('refuses more than 32 keys, naming the map', () => {
    const keys = (n: number) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
    expect(Object.keys(checkMetadata(keys(32)))).toHaveLength(32);
    expect(refusal(keys(33)).field).toBe('metadata');
  });

  it.each([
    ['Git.Commit', 'metadata.Git.Commit'],
    ['1st', 'metadata.1st'],
    ['', 'metadata.'],
    ['with space', 'metadata.with space'],
    ['__proto__', 'metadata.__proto__'],
    ['hasOwnProperty', 'metadata.hasOwnProperty'],
    ['a\u0000b', 'metadata.a\\u0000b'],
  ])('refuses the key %j, naming it', (key, field) => {
    const metadata: Record<string, unknown> = JSON.parse(JSON.stringify({ [key]: 'v' }));
    const error = refusal(metadata);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(/a lowercase letter/);
  });

  it('refuses a __proto__ key however it was built, leaving the prototype alone', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": "yes"}}') as Record<string, unknown>;
    expect(refusal(parsed).field).toBe('metadata.__proto__');
    const bare = Object.create(null) as Record<string, unknown>;
    bare['__proto__'] = 'x';
    expect(refusal(bare).field).toBe('metadata.__proto__');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('stores constructor as an ordinary key with its own text', () => {
    const kept = checkMetadata({ constructor: 'built by hand' });
    expect(Object.hasOwn(kept, 'constructor')).toBe(true);
    expect(kept['constructor']).toBe('built by hand');
  });

  it.each([
    ['a number', 7, /must be a string, not a number/],
    ['a boolean', true, /not a boolean/],
    ['null', null, /not null/],
    ['a list', ['a'], /not a list/],
    ['an object', { a: 'b' }, /not an object/],
    ['of 2049 characters', 'x'.repeat(2049), /at most 2048 characters/],
    ['with NUL', 'a\u0000b', /NUL/],
    ['with an unpaired surrogate', 'lone \ud800', /unpaired UTF-16 surrogate/],
  ])('refuses a value (%s), naming its key', (_, value, reason) => {
    const error = refusal({ 'git.commit': value });
    expect(error.field).toBe('metadata.git.commit');
    expect(error.message).toMatch(reason);
  });

  it('accepts exactly the keys the pattern allows and text of at most 2048 characters', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ maxLength: 70 }),
          fc.string({ unit: 'binary', maxLength: 2100 }),
          {
            maxKeys: 4,
          },
        ),
        (metadata) => {
          const ok = Object.entries(metadata).every(
            ([k, v]) => METADATA_KEY.test(k) && v.length <= 2048 && textFault(v) === undefined,
          );
          if (ok) expect(checkMetadata(metadata)).toEqual(metadata);
          else expect(refusal(metadata).field).toMatch(/^metadata\./);
        },
      ),
      { numRuns: 500 },
    );
  });
});
