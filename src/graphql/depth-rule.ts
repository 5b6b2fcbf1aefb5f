import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';

/** The introspection fields: their selections are the schema's shape, not the data's. */
const INTROSPECTION = new Set(['__schema', '__type']);

/**
 * The query depth limit, as a validation rule: an operation's deepest field selection, with
 * fragment spreads counted at the depth of their fragment's fields. The selections under
 * `__schema` and `__type` are not counted: the introspection query that graphql-js, GraphQL
 * Code Generator, Postman and the like send nests `ofType` fifteen levels deep to unwrap a
 * type like `[[String!]!]!`, and that nesting follows the schema (it ends where the types
 * do), not the data, so it cannot be made to fan out. Its cost is still counted, and
 * introspection can be kept to authenticated callers.
 */
export function depthLimitRule(maxDepth: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition(operation) {
      const fragments = new Map<string, FragmentDefinitionNode>(
        context
          .getDocument()
          .definitions.flatMap((d) =>
            d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [],
          ),
      );
      const depth = depthOf(operation.selectionSet, {
        fragments,
        known: new Map(),
        visiting: new Set(),
      });
      if (depth > maxDepth)
        context.reportError(
          new GraphQLError(
            `${operation.name?.value ?? 'the'} query's depth (${depth}) exceeds the limit of ${maxDepth}`,
            { nodes: [operation] },
          ),
        );
      return false;
    },
  });
}

interface Walk {
  readonly fragments: ReadonlyMap<string, FragmentDefinitionNode>;
  /** Each fragment's depth, once known: a fragment spread a thousand times is walked once. */
  readonly known: Map<string, number>;
  readonly visiting: Set<string>;
}

/** The depth of a selection set's deepest field; a fragment met again on its own path ends it. */
function depthOf(selections: SelectionSetNode, walk: Walk): number {
  let deepest = 0;
  for (const selection of selections.selections) {
    let depth = 0;
    if (selection.kind === Kind.FIELD) {
      depth =
        1 +
        (selection.selectionSet && !INTROSPECTION.has(selection.name.value)
          ? depthOf(selection.selectionSet, walk)
          : 0);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      depth = depthOf(selection.selectionSet, walk);
    } else {
      const name = selection.name.value;
      const fragment = walk.fragments.get(name);
      const known = walk.known.get(name);
      if (known !== undefined) depth = known;
      // An unknown or cyclic fragment is the validation's to refuse (KnownFragmentNames,
      // NoFragmentCycles); here it adds nothing.
      else if (fragment && !walk.visiting.has(name)) {
        walk.visiting.add(name);
        depth = depthOf(fragment.selectionSet, walk);
        walk.visiting.delete(name);
        walk.known.set(name, depth);
      }
    }
    deepest = Math.max(deepest, depth);
  }
  return deepest;
}
