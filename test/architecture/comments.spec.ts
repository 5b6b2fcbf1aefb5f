import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Comments and docs stand on their own: a reader of this repository cannot open a design file
 * that lives elsewhere, an issue tracker or a work session, so a citation of one says nothing
 * to them. The reason itself belongs in the comment, a figure in docs/benchmarks.md.
 */
const CITATIONS: readonly RegExp[] = [
  /\bDESIGN\s*§/i,
  /\bDESIGN\.md\b/i,
  /\bissues?\s*#?\d/i,
  /\bsessions?\s+\d/i,
];

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const CODE = /\.(?:ts|js|mjs)$/;
/** Folders of test data, not prose: whatever they hold is input, not a citation. */
const SKIPPED_FOLDERS = new Set(['node_modules', 'dist', 'fixtures', '__fixtures__', 'data']);

/** Every `file:line: text` of `text` that cites something outside the repository. */
function citationsIn(file: string, text: string): string[] {
  const found: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (CITATIONS.some((pattern) => pattern.test(line)))
      found.push(`${file}:${i + 1}: ${line.trim()}`);
  });
  return found;
}

function filesUnder(folder: string, wanted: RegExp): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) {
      return entry.name.startsWith('.') || SKIPPED_FOLDERS.has(entry.name)
        ? []
        : filesUnder(path, wanted);
    }
    return entry.isFile() && wanted.test(entry.name) ? [path] : [];
  });
}

function scanned(): string[] {
  const code = ['src', 'migrations', 'test', 'bench'].flatMap((folder) =>
    filesUnder(join(ROOT, folder), CODE),
  );
  const docs = filesUnder(join(ROOT, 'docs'), /\.md$/);
  return [...code, ...docs, join(ROOT, 'README.md')].filter((path) => path !== SELF);
}

describe('comments and docs', () => {
  it('cite no design-file section, issue or session', () => {
    const files = scanned();
    expect(files.length).toBeGreaterThan(100);
    const found = files.flatMap((path) =>
      citationsIn(relative(ROOT, path), readFileSync(path, 'utf8')),
    );
    expect(found).toEqual([]);
  });

  it.each([
    ['(DESIGN §5)', true],
    ['see DESIGN.md', true],
    ['(issue 7)', true],
    ['Issue #12: a client', true],
    ['measured in session 8', true],
    ['Sessions 9 and 10', true],
    ['RFC 9162 §2.1.1', false],
    ['an ONNX Runtime session from the artifact', false],
    ['the token issuer 2', false],
    ['issues with the schema', false],
  ])('finds %j: %p', (line, cites) => {
    expect(citationsIn('f.ts', `const a = 1;\n// ${line}\n`)).toEqual(
      cites ? [`f.ts:2: // ${line}`] : [],
    );
  });
});
