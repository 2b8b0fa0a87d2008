import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The folder rules of .dependency-cruiser.cjs (README "Folder layering"), each shown to catch its violation:
 * a small tree with one offending import per rule is checked with the project's own configuration.
 */

const FILES: Record<string, string> = {
  'tsconfig.json': '{ "compilerOptions": { "module": "nodenext", "moduleResolution": "nodenext", "target": "es2023", "strict": true } }',
  'src/shared/s.ts': "import { st } from '../step/ok.js'; export const s = st;",
  'src/contracts/c.ts': "import { h } from '../hbase/h.js'; export const c = h;",
  'src/step/ok.ts': 'export const st = 1;',
  'src/step/st.ts': "import { h } from '../hbase/h.js'; export const st2 = h;",
  'src/hbase/h.ts': 'export const h = 1;',
  'src/sink/k.ts': "import { h } from '../hbase/h.js'; export const k = h;",
  'src/config/cf.ts': "import { l } from '../local/l.js'; export const cf = l;",
  'src/local/l.ts': 'export const l = 1;',
  'src/orchestrator/emr/a.ts': "import { w } from '../../wiring/w.js'; export const a = w;",
  'src/orchestrator/emr/a2.ts': "import { b } from '../purge/b.js'; export const a2 = b;",
  'src/orchestrator/emr/a3.ts': 'export const a3 = 1;',
  'src/orchestrator/purge/b.ts': "import { a3 } from '../emr/a3.js'; export const b = a3;",
  'src/wiring/w.ts': "import { x } from '../cli/x.js'; export const w = x;",
  'src/cli/x.ts': "import { l } from '../local/l.js'; export const x = l;",
};

interface Violation { readonly rule: { readonly name: string }; readonly from: string; readonly to: string }

describe('folder rules of the dependency check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dependency-rules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports each forbidden import with the rule it breaks, and allows the permitted ones', async () => {
    for (const [path, text] of Object.entries(FILES)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), `${text}\n`);
    }
    const cli = resolve('node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');
    const run = await promisify(execFile)(process.execPath, [cli, '--config', resolve('.dependency-cruiser.cjs'), '--output-type', 'json', 'src'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 })
      .catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
    const violations = (JSON.parse(run.stdout) as { summary: { violations: Violation[] } }).summary.violations;
    const found = new Set(violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`));
    expect([...found].sort()).toEqual([
      'adapters-import-only-step-contracts-shared: src/sink/k.ts → src/hbase/h.ts',
      'config-knows-no-orchestrator-local-or-wiring: src/config/cf.ts → src/local/l.ts',
      'contracts-import-only-shared: src/contracts/c.ts → src/hbase/h.ts',
      'local-only-from-entry-points-and-wiring: src/config/cf.ts → src/local/l.ts',
      'no-folder-cycle: src/orchestrator/emr → src/orchestrator/purge',
      'no-folder-cycle: src/orchestrator/purge → src/orchestrator/emr',
      'nothing-imports-entry-points: src/wiring/w.ts → src/cli/x.ts',
      'orchestrator-knows-no-wiring-local-or-entry-points: src/orchestrator/emr/a.ts → src/wiring/w.ts',
      'shared-is-a-leaf: src/shared/s.ts → src/step/ok.ts',
      'step-imports-only-contracts-and-shared: src/step/st.ts → src/hbase/h.ts',
    ]);
  }, 60_000);
});
