#!/usr/bin/env node
// The `gatehouse` command. The TypeScript sources are compiled to dist/ by `npm ci`
// (the prepare script) and by `npm run build`. `npm start` and the container image run the
// service through this file too, so this is where the service's Node.js flags are added.
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

if (process.argv[2] === 'serve') {
  // What the service runs with, and why: src/cli/serve-flags.ts.
  const { serveFlags } = await import(
    new URL('../dist/src/cli/serve-flags.js', import.meta.url).href
  );
  // A flag the operator gave, in either place, with any value or negated, is left as given.
  const nameOf = (option) => option.split('=')[0].replace(/^--no-/, '--');
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].map(nameOf);
  const missing = serveFlags(major).filter((flag) => !given.includes(nameOf(flag)));
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
