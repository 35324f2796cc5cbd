import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The web's build: two pages (staff workspace and customer portal) from web/, into web/dist, which the
// server serves at `/`. JSX compiles to Preact's automatic runtime.
const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
    rollupOptions: {
      input: { index: `${root}index.html`, portal: `${root}portal.html` },
    },
  },
});
