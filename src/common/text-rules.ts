/**
 * The one rule for text and numbers that arrive from outside, applied at every entry point
 * (GraphQL arguments, the inference body, token claims, uploaded CSV, REST bodies):
 *
 * - no NUL (U+0000): PostgreSQL can hold it neither in `text` nor in `jsonb`, and C-based tools
 *   an auditor uses on an export (grep, spreadsheets) cut a string there;
 * - no unpaired UTF-16 surrogate: it is not Unicode text, cannot be encoded as UTF-8, and
 *   `jsonb` refuses its `\uD800` escape, so one such value would fail a whole batched write;
 * - no number that is not finite: JSON has none, but a literal such as `1e400` parses to
 *   Infinity, which no metric, threshold or model input may be.
 *
 * Pure functions: each entry point calls them and answers with its own client error.
 */

/** A lone high surrogate (no low one after it) or a lone low one (no high one before it). */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `text` cannot be accepted, or undefined when it can. */
export function textFault(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains NUL (U+0000), which no text may hold here';
  if (UNPAIRED_SURROGATE.test(text))
    return 'contains an unpaired UTF-16 surrogate, which is not Unicode text';
  return undefined;
}

/** Why `value` cannot be accepted as a number, or undefined when it can. */
export function numberFault(value: number): string | undefined {
  return Number.isFinite(value) ? undefined : `must be a finite number, got ${String(value)}`;
}

export interface ValueFault {
  /** Where the bad value sits, as a path from the given root: `input.modelCard.owner`, `inputs[0].data[3]`. */
  readonly field: string;
  readonly reason: string;
}

/**
 * The first string (member names included) or number in a parsed JSON value that breaks the
 * rule, with its path; undefined when there is none. Walks with an explicit stack, so a deeply
 * nested value cannot overflow the call stack.
 */
export function findValueFault(value: unknown, root: string): ValueFault | undefined {
  const stack: { readonly value: unknown; readonly path: string }[] = [{ value, path: root }];
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const v = top.value;
    if (typeof v === 'string') {
      const reason = textFault(v);
      if (reason) return { field: top.path, reason };
    } else if (typeof v === 'number') {
      const reason = numberFault(v);
      if (reason) return { field: top.path, reason };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--)
        stack.push({ value: v[i] as unknown, path: `${top.path}[${i}]` });
    } else if (typeof v === 'object' && v !== null) {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const key = keys[i] as string;
        const reason = textFault(key);
        if (reason)
          return { field: join(top.path, escaped(key)), reason: `the member name ${reason}` };
        const path = join(top.path, key);
        stack.push({ value: (v as Record<string, unknown>)[key], path });
      }
    }
  }
  return undefined;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** A text with NUL and surrogates written as `\u` escapes, to name a bad value in an error. */
export function escaped(text: string): string {
  return text.replace(
    /[\u0000\uD800-\uDFFF]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
