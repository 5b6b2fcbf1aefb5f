import { describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/**
 * The folders of `src/` stand in layers: no folder imports, directly or through others, a
 * folder that imports it back (docs/architecture.md, "Layers"). Read from the sources with the
 * TypeScript scanner, so nothing but `typescript` itself is needed.
 */

/** Folder → the folders its files import from (itself excluded). */
type FolderGraph = ReadonlyMap<string, ReadonlySet<string>>;

/** One import that crosses folders, kept so a failure can name the file that causes it. */
interface FolderEdge {
  readonly from: string;
  readonly to: string;
  readonly file: string;
  readonly specifier: string;
}

/**
 * Every module specifier a file names: `import`, `import type`, `export … from`, `import()`
 * and `require`. Type-only imports count: a cycle of types is still a cycle for a reader.
 */
function specifiersOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((ref) => ref.fileName);
}

/** The top folder under `root` of a path, or `.` for a file directly in `root`. */
function topFolderOf(root: string, path: string): string | undefined {
  const rel = relative(root, path);
  if (rel.startsWith('..')) return undefined;
  const parts = rel.split(sep);
  return parts.length > 1 ? parts[0] : '.';
}

function sourceFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !/\.(e2e-)?spec\.ts$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** The folder-crossing relative imports of every non-spec `.ts` file under `root`. */
function folderEdgesUnder(root: string): FolderEdge[] {
  const edges: FolderEdge[] = [];
  for (const file of sourceFilesUnder(root)) {
    const from = topFolderOf(root, file);
    if (from === undefined) continue;
    for (const specifier of specifiersOf(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) continue;
      const to = topFolderOf(root, resolve(dirname(file), specifier));
      if (to === undefined || to === from) continue;
      edges.push({ from, to, file: relative(root, file), specifier });
    }
  }
  return edges;
}

function graphOf(edges: readonly Pick<FolderEdge, 'from' | 'to'>[]): FolderGraph {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    if (!graph.has(to)) graph.set(to, new Set());
    const targets = graph.get(from) ?? new Set<string>();
    targets.add(to);
    graph.set(from, targets);
  }
  return graph;
}

/**
 * The strongly connected components with more than one folder (Tarjan), each sorted, in
 * sorted order: every folder in one of them reaches every other through imports.
 */
function cyclesOf(graph: FolderGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];

  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) components.push(component.sort());
    }
  };

  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return components.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/**
 * The layers of the "Layers" table of a docs page, bottom first: in each row, the folders
 * named `name/`, and `.` for `src/*.ts` (the files directly in src/).
 */
