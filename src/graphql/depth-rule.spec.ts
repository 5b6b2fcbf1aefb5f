import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { buildSchema, getIntrospectionQuery, parse, specifiedRules, validate } from 'graphql';
import { depthLimitRule } from './depth-rule.js';

const schema = buildSchema(`
  type Node { name: String!, child: Node, children: [Node!]! }
  type Query { root: Node!, hello: String! }
`);

const errorsOf = (query: string, limit: number): string[] =>
  validate(schema, parse(query), [...specifiedRules, depthLimitRule(limit)]).map((e) => e.message);

/** `root { child { … name } }` with `fields` fields in the deepest path. */
function nested(fields: number): string {
  let inner = 'name';
  for (let i = 0; i < fields - 2; i++) inner = `child { ${inner} }`;
  return `{ root { ${inner} } }`;
}

describe('the query depth limit', () => {
  it('refuses a query deeper than the limit, naming its depth', () => {
    expect(errorsOf(nested(4), 4)).toEqual([]);
    expect(errorsOf(nested(5), 4)).toEqual(["the query's depth (5) exceeds the limit of 4"]);
    expect(errorsOf(`query Deep ${nested(6).slice(1, -1).replace(/^ /, '{ ')} }`, 4)).toEqual([
      "Deep query's depth (6) exceeds the limit of 4",
    ]);
  });

  it('counts fragments at the depth of their fields, inline or named', () => {
    const named = `{ root { ...A } } fragment A on Node { child { child { child { name } } } }`;
    expect(errorsOf(named, 4)).toEqual(["the query's depth (5) exceeds the limit of 4"]);
    expect(errorsOf(named, 5)).toEqual([]);
    const inline = `{ root { ... on Node { child { child { child { name } } } } } }`;
    expect(errorsOf(inline, 4)).toEqual(["the query's depth (5) exceeds the limit of 4"]);
  });

  it('lets the standard introspection query through at the default limit', () => {
    expect(errorsOf(getIntrospectionQuery(), 10)).toEqual([]);
    expect(
      errorsOf(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }), 2),
    ).toEqual([]);
    // Only the introspection fields' selections are exempt, not data beside them.
    expect(errorsOf(`{ __schema { types { name } } ${nested(5).slice(1, -1)} }`, 4)).toEqual([
      "the query's depth (5) exceeds the limit of 4",
    ]);
  });

  it('walks a fragment spread many times only once, and survives a cycle', () => {
    const spreads = Array.from({ length: 2000 }, () => '...F').join(' ');
    const wide = `{ root { ${spreads} } } fragment F on Node { child { ${spreads.slice(0, 5000)} name } }`;
    // Validation refuses the self-spread (a cycle); the depth rule must simply end.
    expect(errorsOf(wide, 10).some((m) => /Cannot spread fragment "F" within itself/.test(m))).toBe(
      true,
    );
    const many = `{ root { ${spreads} } } fragment F on Node { child { name } }`;
    expect(errorsOf(many, 3)).toEqual([]);
    expect(errorsOf(many, 2)).toEqual(["the query's depth (3) exceeds the limit of 2"]);
  });

  it('refuses exactly the queries nested beyond the limit (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 30 }),
        fc.integer({ min: 2, max: 30 }),
        (depth, limit) => {
          const errors = errorsOf(nested(depth), limit);
          expect(errors.length > 0).toBe(depth > limit);
        },
      ),
    );
  });
});
