import { setImmediate as nextTurn } from 'node:timers/promises';

/**
 * A field in PostgreSQL's COPY … FROM STDIN text format: NULL as `\N`, and backslash, tab,
 * newline and carriage return escaped (fields are separated by tabs, rows by newlines). COPY
 * is the cheapest way into a table, for the client and the server alike.
 */

const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '\t': '\\t',
  '\n': '\\n',
  '\r': '\\r',
};

export function copyField(value: string | number | null): string {
  if (value === null) return '\\N';
  const text = typeof value === 'number' ? String(value) : value;
  return SPECIAL.test(text) ? text.replace(SPECIALS, (c) => ESCAPES[c] ?? c) : text;
}

/**
 * A COPY field of JSON text (JSON.stringify's output): JSON escapes every control character,
 * so of COPY's special characters only the backslash can occur in it.
 */
export function jsonCopyField(json: string): string {
  return json.includes('\\') ? json.replaceAll('\\', '\\\\') : json;
}

/**
 * What one write to PostgreSQL's socket carries at most. Under load on the 2-core benchmark
 * machine the profile found the event loop inside a single 128 KB write for 4–6 ms, though such
 * a write alone takes 20–90 µs (the thread was off its core inside it), and every request
 * waiting meanwhile paid it in latency. Smaller writes with a turn of the event loop between
 * them halved the longest of those holds.
 */
export const COPY_WRITE_BYTES = 16 * 1024;

/** The chunks cut into slices of at most COPY_WRITE_BYTES, each after a turn of the loop. */
export async function* turnBySlice(chunks: Iterable<Buffer>): AsyncGenerator<Buffer> {
  for (const chunk of chunks)
    for (let at = 0; at < chunk.length; at += COPY_WRITE_BYTES) {
      await nextTurn();
      yield chunk.subarray(at, at + COPY_WRITE_BYTES);
    }
}
