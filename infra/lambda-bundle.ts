import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { projectRoot } from '../src/shared/project-root.js';

/** The Lambda handlers (file → export `handler`) and the Lambda handler strings of the bundle. */
export const LAMBDA_HANDLERS = {
  trigger: { entry: 'src/handlers/trigger.ts', handler: 'dist/trigger.handler' },
  purge: { entry: 'src/handlers/purge-metadata.ts', handler: 'dist/purge-metadata.handler' },
} as const;

const built = new Map<string, string>();

/**
 * The Lambda code: both handlers bundled by esbuild (ESM, Node 24) from the same sources as the EMR bundle,
 * with package.json (the code's project root) and emr-config/cluster (the launch templates the trigger fills).
 * Built once per process into build/lambda/; the folder is the function's asset.
 */
export function lambdaBundle(outDir = join(projectRoot(), 'build', 'lambda')): string {
  const cached = built.get(outDir);
  if (cached !== undefined) return cached;
  const root = projectRoot();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'emr-config'), { recursive: true });
  buildSync({
    entryPoints: { trigger: join(root, LAMBDA_HANDLERS.trigger.entry), 'purge-metadata': join(root, LAMBDA_HANDLERS.purge.entry) },
    outdir: join(outDir, 'dist'),
    bundle: true, platform: 'node', target: 'node24', format: 'esm',
    // The AWS SDK is in the runtime, but the bundle pins the version the code was tested with.
    banner: { js: "import { createRequire as __irCreateRequire } from 'node:module'; const require = __irCreateRequire(import.meta.url);" },
    logLevel: 'warning', legalComments: 'none', minify: false, sourcemap: false,
  });
  cpSync(join(root, 'emr-config', 'cluster'), join(outDir, 'emr-config', 'cluster'), { recursive: true });
  writeFileSync(join(outDir, 'package.json'), `${JSON.stringify({ name: 'ingest-replica-lambda', private: true, type: 'module' }, null, 2)}\n`);
  built.set(outDir, outDir);
  return outDir;
}
