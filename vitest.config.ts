import { defineConfig } from 'vitest/config';
import { findPooler, findPostgres } from './test/support/find-postgres.js';

const postgres = await findPostgres(process.env);
const pooler = postgres.url ? await findPooler(process.env) : { reason: 'PgBouncer suites SKIPPED: no PostgreSQL' };
process.stdout.write(`\n${postgres.reason}\n${pooler.reason}\n\n`);

const shared = {
  pool: 'forks' as const,
  // Builds dist/ when the sources are newer, for the suites that spawn dist/main.js.
  globalSetup: ['./test/support/build-dist.ts'],
  // Generous: a timeout is no test of speed here, and the CI machine is shared and loaded (a server
  // start with migrations has been seen to take over 30 s at a load average of 15).
  testTimeout: 120_000,
  hookTimeout: 120_000,
  env: postgres.url ? { SECRET_STORE_TEST_DATABASE_URL: postgres.url } : {},
};

/** Acceptance suites that are about the API, not one engine's files: they run on both engines. */
const ON_BOTH_ENGINES = [
  'test/acceptance/smoke.test.ts',
  'test/acceptance/sdk-*.test.ts',
  'test/acceptance/raw-http-*.test.ts',
  'test/acceptance/user-bound-keys.test.ts',
  'test/acceptance/test-tools.test.ts',
  'test/acceptance/fixtures.test.ts',
  'test/reliability/crash-safety.test.ts',
  'test/reliability/isolation.test.ts',
  'test/reliability/unit-of-work.test.ts',
  'test/reliability/crash-audit.test.ts',
];

export default defineConfig({
  test: {
    // Two cores run two files at a time well.
    maxWorkers: 2,
    reporters: ['default', './test/support/summary-line-reporter.ts'],
    projects: [
      {
        test: {
          ...shared,
          name: 'sqlite',
          include: ['test/**/*.test.ts'],
          exclude: ['test/postgres/**'],
        },
      },
      ...(postgres.url
        ? [
            {
              test: {
                ...shared,
                name: 'postgres',
                // The fuzz suite once on PostgreSQL too (not through the pooler: it is about the API).
                include: [...ON_BOTH_ENGINES, 'test/reliability/fuzz-http.test.ts', 'test/postgres/**/*.test.ts'],
                env: { ...shared.env, SECRET_STORE_TEST_ENGINE: 'postgres' },
              },
            },
          ]
        : []),
      // The same acceptance suites once more, every server behind PgBouncer in transaction mode.
      ...(pooler.url
        ? [
            {
              test: {
                ...shared,
                name: 'pgbouncer',
                include: ON_BOTH_ENGINES,
                env: { ...shared.env, SECRET_STORE_TEST_ENGINE: 'postgres', SECRET_STORE_TEST_POOLER_URL: pooler.url },
              },
            },
          ]
        : []),
    ],
  },
});
