import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoStatusStore } from '../../src/status/dynamo-status-adapter.js';
import { dynamoDocumentClient } from '../../src/wiring/aws-clients.js';
import { uniqueCollection } from '../support/local-stack.js';
import { orchestratorFixture, type OrchestratorFixture } from '../support/orchestrator.js';

const exec = promisify(execFile);

describe('status and ack on the command line', () => {
  let fx: OrchestratorFixture;
  const collection = uniqueCollection('status');
  const T = Date.now() - 10 * 3_600_000;

  beforeAll(async () => {
    fx = await orchestratorFixture('status');
    const store = new DynamoStatusStore({ tableName: fx.statusTable, client: dynamoDocumentClient(fx.config().step) });
    await store.transition({ correlationId: 'old-failure', collection, status: 'EMR_FAILED', triggeredTime: T, emrClusterId: 'j-OLD' }, [undefined]);
    for (let i = 1; i <= 4; i += 1) {
      await store.transition({ correlationId: `deferred-${i}`, collection, status: 'DEFERRED', triggeredTime: T + i * 3_600_000 }, [undefined]);
    }
  });
  afterAll(async () => fx?.cleanup());

  it('flags a blocking row even when it is older than the runs shown', async () => {
    const args = ['dist/src/cli/main.js', 'status', '--collection', collection, '--runs', '2', '--status-table', fx.statusTable];
    const { stdout } = await exec(process.execPath, args);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe(collection);
    expect(lines.slice(1).map((l) => l.trim().split(/\s+/)[0])).toEqual(['deferred-4', 'deferred-3', 'old-failure']);
    expect(lines[3]).toMatch(/EMR_FAILED .* j-OLD .* BLOCKING$/);

    const json = JSON.parse((await exec(process.execPath, [...args, '--json'])).stdout) as { runs: unknown[]; blocking: { correlationId: string }[] }[];
    expect(json[0]?.runs).toHaveLength(2);
    expect(json[0]?.blocking.map((r) => r.correlationId)).toEqual(['old-failure']);
  });

  it('ack acknowledges the failed rows of a collection, recording who, and refuses an unknown run (exit 2)', async () => {
    const ack = (args: string[]) => exec(process.execPath, ['dist/src/cli/main.js', 'ack', ...args, '--status-table', fx.statusTable])
      .then(({ stdout }) => ({ code: 0, stdout, stderr: '' }), (e: { code: number; stdout: string; stderr: string }) => e);
    const unknown = await ack(['--correlation-id', 'no-such-run']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no status rows have correlation id no-such-run/);
    expect((await ack([collection, '--correlation-id', 'old-failure'])).code).toBe(2);

    const done = await ack([collection, '--by', 'alice']);
    expect(done.code).toBe(0);
    expect(done.stdout.trim()).toBe(`${collection}  old-failure  EMR_FAILED → _EMR_FAILED by alice`);
    const store = new DynamoStatusStore({ tableName: fx.statusTable, client: dynamoDocumentClient(fx.config().step) });
    expect(await store.get('old-failure', collection)).toMatchObject({ status: '_EMR_FAILED', acknowledgedBy: 'alice' });
    expect(await store.blockingRows(collection)).toEqual([]);
    expect((await ack([collection])).stdout.trim()).toBe('nothing to acknowledge: no failed rows');
  });
});
