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

  const run = (args: string[]) => exec(process.execPath, ['dist/src/cli/main.js', ...args, '--status-table', fx.statusTable])
    .then(({ stdout, stderr }) => ({ code: 0, stdout, stderr }), (e: { code: number; stdout: string; stderr: string }) => e);
  const W = T + 30 * 60_000;

  beforeAll(async () => {
    fx = await orchestratorFixture('status');
    const store = new DynamoStatusStore({ tableName: fx.statusTable, client: dynamoDocumentClient(fx.config().step) });
    await store.transition({ correlationId: 'with-data', collection, status: 'EMR_COMPLETED', triggeredTime: T - 3_600_000, processedDataStart: 1, processedDataEnd: W }, [undefined]);
    await store.transition({ correlationId: 'old-failure', collection, status: 'EMR_FAILED', triggeredTime: T, emrClusterId: 'j-OLD', reason: 'DksUnavailableError: DKS answered 503 for every key' }, [undefined]);
    for (let i = 1; i <= 4; i += 1) {
      await store.transition({ correlationId: `deferred-${i}`, collection, status: 'DEFERRED', triggeredTime: T + i * 3_600_000 }, [undefined]);
    }
  });
  afterAll(async () => fx?.cleanup());

  it('status says how fresh the data is, what failed and that an ack is needed (exit 3), in columns and as JSON', async () => {
    const text = await run(['status', '--collections', collection, '--runs', '2']);
    expect(text.code).toBe(3);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toMatch(/^COLLECTION +COMPLETE UP TO +LAG +LAST RUN WITH DATA +LATEST RUN +STATE +ACK NEEDED$/);
    expect(lines[1]).toMatch(new RegExp(`^${collection} +${new Date(W).toISOString()} +9h\\d*m? +with-data \\(11h ago\\) +deferred-4 DEFERRED +needs-ack +yes$`));
    expect(lines[2]).toBe(`! ${collection} old-failure EMR_FAILED: DksUnavailableError: DKS answered 503 for every key`);
    expect(lines[3]).toBe(`  to unblock, after checking the cause: ingest-replica ack ${collection}`);
    // The runs: the latest two, and the older blocking row, flagged.
    const runs = lines.slice(lines.indexOf(`${collection} runs`) + 2).filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/\s+/)[0]);
    expect(runs).toEqual(['deferred-4', 'deferred-3', 'old-failure']);
    expect(text.stdout).toMatch(/old-failure +EMR_FAILED .* j-OLD .* BLOCKING/);

    const json = await run(['status', '--collections', collection, '--runs', '2', '--json']);
    expect(json.code).toBe(3);
    const [view] = JSON.parse(json.stdout) as Record<string, unknown>[];
    expect(view).toMatchObject({
      collection, completeUpTo: W, completeUpToIso: new Date(W).toISOString(), state: 'needs-ack', needsAck: true, ackCommand: `ingest-replica ack ${collection}`,
      lastRunWithData: { correlationId: 'with-data', processedDataEnd: W }, latestRun: { correlationId: 'deferred-4', status: 'DEFERRED' },
      failures: [{ correlationId: 'old-failure', status: 'EMR_FAILED', reason: 'DksUnavailableError: DKS answered 503 for every key' }],
    });
    expect(Math.abs((view?.lagMs as number) - (Date.now() - W))).toBeLessThan(60_000);
    expect(view?.runs).toHaveLength(2);
    expect((view?.blocking as { correlationId: string }[]).map((r) => r.correlationId)).toEqual(['old-failure']);
    // The old spelling still works.
    expect((await run(['status', '--collection', collection, '--json'])).code).toBe(3);
  });

  it('ack acknowledges the failed rows of a collection, recording who, and refuses an unknown run or collection (exit 2)', async () => {
    const ack = (args: string[]) => run(['ack', ...args]);
    const unknown = await ack(['--correlation-id', 'no-such-run']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/no status rows have correlation id no-such-run/);
    const typo = await ack([`${collection}x`, collection]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(new RegExp(`no status rows for collection ${collection}x: nothing of that name ever ran`));
    expect((await ack([collection, '--correlation-id', 'old-failure'])).code).toBe(2);
    const store = new DynamoStatusStore({ tableName: fx.statusTable, client: dynamoDocumentClient(fx.config().step) });
    expect(await store.get('old-failure', collection)).toMatchObject({ status: 'EMR_FAILED' });

    const done = await ack([collection, '--by', 'alice']);
    expect(done.code).toBe(0);
    expect(done.stdout.trim()).toBe(`${collection}  old-failure  EMR_FAILED → _EMR_FAILED by alice`);
    expect(await store.get('old-failure', collection)).toMatchObject({ status: '_EMR_FAILED', acknowledgedBy: 'alice' });
    expect(await store.blockingRows(collection)).toEqual([]);
    expect((await ack([collection])).stdout.trim()).toBe('nothing to acknowledge: no failed rows');
    // Nothing blocks any more: status exits 0.
    const after = await run(['status', '--collections', collection, '--json']);
    expect(after.code).toBe(0);
    expect(JSON.parse(after.stdout)[0]).toMatchObject({ state: 'ok', needsAck: false, ackCommand: null, failures: [] });
  });

  it('trigger --json prints its outcome when refused too (exit 3), having written nothing', async () => {
    const refused = await run(['trigger', '--json', '--at', '2026-12-06T03:00:00Z', '--collections', collection, '--cluster-name-prefix', fx.clusterPrefix, '--alerts-topic-arn', fx.topicArn]);
    expect(refused.code).toBe(3);
    expect(JSON.parse(refused.stdout)).toMatchObject({ outcome: 'refused', exitCode: 3, message: expect.stringMatching(/maintenance window/) });
    const store = new DynamoStatusStore({ tableName: fx.statusTable, client: dynamoDocumentClient(fx.config().step) });
    expect((await store.latestRuns(collection, 10)).map((r) => r.correlationId)).not.toContain(expect.stringMatching(/^2026/));
  });
});
