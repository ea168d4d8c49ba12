import { defineConfig } from 'vite';

/** The coordinators' SMART app: built into dist/app, served by the server at /app/. */
export default defineConfig({
  root: import.meta.dirname,
  base: '/app/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: '../dist/app',
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: true,
  },
});
