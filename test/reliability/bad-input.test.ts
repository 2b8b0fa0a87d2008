import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QuarantineLine } from '../../src/sink/quarantine-buffer.js';
import { getObject, publishedFolders } from '../support/published-output.js';
import { seedLocal, uniqueCollection } from '../support/local-stack.js';
import { badCorpus, type CorpusEntry } from './support/bad-corpus.js';
import { putCells } from './support/hbase-cells.js';
import { configFor, dropTable, expectedRows, forgetStatus, FROM, runOnce, s3Of, space, statusOf, uniquePrefix } from './support/stack.js';

/**
 * Issue 6 "bad input": a corpus of broken and hostile records written into HBase among good ones. Each bad
 * record is quarantined (still encrypted, byte for byte) with its specific reason; nothing crashes; the counts
 * are exact; the good records around them are published intact.
 */
const collection = uniqueCollection('relbad');
const GOOD = 120;
const corpus: CorpusEntry[] = badCorpus(collection, FROM + 5_000);
const quarantinedEntries = corpus.filter((e) => e.verdict !== 'published' && e.verdict !== 'outside-window');
const publishedEntries = corpus.filter((e) => e.verdict === 'published');

beforeAll(async () => {
  await seedLocal({ collection, space: space(collection), records: GOOD, keys: 2, regions: 2 });
  await putCells(collection, corpus.map((e) => e.cell));
}, 120_000);

afterAll(async () => {
  await dropTable(collection);
});

describe('a corpus of bad records among good ones', () => {
  it('holds at least 30 records that must be quarantined, each for a stated reason', () => {
    expect(quarantinedEntries.length).toBeGreaterThanOrEqual(30);
    expect(new Set(corpus.map((e) => e.cell.rowKey.toString('hex'))).size).toBe(corpus.length);
  });

  it('quarantines each bad record with its specific reason, publishes every good one intact, with exact counts', async () => {
    const prefix = uniquePrefix('bad-input');
    const config = configFor(prefix);
    const s3 = s3Of(config);

    const [summary] = await runOnce(config, { correlationId: 'rel-bad-input', collections: [collection] });

    expect(summary?.outcome, summary?.note).toBe('completed');
    expect(summary?.quarantined).toBe(quarantinedEntries.length);
    expect(summary?.records).toBe(expectedRows(collection, GOOD).size + publishedEntries.length);
    const [folder, ...others] = await publishedFolders(s3, config.outputBucket, prefix);
    expect(others).toEqual([]);
    // Each bad record is in a quarantine object with its reason, its value exactly as it was in HBase.
    const lines: QuarantineLine[] = [];
    for (const file of folder!.manifest.quarantineFiles) {
      const text = (await getObject(s3, config.outputBucket, file.key)).toString('utf8');
      lines.push(...text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as QuarantineLine));
    }
    expect(lines).toHaveLength(quarantinedEntries.length);
    const byRowKey = new Map(lines.map((l) => [l.rowKey, l]));
    const mismatches = quarantinedEntries
      .map((e) => ({ name: e.name, expected: e.verdict, line: byRowKey.get(e.cell.rowKey.toString('base64')) }))
      .filter(({ expected, line }) => line?.reason !== expected)
      .map(({ name, expected, line }) => `${name}: expected ${expected}, got ${line?.reason ?? 'not quarantined'}`);
    expect(mismatches).toEqual([]);
    const byReason: Record<string, number> = {};
    for (const e of quarantinedEntries) byReason[e.verdict] = (byReason[e.verdict] ?? 0) + 1;
    expect(folder!.manifest.quarantinedByReason).toEqual(byReason);

    for (const e of quarantinedEntries) {
      const line = byRowKey.get(e.cell.rowKey.toString('base64'))!;
      expect(line.value, e.name).toBe(e.cell.value.toString('base64'));
      expect(line.timestamp, e.name).toBe(e.cell.timestamp);
      expect(line.detail.length, e.name).toBeGreaterThan(0);
    }

    // Good records, the seeded ones and the unusual but valid ones, are published with their exact text.
    const rows = new Map(folder!.rows.map((r) => [r.id as string, r.record as string]));
    for (const [id, expected] of expectedRows(collection, GOOD)) expect(rows.get(id), id).toBe(expected.record);
    for (const e of publishedEntries) expect(rows.get(e.cell.rowKey.subarray(4).toString('utf8')) === e.plaintext, e.name).toBe(true);

    // A record stamped in 2200 is outside this window: neither published nor quarantined, and the watermark
    // stops at the newest record the window held, not in the future.
    const future = corpus.find((e) => e.verdict === 'outside-window')!;
    expect(rows.has(future.cell.rowKey.subarray(4).toString('utf8'))).toBe(false);
    expect(byRowKey.has(future.cell.rowKey.toString('base64'))).toBe(false);
    const inWindow = [...[...expectedRows(collection, GOOD).values()].map((r) => r.timestamp), ...corpus.filter((e) => e !== future).map((e) => e.cell.timestamp)];
    expect(await statusOf(config).lastCompletedEnd(collection)).toBe(Math.max(...inWindow));
  }, 120_000);

  it('fails the collection, publishing nothing, once quarantined records pass the configured limit', async () => {
    const prefix = uniquePrefix('bad-limit');
    const config = configFor(prefix);
    await forgetStatus(config, collection);
    const [summary] = await runOnce(config, { correlationId: 'rel-bad-limit', collections: [collection], maxQuarantined: 5 });
    expect(summary?.outcome).toBe('failed');
    expect(summary?.note).toMatch(/more than 5 records quarantined/);
    expect(await publishedFolders(s3Of(config), config.outputBucket, prefix)).toEqual([]);
    expect((await statusOf(config).get('rel-bad-limit', collection))?.status).toBe('EMR_FAILED');
  });
});
