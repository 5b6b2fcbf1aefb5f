import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** The console's path on the service; web/dist/ is served under it. */
const BASE = '/console/';

/**
 * The most JavaScript, gzipped, the console may make a browser fetch before it shows anything
 * (300,000 bytes: decimal kilobytes, the stricter reading).
 */
export const INITIAL_JS_BUDGET_BYTES = 300_000;

export interface LoadedFile {
  /** The path as index.html names it (under /console/). */
  readonly href: string;
  readonly bytes: number;
  /** Gzipped with node:zlib at level 9, as a server compressing ahead of time would. */
  readonly gzipBytes: number;
}

export interface InitialLoad {
  /** Every script with a source and every modulepreload link: what runs before the first render. */
  readonly scripts: readonly LoadedFile[];
  readonly stylesheets: readonly LoadedFile[];
  readonly html: LoadedFile;
  readonly scriptGzipBytes: number;
  readonly stylesheetGzipBytes: number;
}

type Tag = ReadonlyMap<string, string>;

/** The attributes of every `<name …>` start tag in an HTML text (Vite's output: quoted values). */
function startTags(html: string, name: string): Tag[] {
  const tags: Tag[] = [];
  for (const match of html.matchAll(new RegExp(`<${name}\\b([^>]*)>`, 'gi'))) {
    const attributes = new Map<string, string>();
    for (const attribute of (match[1] ?? '').matchAll(
      /([^\s"'=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g,
    )) {
      const [, key = '', doubleQuoted, singleQuoted, bare] = attribute;
      attributes.set(key.toLowerCase(), doubleQuoted ?? singleQuoted ?? bare ?? '');
    }
    tags.push(attributes);
  }
  return tags;
}

/** The files index.html makes the browser load at once: scripts, module preloads, styles. */
export function initialReferences(html: string): { scripts: string[]; stylesheets: string[] } {
  const scripts = startTags(html, 'script')
    .filter((tag) => tag.has('src'))
    .map((tag) => tag.get('src') ?? '');
  const links = startTags(html, 'link');
  const rels = (tag: Tag): string[] => (tag.get('rel') ?? '').toLowerCase().split(/\s+/);
  const preloads = links
    .filter((tag) => rels(tag).includes('modulepreload') && tag.has('href'))
    .map((tag) => tag.get('href') ?? '');
  const stylesheets = links
    .filter((tag) => rels(tag).includes('stylesheet') && tag.has('href'))
    .map((tag) => tag.get('href') ?? '');
  return { scripts: [...new Set([...scripts, ...preloads])], stylesheets };
}

function measured(href: string, bytes: Buffer): LoadedFile {
  return { href, bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
}

function fileOf(distDir: string, href: string): Buffer {
  if (!href.startsWith(BASE)) {
    throw new Error(`index.html loads ${href}, which is not under ${BASE}: not the console's`);
  }
  return readFileSync(join(distDir, href.slice(BASE.length)));
}

/** What a first visit to the console downloads before it renders, from a built web/dist/. */
export function initialLoad(distDir: string): InitialLoad {
  const html = readFileSync(join(distDir, 'index.html'));
  const references = initialReferences(html.toString('utf8'));
  if (references.scripts.length === 0) {
    throw new Error(`${join(distDir, 'index.html')} loads no script: is it Vite's build?`);
  }
  const scripts = references.scripts.map((href) => measured(href, fileOf(distDir, href)));
  const stylesheets = references.stylesheets.map((href) => measured(href, fileOf(distDir, href)));
  const sum = (files: readonly LoadedFile[]): number =>
    files.reduce((total, file) => total + file.gzipBytes, 0);
  return {
    scripts,
    stylesheets,
    html: measured(`${BASE}index.html`, html),
    scriptGzipBytes: sum(scripts),
    stylesheetGzipBytes: sum(stylesheets),
  };
}
