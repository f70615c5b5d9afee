import { defineConfig } from 'vitest/config';
import { findPostgres } from './test/support/find-postgres.js';

const postgres = await findPostgres(process.env);
process.stdout.write(`\n${postgres.reason}\n\n`);

const shared = {
  pool: 'forks' as const,
  testTimeout: 30_000,
  hookTimeout: 30_000,
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
    // Acceptance tests start real server processes; two cores run two files at a time well.
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
                include: [...ON_BOTH_ENGINES, 'test/postgres/**/*.test.ts'],
                env: { ...shared.env, SECRET_STORE_TEST_ENGINE: 'postgres' },
              },
            },
          ]
        : []),
    ],
  },
});