function documentedLayers(markdown: string): string[][] {
  const section = markdown.split(/^## /m).find((s) => s.startsWith('Layers\n')) ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*(layer\b|-)/.test(line))
    .map((line) =>
      [...(line.split('|')[2] ?? '').matchAll(/`([^`]+)`/g)].flatMap(([, token = '']) => {
        if (token === 'src/*.ts') return ['.'];
        return token.endsWith('/') ? [token.slice(0, -1)] : [];
      }),
    );
}

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const ARCHITECTURE = fileURLToPath(new URL('../../docs/architecture.md', import.meta.url));

describe('folder graph', () => {
  it('finds a cycle through three folders and leaves the acyclic rest alone', () => {
    const graph = graphOf([
      { from: 'a', to: 'b' },
      { from: 'b', to: 'c' },
      { from: 'c', to: 'a' },
      { from: 'c', to: 'd' },
      { from: 'e', to: 'd' },
    ]);
    expect(cyclesOf(graph)).toEqual([['a', 'b', 'c']]);
  });

  it('finds two folders importing each other, and nothing in a chain', () => {
    expect(
      cyclesOf(
        graphOf([
          { from: 'x', to: 'y' },
          { from: 'y', to: 'x' },
        ]),
      ),
    ).toEqual([['x', 'y']]);
    expect(cyclesOf(graphOf([{ from: 'x', to: 'y' }]))).toEqual([]);
  });

  it('reads every form of import, type-only ones included', () => {
    const source = [
      "import { A } from './a.js';",
      "import type { B } from '../b/b.js';",
      "export { C } from './c.js';",
      "export type { D } from './d.js';",
      "import './e.js';",
      "const f = await import('./f.js');",
    ].join('\n');
    expect(specifiersOf(source)).toEqual([
      './a.js',
      '../b/b.js',
      './c.js',
      './d.js',
      './e.js',
      './f.js',
    ]);
  });

  it('finds a cycle of type-only imports in a tree of files, specs left out', () => {
    const root = mkdtempSync(join(tmpdir(), 'folder-cycles-'));
    try {
      const write = (path: string, text: string) => {
        mkdirSync(dirname(join(root, path)), { recursive: true });
        writeFileSync(join(root, path), text);
      };
      write('a/x.ts', "import type { Y } from '../b/y.js';\nexport type X = Y;\n");
      write('b/y.ts', "export type Y = number;\nexport type { Z } from '../c/deep/z.js';\n");
      write('c/deep/z.ts', 'export type Z = string;\n');
      write('c/z.spec.ts', "import '../a/x.js';\n");
      expect(cyclesOf(graphOf(folderEdgesUnder(root)))).toEqual([]);
      write('c/back.ts', "import type { X } from '../a/x.js';\nexport type Back = X;\n");
      expect(cyclesOf(graphOf(folderEdgesUnder(root)))).toEqual([['a', 'b', 'c']]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('reads the layers table of a docs page, bottom first', () => {
    const page = [
      '# Architecture',
      '## Layers',
      '| layer | folders |',
      '| ----- | ------- |',
      '| low   | `common/`, `config/` |',
      '| top   | `src/*.ts` (`app.ts`), `cli/` |',
      '## Start-up',
      '| not | `a/` |',
    ].join('\n');
    expect(documentedLayers(page)).toEqual([
      ['common', 'config'],
      ['.', 'cli'],
    ]);
  });

  it('names a path by its top folder under the root', () => {
    expect(topFolderOf('/r/src', '/r/src/ledger/keys/key.ts')).toBe('ledger');
    expect(topFolderOf('/r/src', '/r/src/app.ts')).toBe('.');
    expect(topFolderOf('/r/src', '/r/test/x.ts')).toBeUndefined();
  });
});

describe('the folders of src/', () => {
  it('import only from their own layer and the layers below it', () => {
    const layers = documentedLayers(readFileSync(ARCHITECTURE, 'utf8'));
    expect(layers.length).toBeGreaterThan(1);
    const layerOf = new Map(layers.flatMap((folders, i) => folders.map((f) => [f, i] as const)));
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    const unplaced = ['.', ...folders]
      .filter((folder) => !layerOf.has(folder))
      .map((folder) => `${folder}: in no layer of docs/architecture.md`);
    const upward = folderEdgesUnder(SRC)
      .filter((e) => (layerOf.get(e.to) ?? 0) > (layerOf.get(e.from) ?? 0))
      .map((e) => `${e.from} → ${e.to} (a higher layer): ${e.file} imports ${e.specifier}`);
    expect([...unplaced, ...upward]).toEqual([]);
  });
});

/**
 * Folders allowed to stay in one cycle, each with the reason. Empty: every folder of `src/`
 * sits in a layer below the folders that import it (docs/architecture.md, "Layers").
 */
const ALLOWED_CYCLES: readonly (readonly string[])[] = [];

describe('the folders of src/', () => {
  it('import each other without cycles', () => {
    const edges = folderEdgesUnder(SRC);
    const allowed = new Set(ALLOWED_CYCLES.map((c) => [...c].sort().join(' ')));
    const cycles = cyclesOf(graphOf(edges)).filter((c) => !allowed.has(c.join(' ')));
    const report = cycles.map((cycle) => {
      const members = new Set(cycle);
      const imports = edges
        .filter((e) => members.has(e.from) && members.has(e.to))
        .map((e) => `  ${e.from} → ${e.to}: ${e.file} imports ${e.specifier}`);
      return [`cycle: ${cycle.join(', ')}`, ...imports].join('\n');
    });
    expect(report).toEqual([]);
  });
});
