import { describe, expect, it } from 'vitest';
import { buildManifest, manifestKeyOf, parseManifest, publishedRunOf, type ManifestInput } from '../../src/sink/manifest.js';
import { QuarantineBuffer, quarantineLine } from '../../src/sink/quarantine-buffer.js';
import type { QuarantinedRecord, RunTarget } from '../../src/step/ports.js';

const target: RunTarget = {
  collection: 'core:addresses', db: 'core', table: 'addresses', pii: true, correlationId: 'run-42', attempt: 'a1',
  triggeredTime: Date.UTC(2020, 7, 5, 7, 7), window: { start: 1000, end: 2000 }, folder: 'incremental/core_addresses/20200805-0707',
};
const sha = (c: string): string => c.repeat(64);

const input = (overrides: Partial<ManifestInput> = {}): ManifestInput => ({
  target,
  maxTimestamp: 1999,
  files: [
    { key: `${target.folder}/part-a1-00002.parquet`, rows: 5, bytes: 500, sha256: sha('b') },
    { key: `${target.folder}/part-a1-00001.parquet`, rows: 7, bytes: 700, sha256: sha('a') },
  ],
  quarantineFiles: [{ key: `${target.folder}/_quarantine/a1-00001.jsonl`, records: 3, bytes: 90, sha256: sha('c') }],
  quarantinedByReason: new Map([['unknown-data-key', 2], ['bad-base64', 1]]),
  writtenAt: Date.UTC(2020, 7, 5, 8, 0),
  ...overrides,
});

const quarantined = (reason: QuarantinedRecord['reason'], n: number): QuarantinedRecord => ({
  rowKey: Buffer.from([0, 1, 2, n]), timestamp: 1500 + n, value: Buffer.from(`{"broken":${n}`), reason, detail: `detail ${n}`,
});

describe('manifest', () => {
  it('describes the run: window, correlation id, collection, totals, files sorted by key and schema', () => {
    const manifest = buildManifest(input());
    expect(manifest).toMatchObject({
      schemaVersion: 1, collection: 'core:addresses', db: 'core', table: 'addresses', correlationId: 'run-42',
      triggeredTime: target.triggeredTime, window: { start: 1000, end: 2000 }, maxTimestamp: 1999, folder: target.folder,
      format: 'parquet', rows: 12, bytesOut: 1200, quarantined: 3, writtenAt: '2020-08-05T08:00:00.000Z',
    });
    expect(manifest.files.map((f) => f.key)).toEqual([`${target.folder}/part-a1-00001.parquet`, `${target.folder}/part-a1-00002.parquet`]);
    expect(manifest.columns.find((c) => c.name === 'timestamp')?.type).toBe('timestamp(millis, UTC)');
  });

  it('counts quarantined records by reason, in a stable order', () => {
    const manifest = buildManifest(input());
    expect(Object.entries(manifest.quarantinedByReason)).toEqual([['bad-base64', 1], ['unknown-data-key', 2]]);
  });

  it('refuses counts by reason that disagree with the quarantine objects', () => {
    expect(() => buildManifest(input({ quarantinedByReason: new Map([['bad-base64', 4]]) }))).toThrow(/quarantine counts/);
  });

  it('describes a run that found nothing as a completed run with no files', () => {
    const manifest = buildManifest(input({ files: [], quarantineFiles: [], quarantinedByReason: new Map(), maxTimestamp: null }));
    expect([manifest.rows, manifest.bytesOut, manifest.files, manifest.maxTimestamp]).toEqual([0, 0, [], null]);
  });

  it('reads back as the published run it describes', () => {
    const manifest = buildManifest(input());
    const key = manifestKeyOf(target.folder);
    const published = publishedRunOf(parseManifest(JSON.stringify(manifest), key));
    expect(published).toEqual({
      folder: target.folder, correlationId: 'run-42', attempt: 'a1', collection: 'core:addresses', window: { start: 1000, end: 2000 }, maxTimestamp: 1999,
      manifestKey: `${target.folder}/_manifest.json`, files: manifest.files, rows: 12, quarantined: 3, bytesOut: 1200,
    });
  });

  it('rejects a manifest that is not JSON, of another version, or whose rows disagree with its files', () => {
    const good = buildManifest(input());
    expect(() => parseManifest('{"schemaVersion":1', 'k')).toThrow(/not JSON/);
    expect(() => parseManifest(JSON.stringify({ ...good, schemaVersion: 2 }), 'k')).toThrow(/malformed/);
    expect(() => parseManifest(JSON.stringify({ ...good, rows: 13 }), 'k')).toThrow(/disagree/);
    expect(() => parseManifest(JSON.stringify({ ...good, files: [{ key: 'x', rows: 1, bytes: 1, sha256: 'nope' }] }), 'k')).toThrow(/malformed/);
    expect(() => parseManifest(JSON.stringify({ ...good, window: null }), 'k')).toThrow(/malformed/);
  });
});

describe('QuarantineBuffer', () => {
  it('keeps each record still encrypted, byte for byte, as one JSON line', () => {
    const record = quarantined('malformed-envelope', 9);
    const line = JSON.parse(quarantineLine(record)) as Record<string, unknown>;
    expect(line).toEqual({ rowKey: 'AAECCQ==', timestamp: 1509, reason: 'malformed-envelope', detail: 'detail 9', value: record.value.toString('base64') });
    expect(Buffer.from(line.value as string, 'base64').equals(record.value)).toBe(true);
  });

  it('counts by reason across takes and hands over newline-terminated lines', () => {
    const buffer = new QuarantineBuffer();
    buffer.add(quarantined('bad-base64', 1));
    buffer.add(quarantined('unknown-data-key', 2));
    const first = buffer.take();
    buffer.add(quarantined('bad-base64', 3));
    expect(first.records).toBe(2);
    expect(first.body.toString('utf8').split('\n')).toHaveLength(3);
    expect(buffer.records).toBe(1);
    expect([...buffer.byReason]).toEqual([['bad-base64', 2], ['unknown-data-key', 1]]);
  });
});
