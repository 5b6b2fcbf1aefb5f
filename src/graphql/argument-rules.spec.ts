import { describe, expect, it } from '@jest/globals';
import { parse } from 'graphql';
import { findArgumentFault } from './argument-rules.js';

describe('findArgumentFault', () => {
  it('names a bad string in the variables by its path', () => {
    const document = parse('mutation($input: X!) { f(input: $input) { id } }');
    expect(
      findArgumentFault(document, {
        input: { card: { owner: 'a\u0000', tags: ['ok', '\ud800'] } },
      }),
    ).toEqual({
      field: 'input.card.owner',
      reason: 'contains NUL (U+0000), which no text may hold here',
    });
    expect(findArgumentFault(document, { input: { tags: ['ok', 'x\ud800'] } })?.field).toBe(
      'input.tags[1]',
    );
  });

  it('names a bad literal by argument path, in nested fields, fragments and lists', () => {
    const cases: [string, string][] = [
      ['{ f(a: "x\\u0000") { id } }', 'a'],
      ['{ f(a: { b: { c: "\\u0000" } }) { id } }', 'a.b.c'],
      ['{ f { g(list: ["ok", "\\u0000"]) { id } } }', 'list[1]'],
      ['query { ...F } fragment F on Query { f(a: "\\u0000") { id } }', 'a'],
      ['{ ... on Query { f(a: "\\u0000") { id } } }', 'a'],
    ];
    for (const [source, field] of cases)
      expect({ source, field: findArgumentFault(parse(source), {})?.field }).toEqual({
        source,
        field,
      });
  });

  it('finds nothing in clean documents and variables, and a non-finite number in variables', () => {
    expect(
      findArgumentFault(parse('{ f(a: "😀 =1", b: 1.5) { id } }'), { v: 'x' }),
    ).toBeUndefined();
    expect(findArgumentFault(parse('{ f { id } }'), undefined)).toBeUndefined();
    expect(findArgumentFault(parse('{ f { id } }'), { n: Number.POSITIVE_INFINITY })?.field).toBe(
      'n',
    );
  });
});
