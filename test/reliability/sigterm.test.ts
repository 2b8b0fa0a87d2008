import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy, startFaultDks, type FaultDks, type ProxiedRequest } from '../support/faults.js';
import { listKeys } from '../support/published-output.js';
import { seedLocal, uniqueCollection } from '../support/local-stack.js';
import { runArgs, runCli } from './support/cli.js';
import { putCells } from './support/hbase-cells.js';
import { bigDocument, cellOf, dataKey } from './support/records.js';
import {
  configFor, dropTable, envFor, expectedRows, FROM, openUploads, publishedRows, s3Of, space, stack, statusOf, uniquePrefix,
} from './support/stack.js';

/**
 * Issue 6 §5: SIGTERM (what EMR sends when a step is cancelled or the cluster shuts down) must stop the scan,
 * abort in-flight uploads, mark the statuses and exit non-zero — promptly, and leaving nothing readers trust.
 */
const x = uniqueCollection('reltermx');
const y = uniqueCollection('reltermy');
const big = uniqueCollection('reltermbig');
let dks: FaultDks;
let hbase: FaultProxy;
let aws: FaultProxy;

const scannerCall = (r: ProxiedRequest): boolean => /\/scanner(\/|$)/.test(r.path.split('?')[0] ?? '') && r.method !== 'DELETE';
const uploadPart = (r: ProxiedRequest): boolean => r.method === 'PUT' && /[?&]partNumber=/.test(r.path);

beforeAll(async () => {
  dks = await startFaultDks();
  hbase = new FaultProxy(stack.hbaseRestUrl);
  aws = new FaultProxy(stack.awsEndpointUrl);
  await Promise.all([hbase.up(), aws.up()]);
  await Promise.all([
    seedLocal({ collection: x, space: space(x), records: 200, keys: 3, regions: 2 }),
    seedLocal({ collection: y, space: space(y), records: 200, keys: 3, regions: 2 }),
    seedLocal({ collection: big, space: space(big), records: 100, keys: 2, regions: 1 }),
  ]);
  const [db, table] = big.split(':') as [string, string];
  const key = dataKey('relterm-big');
  await putCells(big, ['big-1', 'big-2'].map((id, i) => cellOf({ id: { id }, timestamp: FROM + i, plaintext: bigDocument(id, 7 * 1024 * 1024), key, db, collection: table })));
});

afterAll(async () => {
  await Promise.all([dks?.close(), hbase?.close(), aws?.close()]);
  await Promise.all([dropTable(x), dropTable(y), dropTable(big)]);
});

async function untilTrue(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('SIGTERM during the scan', () => {
  it('stops scanning, marks every collection EMR_FAILED, publishes nothing and exits 1 within seconds; a rerun completes', async () => {
    const prefix = uniquePrefix('term-scan');
    const env = { ...envFor(prefix, { dksUrl: dks.url, hbaseRestUrl: hbase.url }), INGEST_CONCURRENCY: '1' };
    // A slow DKS holds the first collection mid-scan, with its data-key calls in flight.
    dks.set({ delayMs: 3000 });
    const callsBefore = dks.server.stats().decrypt.calls;
    let child: ChildProcess | undefined;
    let signalledAt = 0;
    const watcher = untilTrue(() => dks.server.stats().decrypt.calls > callsBefore).then(() => {
      signalledAt = performance.now();
      child?.kill('SIGTERM');
    });

    const result = await runCli(runArgs('rel-term-scan', Date.now(), [x, y]), { env, started: (c) => { child = c; } });
    await watcher;

    expect(result.signal).toBeNull();
    expect(result.code, result.stderr.slice(-1500)).toBe(1);
    const exitedAfterMs = performance.now() - signalledAt;
    expect(exitedAfterMs).toBeLessThan(5000);
    expect(result.stderr).toMatch(/"signal":"SIGTERM"/);
    // No scanner was opened or read after the signal (DELETEs that free scanners are fine).
    expect(hbase.seen.filter((s) => s.at > signalledAt + 50 && scannerCall(s.request))).toEqual([]);
    const config = configFor(prefix);
    for (const c of [x, y]) expect((await statusOf(config).get('rel-term-scan', c))?.status, c).toBe('EMR_FAILED');
    expect(await listKeys(s3Of(config), config.outputBucket, prefix)).toEqual([]);
    expect(await openUploads(s3Of(config), config.outputBucket, prefix)).toEqual([]);

    dks.set({});
    const rerun = await runCli(runArgs('rel-term-scan', Date.now(), [x, y]), { env });
    expect(rerun.code, rerun.stderr.slice(-1500)).toBe(0);
    const rows = await publishedRows(s3Of(config), config.outputBucket, prefix);
    expect(rows).toHaveLength(expectedRows(x, 200).size + expectedRows(y, 200).size);
  }, 90_000);
});

describe('SIGTERM while the last part is uploading', () => {
  it('finishes the publication it is in (never a torn folder): published whole, EMR_COMPLETED, no multipart upload left, exit 1', async () => {
    const prefix = uniquePrefix('term-upload');
    let child: ChildProcess | undefined;
    let signalledAt = 0;
    // Chunks take 1.5 s to reach S3; the first one to arrive triggers the SIGTERM. The scan is over by then:
    // what is left is the publication, which is bounded (the last parts, the manifest), so it is finished
    // rather than torn down (aborting after the manifest was written would un-publish a run readers may use).
    aws.clearRules();
    aws.use((r) => {
      if (!uploadPart(r)) return 'forward';
      if (signalledAt === 0) {
        signalledAt = performance.now();
        child?.kill('SIGTERM');
      }
      return { delayMs: 1500 };
    });

    const result = await runCli(runArgs('rel-term-upload', Date.now(), [big]), {
      env: envFor(prefix, { awsEndpointUrl: aws.url }),
      started: (c) => { child = c; },
    });
    aws.clearRules();

    expect(signalledAt).toBeGreaterThan(0);
    expect(result.code, result.stderr.slice(-1500)).toBe(1);
    expect(result.stderr).toMatch(/"signal":"SIGTERM"/);
    expect(performance.now() - signalledAt).toBeLessThan(10_000);
    const config = configFor(prefix);
    expect(await openUploads(s3Of(config), config.outputBucket, prefix)).toEqual([]);
    const rows = await publishedRows(s3Of(config), config.outputBucket, prefix);
    expect(rows).toHaveLength(expectedRows(big, 100).size + 2);
    expect((await statusOf(config).get('rel-term-upload', big))?.status).toBe('EMR_COMPLETED');
    expect(await statusOf(config).lastCompletedEnd(big)).toBe(Math.max(...rows.map((r) => r.timestamp)));
  }, 90_000);
});
