/**
 * Bundles the program (src/main.ts and everything it imports, but the native better-sqlite3 and
 * the PostgreSQL driver loaded only for PostgreSQL) into dist/main.js, the `secret-store` binary.
 * Loading one file instead of a few hundred modules, each resolved and read on its own, roughly
 * halves the time from start to the first answered request (BENCHMARKS.md). The library exports
 * (`secret-store/client`, `secret-store/testing`) stay tsc's modules, with their declarations.
 */
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['better-sqlite3', 'pg'],
  // The bundled CommonJS packages call require(); an ES module has none of its own.
  banner: { js: "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
});
// tsc's map of the module this bundle replaces would point at the wrong lines.
rmSync('dist/main.js.map', { force: true });
