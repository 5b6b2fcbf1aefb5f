#!/usr/bin/env node
// The `gatehouse` command. The TypeScript sources are compiled to dist/ by `npm ci`
// (the prepare script) and by `npm run build`. `npm start` and the container image run the
// service through this file too, so the Node.js flags below are the only place they are set.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(
    `gatehouse needs Node.js >= 22.12 (this is ${process.version}); run it through npx or npm run.`,
  );
  process.exit(2);
}
const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('gatehouse is not built: run `npm run build` first.');
  process.exit(2);
}

/**
 * What the service runs with (docs/inference.md, "Running it"; the figures in
 * docs/benchmarks.md):
 * - a young generation of 32 MB per semi-space, never shrunk: with V8's 16 MB, half the runs
 *   under load spent twice as long collecting garbage, the scavenger faulting fresh pages in;
 *   and without the floor, a service idle for a while shrank it to 1 MB, so the first seconds
 *   of the next load ran three times the scavenges, and major collections with them;
 * - no memory reducer: it gives an idle process's heap pages back, and the next load faulted
 *   tens of thousands of them in again, in its first second;
 * - on Node.js 22 and 23, AsyncLocalStorage on AsyncContextFrame, Node 24's default: the
 *   older implementation puts a hook on every promise once OpenTelemetry's context is used,
 *   6 µs of each inference request.
 */
const SERVE_FLAGS = [
  '--max-semi-space-size=32',
  '--min-semi-space-size=32',
  '--no-memory-reducer',
  ...(major < 24 ? ['--experimental-async-context-frame'] : []),
];
if (process.argv[2] === 'serve') {
  // A flag the operator gave, in either place, with any value or negated, is left as given.
  const nameOf = (option) => option.split('=')[0].replace(/^--no-/, '--');
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map(nameOf);
  const missing = SERVE_FLAGS.filter((flag) => !given.includes(nameOf(flag)));
  // Node.js flags cannot be turned on in a running process: start this file again with them,
  // in this process's place (same pid, same standard streams), as `node FLAGS` would.
  if (missing.length > 0 && typeof process.execve === 'function') {
    process.execve(process.execPath, [
      process.execPath,
      ...process.execArgv,
      ...missing,
      fileURLToPath(import.meta.url),
      ...process.argv.slice(2),
    ]);
  } else if (missing.length > 0) {
    console.error(
      `gatehouse: Node.js ${process.version} cannot restart itself; serving without ${missing.join(' ')}`,
    );
  }
  // OpenTelemetry must be started before the service's modules load
  // (src/telemetry/register.ts), as `node --import` would do it.
  await import(new URL('../dist/src/telemetry/register.js', import.meta.url).href);
}
await import(entry.href);
