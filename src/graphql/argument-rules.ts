import { Kind, type DocumentNode, type ValueNode } from 'graphql';
import { escaped, findValueFault, textFault, type ValueFault } from '../common/text-rules.js';

/**
 * The first argument of a GraphQL request that breaks the text rule (src/common/text-rules.ts),
 * in the document's literals or in its variables, named by its path (`input.justification`,
 * `subject`); undefined when every argument is acceptable. One check before execution covers
 * every operation and every field, so no resolver, entity or ledger payload ever holds such
 * text. (GraphQL's own Float already refuses a non-finite number; the variables are checked for
 * one all the same, since custom scalars need not.)
 */
export function findArgumentFault(
  document: DocumentNode,
  variables: Readonly<Record<string, unknown>> | undefined | null,
): ValueFault | undefined {
  for (const [name, value] of Object.entries(variables ?? {})) {
    const fault = findValueFault(value, name);
    if (fault) return fault;
  }
  const stack: { readonly node: ValueNode; readonly path: string }[] = [];
  for (const definition of document.definitions) {
    if (
      definition.kind !== Kind.OPERATION_DEFINITION &&
      definition.kind !== Kind.FRAGMENT_DEFINITION
    )
      continue;
    collectArguments(definition.selectionSet.selections, stack);
  }
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const { node, path } = top;
    if (node.kind === Kind.STRING || node.kind === Kind.ENUM) {
      const reason = textFault(node.value);
      if (reason) return { field: path, reason };
    } else if (node.kind === Kind.LIST) {
      node.values.forEach((v, i) => stack.push({ node: v, path: `${path}[${i}]` }));
    } else if (node.kind === Kind.OBJECT) {
      for (const f of node.fields) stack.push({ node: f.value, path: `${path}.${f.name.value}` });
    }
  }
  return undefined;
}

type Selections = Extract<
  DocumentNode['definitions'][number],
  { kind: Kind.OPERATION_DEFINITION }
>['selectionSet']['selections'];

/** Every argument value in a selection set and the sets nested in it, iteratively. */
function collectArguments(selections: Selections, into: { node: ValueNode; path: string }[]): void {
  const pending: Selections[] = [selections];
  for (let set = pending.pop(); set !== undefined; set = pending.pop()) {
    for (const selection of set) {
      if (selection.kind === Kind.FIELD)
        for (const argument of selection.arguments ?? [])
          into.push({ node: argument.value, path: argument.name.value });
      if (selection.kind !== Kind.FRAGMENT_SPREAD && selection.selectionSet)
        pending.push(selection.selectionSet.selections);
    }
  }
}

/** The message a client is given for a fault: the field first, as every BadInputError says it. */
export function faultMessage(fault: ValueFault): string {
  return `${escaped(fault.field)}: ${fault.reason}`;
}
