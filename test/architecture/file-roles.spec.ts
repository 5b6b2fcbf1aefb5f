import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A file's name says what it holds: a reader who opens a plain `*.ts` file expects pure logic,
 * with no Nest or TypeORM in it. A class that Nest injects lives in a file named for its role.
 */
const INJECTABLE_FILE =
  /\.(?:service|repository|resolver|controller|guard|module|filter|plugin|provider)\.ts$/;
const DECORATORS = /^@(?:Injectable|Resolver|Controller|Module)\(/m;

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')
      ? [path]
      : [];
  });
}

/** The files that declare a Nest-managed class under a name that does not say so. */
export function misnamed(files: readonly { path: string; text: string }[]): string[] {
  return files
    .filter(({ path, text }) => DECORATORS.test(text) && !INJECTABLE_FILE.test(path))
    .map(({ path }) => path);
}

describe('file names', () => {
  it('put every injectable, resolver, controller and module in a file named for its role', () => {
    const files = sourceFiles(SRC).map((path) => ({
      path: relative(SRC, path),
      text: readFileSync(path, 'utf8'),
    }));
    expect(files.length).toBeGreaterThan(100);
    expect(misnamed(files)).toEqual([]);
  });

  it('finds a service in a plain file', () => {
    expect(
      misnamed([
        { path: 'a/runner.ts', text: "import x from 'y';\n@Injectable()\nexport class Runner {}" },
        { path: 'a/runner.service.ts', text: '@Injectable()\nexport class Runner {}' },
        { path: 'a/pure.ts', text: 'export const injectable = 1;' },
      ]),
    ).toEqual(['a/runner.ts']);
  });
});
