import { createHash } from 'node:crypto';
import { LineCounter, parseDocument, isNode } from 'yaml';
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

/**
 * Parses YAML and validates it against a schema. Errors carry the line of the offending node,
 * because the person fixing a policy file works from the file, not from a JSON path.
 */
export function parsePolicyFile<T>(
  name: string,
  content: string,
  schema: z.ZodType<T>,
): LoadedPolicyFile<T> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(content, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const line = lineCounter.linePos(yamlError.pos[0]).line;
    throw new PolicyFileError(name, line, yamlError.message.split('\n')[0] ?? 'invalid YAML');
  }
  const result = schema.safeParse(doc.toJS());
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = (issue?.path ?? []).filter((p): p is string | number => typeof p !== 'symbol');
    const line = lineOf(doc, path, lineCounter);
    const where = path.length > 0 ? `${path.join('.')}: ` : '';
    throw new PolicyFileError(name, line, `${where}${issue?.message ?? 'invalid'}`);
  }
  return { name, sha256: sha256Hex(content), content, value: result.data };
}

function lineOf(
  doc: ReturnType<typeof parseDocument>,
  path: (string | number)[],
  lineCounter: LineCounter,
): number | undefined {
  // Walk up until a node exists: a missing key is reported at its parent.
  for (let n = path.length; n >= 0; n--) {
    const node: unknown = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}
