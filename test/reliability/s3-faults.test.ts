import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FaultProxy, type ProxiedRequest } from '../support/faults.js';
import { listKeys } from '../support/published-output.js';
import { seedLocal, uniqueCollection } from '../support/local-stack.js';
import { putCells } from './support/hbase-cells.js';
import { bigDocument, cellOf, dataKey } from './support/records.js';
import {
  configFor, dropTable, expectedRows, forgetStatus, FROM, openUploads, publishedRows, runOnce, s3Of, space, stack, statusOf, uniquePrefix,
} from './support/stack.js';

/**
 * Issue 6 §3: S3 failing in the middle of a run. The step talks to moto through a proxy we control, which
 * answers chosen S3 requests with 500 InternalError (every SDK retry too), as an S3 outage would.
 */
const collection = uniqueCollection('rels3');
const [db, table] = collection.split(':') as [string, string];
const RECORDS = 300;
// Two ~7 MB documents of base64 noise (ZSTD takes them to ~75%) make the part bigger than one 8 MiB multipart chunk.
const BIG = ['big-1', 'big-2'].map((id, i) => ({ id: { id }, timestamp: FROM + 1000 + i, plaintext: bigDocument(id, 7 * 1024 * 1024) }));
let proxy: FaultProxy;

const S3_ERROR = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>injected by the reliability suite</Message></Error>';
const query = (r: ProxiedRequest): URLSearchParams => new URLSearchParams(r.path.split('?')[1] ?? '');
const isUploadPart = (r: ProxiedRequest): boolean => r.method === 'PUT' && query(r).has('partNumber') && query(r).has('uploadId');
const isAbortUpload = (r: ProxiedRequest): boolean => r.method === 'DELETE' && query(r).has('uploadId');

beforeAll(async () => {
  await seedLocal({ collection, space: space(collection), records: RECORDS, keys: 2, regions: 2 });
  const key = dataKey('rels3-big');
  await putCells(collection, BIG.map((b) => cellOf({ ...b, key, db, collection: table })));
});

afterAll(async () => {
  await dropTable(collection);
});

beforeEach(async () => {
  proxy = new FaultProxy(stack.awsEndpointUrl);
  await proxy.up();
  await forgetStatus(configFor('unused'), collection);
});

afterEach(async () => {
  await proxy.close();
});

async function expectCompleteRun(prefix: string, correlationId: string): Promise<void> {
  const config = configFor(prefix);
  const rows = await publishedRows(s3Of(config), config.outputBucket, prefix);
  const truth = expectedRows(collection, RECORDS);
  expect(rows).toHaveLength(truth.size + BIG.length);
  expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
  expect(new Set(rows.map((r) => r.correlationId))).toEqual(new Set([correlationId]));
  for (const big of BIG) {
    const row = rows.find((r) => r.id === JSON.stringify(big.id));
    expect(createHash('sha256').update(row?.record ?? '').digest('hex')).toBe(createHash('sha256').update(big.plaintext).digest('hex'));
  }
  expect((await statusOf(config).get(correlationId, collection))?.status).toBe('EMR_COMPLETED');
  expect(await statusOf(config).lastCompletedEnd(collection)).toBe(Math.max(...[...truth.values()].map((r) => r.timestamp)));
}

describe('S3 failing mid-upload', () => {
  it('aborts the multipart upload, writes no manifest, marks EMR_FAILED; the rerun publishes a complete run', async () => {
    const prefix = uniquePrefix('s3-part');
    const config = configFor(prefix, { awsEndpointUrl: proxy.url });
    // The first chunk of the multipart upload lands; every later chunk (and every retry of it) fails.
    proxy.use((r) => (isUploadPart(r) && query(r).get('partNumber') !== '1' ? { status: 500, body: S3_ERROR, headers: { 'content-type': 'application/xml' } } : 'forward'));

    const [failed] = await runOnce(config, { correlationId: 'rel-s3-part', collections: [collection] });

    expect(failed?.outcome).toBe('failed');
    const parts = proxy.seen.filter((s) => isUploadPart(s.request));
    expect(parts.some((s) => s.status === 200)).toBe(true);
    expect(parts.some((s) => s.status === 500)).toBe(true);
    expect(proxy.seen.some((s) => isAbortUpload(s.request) && s.status === 204)).toBe(true);
    expect(await openUploads(s3Of(config), config.outputBucket, prefix)).toEqual([]);
    expect(await listKeys(s3Of(config), config.outputBucket, prefix)).toEqual([]);
    expect((await statusOf(config).get('rel-s3-part', collection))?.status).toBe('EMR_FAILED');
    expect(await statusOf(config).lastCompletedEnd(collection)).toBeUndefined();

    proxy.clearRules();
    const [rerun] = await runOnce(config, { correlationId: 'rel-s3-part', collections: [collection] });

    expect(rerun?.outcome, rerun?.note).toBe('completed');
    await expectCompleteRun(prefix, 'rel-s3-part');
  }, 90_000);

  it('publishes nothing when the manifest cannot be written past the claim, and the rerun finishes the run from its pending manifest', async () => {
    const prefix = uniquePrefix('s3-manifest');
    const config = configFor(prefix, { awsEndpointUrl: proxy.url });
    proxy.use((r) => (r.method === 'PUT' && r.path.includes('/_manifest.json') ? { status: 500, body: S3_ERROR, headers: { 'content-type': 'application/xml' } } : 'forward'));

    const [failed] = await runOnce(config, { correlationId: 'rel-s3-manifest', collections: [collection] });

    expect(failed?.outcome).toBe('failed');
    expect(proxy.seen.filter((s) => s.request.path.includes('/_manifest.json')).length).toBeGreaterThanOrEqual(1);
    // Past its commit point the run rolls forward: nothing trusted (no manifest), its parts and pending manifest kept.
    const kept = await listKeys(s3Of(config), config.outputBucket, prefix);
    expect(kept.filter((k) => k.endsWith('/_manifest.json') || k.endsWith('/_SUCCESS'))).toEqual([]);
    expect(kept.filter((k) => k.endsWith('/_manifest.pending.json'))).toHaveLength(1);
    expect(kept.filter((k) => k.endsWith('.parquet')).length).toBeGreaterThanOrEqual(1);
    expect(await openUploads(s3Of(config), config.outputBucket, prefix)).toEqual([]);
    const row = await statusOf(config).get('rel-s3-manifest', collection);
    expect(row?.status).toBe('EMR_FAILED');
    expect(row?.publishClaim).toBeDefined();

    proxy.clearRules();
    const [rerun] = await runOnce(config, { correlationId: 'rel-s3-manifest', collections: [collection] });
    expect(rerun?.outcome, rerun?.note).toBe('completed');
    expect(rerun?.note).toBe('already published');
    await expectCompleteRun(prefix, 'rel-s3-manifest');
    expect((await listKeys(s3Of(config), config.outputBucket, prefix)).filter((k) => k.endsWith('/_manifest.pending.json'))).toEqual([]);
  }, 90_000);
});
