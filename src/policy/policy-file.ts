import { createHash } from 'node:crypto';
import { LineCounter, parseDocument, isNode, isScalar } from 'yaml';
import type { z } from 'zod';

/** A policy file that failed to load: names the file, the line and the reason. */
export class PolicyFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly reason: string,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}`}: ${reason}`);
    this.name = 'PolicyFileError';
  }
}

export interface LoadedPolicyFile<T> {
  readonly name: string;
  readonly sha256: string;
  readonly content: string;
  readonly value: T;
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A YAML file validated against a schema, with the line of any path in it. */
export interface ParsedYamlFile<T> {
  readonly value: T;
  /** The line of the node at `path`, or of its nearest parent present in the file. */
  readonly lineOf: (path: readonly (string | number)[]) => number | undefined;
  /**
   * The scalar at `path` as text: a quoted or block scalar's value, a plain one's text as
   * written (`1.10`, `123e4567`, not the numbers YAML reads them as); undefined for a null,
   * a collection or nothing there. For files written by other tools, whose writer quoted only
   * what its own YAML dialect would have read as something else.
   */
  readonly textOf: (path: readonly (string | number)[]) => string | undefined;
}

/**
 * Parses YAML and validates it against a schema. Errors carry the line of the offending node,
 * because the person fixing a file works from the file, not from a JSON path.
 */
export function parseYamlFile<T>(
  name: string,
  content: string,
  schema: z.ZodType<T>,
): ParsedYamlFile<T> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(content, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = lineCounter.linePos(yamlError.pos[0]).line;
    throw new PolicyFileError(name, line, yamlError.message.split('\n')[0] ?? 'invalid YAML');
  }
  const lineOfPath = (path: readonly (string | number)[]) => lineOf(doc, path, lineCounter);
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (error) {
    // An alias to no anchor, or aliases expanding past the parser's limit.
    throw new PolicyFileError(
      name,
      undefined,
      error instanceof Error ? error.message : 'invalid YAML',
    );
  }
  // A schema's record drops a `__proto__` key without a word; the person who wrote it is told.
  const prototypeKey = prototypeKeyPath(value);
  if (prototypeKey)
    throw new PolicyFileError(
      name,
      lineOfPath(prototypeKey),
      `${prototypeKey.join('.')}: is not a usable key (it names the prototype)`,
    );
  const result = schema.safeParse(value);
  if (!result.success) {
    // A misspelt key explains the missing one after it: the misspelling is reported first.
    const issues = result.error.issues;
    const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0];
    const path = (issue?.path ?? []).filter((p): p is string | number => typeof p !== 'symbol');
    const where = path.length > 0 ? `${path.join('.')}: ` : '';
    // A key that does not belong is shown where it is written, not where its parent starts.
    const at = issue?.code === 'unrecognized_keys' ? [...path, ...issue.keys.slice(0, 1)] : path;
    throw new PolicyFileError(name, lineOfPath(at), `${where}${issue?.message ?? 'invalid'}`);
  }
  const textOf = (path: readonly (string | number)[]) => {
    const node: unknown = doc.getIn(path, true);
    if (!isScalar(node) || node.value === null || node.value === undefined) return undefined;
    if (typeof node.value === 'string') return node.value;
    return node.source;
  };
  return { value: result.data, lineOf: lineOfPath, textOf };
}

export function parsePolicyFile<T>(
  name: string,
  content: string,
  schema: z.ZodType<T>,
): LoadedPolicyFile<T> {
  const { value } = parseYamlFile(name, content, schema);
  return { name, sha256: sha256Hex(content), content, value };
}

function lineOf(
  doc: ReturnType<typeof parseDocument>,
  path: readonly (string | number)[],
  lineCounter: LineCounter,
): number | undefined {
  // Walk up until a node exists: a missing key is reported at its parent.
  for (let n = path.length; n >= 0; n--) {
    const node: unknown = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

function prototypeKeyPath(
  value: unknown,
  path: (string | number)[] = [],
): (string | number)[] | null {
  if (typeof value !== 'object' || value === null) return null;
  if (!Array.isArray(value) && Object.hasOwn(value, '__proto__')) return [...path, '__proto__'];
  for (const [key, member] of Object.entries(value)) {
    const found = prototypeKeyPath(member, [...path, Array.isArray(value) ? Number(key) : key]);
    if (found) return found;
  }
  return null;
}
