import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration tests share one local stack; each isolates itself by unique table/bucket/prefix names.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // The in-process engine unless a test asks for Spark (the CLI's default is spark, as on EMR).
    env: { INGEST_ENGINE: 'single' },
    reporters: ['default', './test/support/summary-reporter.ts'],
  },
});
