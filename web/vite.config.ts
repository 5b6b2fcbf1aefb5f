import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// JSX goes through Vite's own Oxc transform with React's automatic runtime: no React plugin
// (no Fast Refresh), which the console does not need to build or to be served.
export default defineConfig({
  root,
  base: '/console/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The preload polyfill and inlined assets would need 'unsafe-inline' or data: scripts
    // under the console's Content-Security-Policy; every asset stays a file of its own.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
