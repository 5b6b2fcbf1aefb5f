import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const RELATIVE_DIR = join('web', 'dist');

/**
 * The built console (`npm run build:web`): looked for in `web/dist` of this folder's ancestors
 * (this module runs from `src/console` under Jest and from `dist/src/console` when built), then
 * of the working directory.
 */
export function defaultConsoleDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, RELATIVE_DIR);
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) return resolve(RELATIVE_DIR);
    dir = parent;
  }
}

/**
 * Headers of every console answer. The policy allows files of the service's own origin only:
 * no inline script or style, no eval, no framing, no plugins; the GraphQL API and the sign-in
 * routes are same-origin.
 */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "object-src 'none'",
  ].join('; '),
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * Whether a path under the console is one of its client routes, answered with index.html: not a
 * file (no extension in its last segment) and not one of the sign-in backend's routes.
 */
export function isClientRoute(pathUnderConsole: string): boolean {
  if (pathUnderConsole === 'auth' || pathUnderConsole.startsWith('auth/')) return false;
  const last = pathUnderConsole.split('/').pop() ?? '';
  return !last.includes('.');
}
