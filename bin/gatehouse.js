#!/usr/bin/env node
// The `gatehouse` command. The TypeScript sources are compiled to dist/ by `npm ci`
// (the prepare script) and by `npm run build`.
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
await import(entry.href);
