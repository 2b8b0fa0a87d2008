import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../shared/project-root.js';

/**
 * The CLI script a Spark task runs `scan-range` with: this very program. From the build (`dist/src/…`) that
 * is `dist/src/cli/main.js`; from the EMR bundle, where every module is one file, the bundle itself; from the
 * TypeScript sources (the test runner), the build, which `make test` makes first.
 */
export function workerEntry(): string {
  const here = fileURLToPath(import.meta.url);
  switch (basename(here)) {
    case 'worker-entry.js': return join(dirname(here), '..', 'cli', 'main.js');
    case 'worker-entry.ts': return join(projectRoot(), 'dist', 'src', 'cli', 'main.js');
    default: return here;
  }
}
