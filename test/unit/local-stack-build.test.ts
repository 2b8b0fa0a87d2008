import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hbaseBuildProblem } from '../../src/local/hbase-process.js';
import { stackUp } from '../../src/local/stack.js';
import { ConfigError } from '../../src/shared/errors.js';
import { silentLogger } from '../../src/shared/logger.js';

/** Issue 12 §5: `local up` in a fresh checkout, before `make hbase`, says which target to run instead of dying. */
describe('local up before the HBase module is built', () => {
  const work = mkdtempSync(join(tmpdir(), 'ir-fresh-checkout-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  // Ports nothing listens on (the discard port and its neighbours are privileged and unused here).
  const options = (root: string) => ({ home: join(root, '.local'), projectRoot: root, hbaseRestPort: 9, hbaseAdminPort: 7, zkPort: 11, awsPort: 13, dksPort: 17, awsRegion: 'eu-west-2', hbaseHeapMb: 1024 });

  it('fails at once naming `make hbase`, having started nothing (no state, no certificates)', async () => {
    const root = join(work, 'fresh');
    mkdirSync(root);
    const error = await stackUp(options(root), silentLogger).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/the local HBase is not built \(.*hbase-local\/target\/hbase-local\.jar is missing\)\. Fix: run `make hbase`/);
    expect(existsSync(join(root, '.local'))).toBe(false);
  });

  it('names the dependencies too when only the jar is there, and nothing once both are', () => {
    const root = join(work, 'half');
    mkdirSync(join(root, 'hbase-local', 'target', 'lib'), { recursive: true });
    writeFileSync(join(root, 'hbase-local', 'target', 'hbase-local.jar'), '');
    expect(hbaseBuildProblem(root)).toMatch(/target\/lib\/\*\.jar is missing/);
    writeFileSync(join(root, 'hbase-local', 'target', 'lib', 'hbase-server.jar'), '');
    expect(hbaseBuildProblem(root)).toBeUndefined();
  });
});
