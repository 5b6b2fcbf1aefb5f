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

const UNESCAPES: Readonly<Record<string, string>> = { '\\': '\\', t: '\t', n: '\n', r: '\r' };

/**
 * The fields of one COPY row (without its newline) as `copyField` and `jsonCopyField` wrote
 * them: the inverse of both, `\N` back to null.
 */
export function parseCopyRow(row: string): (string | null)[] {
  return row
    .split('\t')
    .map((field) =>
      field === '\\N' ? null : field.replace(/\\(.)/g, (_, c: string) => UNESCAPES[c] ?? c),
    );
}

/**
 * A COPY field of JSON text (JSON.stringify's output): JSON escapes every control character,
 * so of COPY's special characters only the backslash can occur in it.
 */
export function jsonCopyField(json: string): string {
  return json.includes('\\') ? json.replaceAll('\\', '\\\\') : json;
}
