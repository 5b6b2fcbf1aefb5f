#!/usr/bin/env -S node --max-semi-space-size=32
// The `gatehouse` command. The TypeScript sources are compiled to dist/ by `npm ci`
// (the prepare script) and by `npm run build`. The V8 flag above (a young generation of up to
// 32 MB per semi-space) is what `npm start` and the container image pass too: see
// docs/inference.md, "Running it".
import { existsSync } from 'node:fs';

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
// OpenTelemetry must be started before the service's modules load (src/telemetry/register.ts),
// as `node --import` would do it.
if (process.argv[2] === 'serve')
  await import(new URL('../dist/src/telemetry/register.js', import.meta.url).href);
await import(entry.href);
