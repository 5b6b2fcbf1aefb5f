/**
 * Reads the roles out of verified JWT claims by a dotted path (`roles`,
 * `realm_access.roles`, `https://example.com/roles`…). A URL-like claim name is tried whole
 * first, since namespaced claims contain dots themselves.
 */
export function readRolesClaim(claims: Readonly<Record<string, unknown>>, path: string): string[] {
  const value = Object.hasOwn(claims, path) ? claims[path] : walk(claims, path.split('.'));
  if (value === undefined) return [];
  if (typeof value === 'string') return value.split(/[\s,]+/).filter((r) => r.length > 0);
  if (Array.isArray(value)) return value.filter((r): r is string => typeof r === 'string');
  return [];
}

function walk(claims: Readonly<Record<string, unknown>>, parts: readonly string[]): unknown {
  let node: unknown = claims;
  for (const part of parts) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, part)) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}
