import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { createInlineEncoder, type PartEncoder } from '../../src/sink/encoder-pool.js';
import { parseManifest } from '../../src/sink/manifest.js';
import { PublicationRefusedError } from '../../src/step/errors.js';
import { createRecordSink, type SinkSettings } from '../../src/sink/record-sink.js';
import type { OutputRow, QuarantinedRecord, RunTarget } from '../../src/step/ports.js';
import { MemoryStore } from '../support/memory-store.js';

/** A gate that holds every put until released (or aborted). */
function holdingGate(): { gate: MemoryStore['gate']; release: () => void; held: () => number } {
  const waiting: (() => void)[] = [];
  return {
    gate: (_key, signal) => new Promise<void>((resolve, reject) => {
      waiting.push(resolve);
      signal?.addEventListener('abort', () => reject(new Error('upload aborted')), { once: true });
    }),
    release: () => waiting.shift()?.(),
    held: () => waiting.length,
  };
}

const folder = 'incremental/core_addresses/20200805-0707';
const target: RunTarget = {
  collection: 'core:addresses', db: 'core', table: 'addresses', pii: true, correlationId: 'run-1', attempt: 'a1',
  triggeredTime: Date.UTC(2020, 7, 5, 7, 7), window: { start: 0, end: 10_000_000 }, folder,
};

const rowsOf = (count: number, from = 0): OutputRow[] => Array.from({ length: count }, (_, k) => ({
  id: `{"id":"${from + k}"}`, timestamp: 1_000_000 + from + k, record: `{"n":${from + k},"text":"Zoë ✓"}`,
  db: 'core', collection: 'addresses', rowKey: `key-${from + k}`, recordType: 'MONGO_UPDATE',
}));

const ticks = async (n = 20): Promise<void> => {
  for (let i = 0; i < n; i += 1) await new Promise((r) => setImmediate(r));
};

function setup(settings: SinkSettings = {}, encoder: PartEncoder = createInlineEncoder({ compression: 'none' })) {
  const store = new MemoryStore();
  const sink = createRecordSink(store, encoder, { partMaxRows: 10, ...settings });
  return { store, sink };
}

async function readPart(store: MemoryStore, key: string): Promise<Record<string, unknown>[]> {
  return parquetReadObjects({ file: store.objects.get(key)!.body.slice().buffer, utf8: true });
}

describe('S3RunOutput', () => {
  it('splits rows into parts of partMaxRows, in order, and lists them in the manifest', async () => {
    const { store, sink } = setup();
    const output = await sink.open(target);
    const rows = rowsOf(25);
    await output.write(rows.slice(0, 7));
    await output.write(rows.slice(7));
    const run = await output.publish({ maxTimestamp: 1_000_024 });
    expect(run.files.map((f) => [f.key.slice(folder.length), f.rows])).toEqual([
      ['/part-a1-00001.parquet', 10], ['/part-a1-00002.parquet', 10], ['/part-a1-00003.parquet', 5],
    ]);
    const read = [...await readPart(store, `${folder}/part-a1-00001.parquet`), ...await readPart(store, `${folder}/part-a1-00002.parquet`), ...await readPart(store, `${folder}/part-a1-00003.parquet`)];
    expect(read.map((r) => r.record)).toEqual(rows.map((r) => r.record));
    const manifest = parseManifest(store.text(`${folder}/_manifest.json`), 'manifest');
    expect(manifest).toMatchObject({ rows: 25, maxTimestamp: 1_000_024, correlationId: 'run-1', quarantined: 0 });
    expect(manifest.files).toEqual(run.files);
    expect(run.bytesOut).toBe(run.files.reduce((s, f) => s + f.bytes, 0));
  });

  it('writes the manifest only after every part is complete, and _SUCCESS after the manifest', async () => {
    const { store, sink } = setup();
    const output = await sink.open(target);
    await output.write(rowsOf(35));
    await output.publish({ maxTimestamp: null });
    const manifestAt = store.events.indexOf(`start ${folder}/_manifest.json`);
    const lastPartDone = Math.max(...store.events.flatMap((e, i) => (e.startsWith('done') && e.endsWith('.parquet') ? [i] : [])));
    expect(lastPartDone).toBeLessThan(manifestAt);
    expect(store.events.at(-1)).toBe(`done ${folder}/_SUCCESS`);
    expect(store.objects.get(`${folder}/_SUCCESS`)!.body.byteLength).toBe(0);
  });

  it('tags every object with pii, db and table', async () => {
    const { store, sink } = setup();
    const output = await sink.open(target);
    await output.write(rowsOf(12));
    await output.quarantine([{ rowKey: Buffer.from('k'), timestamp: 1, value: Buffer.from('x'), reason: 'bad-base64', detail: 'd' }]);
    await output.publish({ maxTimestamp: null });
    expect(store.objects.size).toBe(5);
    for (const stored of store.objects.values()) expect(stored.options.tags).toEqual({ pii: 'true', db: 'core', table: 'addresses' });
  });

  it('holds write() while maxPartsInFlight parts are uploading (back-pressure)', async () => {
    const { store, sink } = setup({ maxPartsInFlight: 2 });
    const hold = holdingGate();
    store.gate = hold.gate;
    const output = await sink.open(target);
    await output.write(rowsOf(20));
    let accepted = false;
    const third = output.write(rowsOf(10, 20)).then(() => { accepted = true; });
    await ticks();
    expect(hold.held()).toBe(2);
    expect(accepted).toBe(false);
    hold.release();
    await third;
    expect(accepted).toBe(true);
    store.gate = undefined;
    hold.release();
    await ticks();
    hold.release();
    const run = await output.publish({ maxTimestamp: null });
    expect(run.rows).toBe(30);
  });

  it('publishes a run that found nothing: a manifest with no files, then _SUCCESS', async () => {
    const { store, sink } = setup();
    const output = await sink.open(target);
    const run = await output.publish({ maxTimestamp: null });
    expect([run.rows, run.files, run.bytesOut, run.maxTimestamp]).toEqual([0, [], 0, null]);
    expect(await store.list(`${folder}/`)).toEqual([`${folder}/_SUCCESS`, `${folder}/_manifest.json`]);
  });

  it('writes quarantined records as JSON lines objects and counts them by reason in the manifest', async () => {
    const { store, sink } = setup({ quarantineMaxBytes: 200 });
    const output = await sink.open(target);
    const record = (reason: QuarantinedRecord['reason'], i: number): QuarantinedRecord => ({
      rowKey: Buffer.from(`row-${i}`), timestamp: 5000 + i, value: Buffer.from(`{"message":{"dbObject":"${'A'.repeat(100)}"}}`), reason, detail: `why ${i}`,
    });
    await output.quarantine([record('unknown-data-key', 1), record('bad-base64', 2)]);
    await output.quarantine([record('unknown-data-key', 3)]);
    await output.write(rowsOf(3));
    const run = await output.publish({ maxTimestamp: 1_000_002 });
    const manifest = parseManifest(store.text(`${folder}/_manifest.json`), 'manifest');
    expect(run.quarantined).toBe(3);
    expect(manifest.quarantinedByReason).toEqual({ 'bad-base64': 1, 'unknown-data-key': 2 });
    expect(manifest.quarantineFiles.map((f) => [f.key.slice(folder.length), f.records])).toEqual([
      ['/_quarantine/a1-00001.jsonl', 2], ['/_quarantine/a1-00002.jsonl', 1],
    ]);
    const lines = store.text(`${folder}/_quarantine/a1-00001.jsonl`).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[1]).toMatchObject({ reason: 'bad-base64', detail: 'why 2', timestamp: 5002, rowKey: Buffer.from('row-2').toString('base64') });
  });

  it('fails the run when an upload fails, and abort() removes every object it wrote', async () => {
    const { store, sink } = setup();
    store.gate = async (key) => {
      if (key.endsWith('part-a1-00003.parquet')) throw new Error('injected upload failure');
    };
    const output = await sink.open(target);
    const failure = await (async () => {
      await output.write(rowsOf(40));
      await output.publish({ maxTimestamp: null });
    })().catch((e: unknown) => e as Error);
    expect(failure).toBeInstanceOf(Error);
    expect(String((failure as Error & { cause?: unknown }).cause ?? failure)).toMatch(/injected upload failure/);
    await output.abort(failure);
    expect(await store.list(`${folder}/`)).toEqual([]);
    await expect(output.write(rowsOf(1))).rejects.toThrow(/aborted/);
  });

  it('abort() interrupts a write waiting on back-pressure and is safe to call twice', async () => {
    const { store, sink } = setup({ maxPartsInFlight: 1 });
    const hold = holdingGate();
    store.gate = hold.gate;
    const output = await sink.open(target);
    const writing = output.write(rowsOf(30));
    await ticks();
    await Promise.all([output.abort(new Error('stop')), output.abort(new Error('stop again'))]);
    await expect(writing).rejects.toThrow();
    await output.abort(new Error('third'));
    expect(store.objects.size).toBe(0);
  });

  it('refuses to publish when the encoded parts do not account for every row accepted', async () => {
    const inline = createInlineEncoder({ compression: 'none' });
    const short: PartEncoder = { encode: async (part) => ({ ...await inline.encode(part), rows: part.rows - 1 }), close: inline.close };
    const { store, sink } = setup({}, short);
    const output = await sink.open(target);
    await output.write(rowsOf(5));
    await expect(output.publish({ maxTimestamp: null })).rejects.toThrow(/row count/);
    expect(store.objects.has(`${folder}/_manifest.json`)).toBe(false);
  });

  it('ignores abort() after publish: a published run is never deleted', async () => {
    const { store, sink } = setup();
    const output = await sink.open(target);
    await output.write(rowsOf(3));
    await output.publish({ maxTimestamp: null });
    await output.abort(new Error('late'));
    expect(store.objects.has(`${folder}/_manifest.json`)).toBe(true);
  });
});

describe('RecordSink', () => {
  it('reports a published folder from its manifest, and nothing for an unpublished one', async () => {
    const { sink } = setup();
    expect(await sink.published(folder)).toBeUndefined();
    const output = await sink.open(target);
    await output.write(rowsOf(11));
    const run = await output.publish({ maxTimestamp: 1_000_010 });
    expect(await sink.published(folder)).toEqual(run);
  });

  it('removes leftovers of an unpublished attempt when a run is opened again', async () => {
    const { store, sink } = setup();
    const first = await sink.open(target);
    await first.write(rowsOf(30));
    await first.quarantine([{ rowKey: Buffer.from('k'), timestamp: 1, value: Buffer.from('x'), reason: 'bad-base64', detail: 'd' }]);
    // The first attempt crashed without abort: three parts but no manifest.
    await new Promise((r) => setTimeout(r, 50));
    expect((await store.list(`${folder}/`)).length).toBe(3);
    const second = await sink.open(target);
    expect(await store.list(`${folder}/`)).toEqual([]);
    await second.write(rowsOf(5));
    const run = await second.publish({ maxTimestamp: null });
    expect(run.files.map((f) => f.key)).toEqual([`${folder}/part-a1-00001.parquet`]);
  });

  it('refuses to open a run folder that is already published', async () => {
    const { sink } = setup();
    const output = await sink.open(target);
    await output.publish({ maxTimestamp: null });
    await expect(sink.open(target)).rejects.toThrow(/already published/);
  });

  it('rejects settings that are not positive integers', () => {
    expect(() => setup({ partMaxBytes: 0 })).toThrow(/partMaxBytes/);
    expect(() => setup({ maxPartsInFlight: 1.5 })).toThrow(/maxPartsInFlight/);
    expect(() => setup({ partMaxBytes: 1024 * 1024 * 1024 })).toThrow(/at most/);
  });
});

describe('the publication claim (the commit point between the pending manifest and the manifest)', () => {
  const refused = (): Promise<void> => Promise.reject(new PublicationRefusedError('publication refused: abandoned', {}));

  it('writes the pending manifest, then claims, then the manifest and _SUCCESS, and removes the pending manifest', async () => {
    const { store, sink } = setup();
    const seen: string[][] = [];
    const output = await sink.open(target, { claim: async () => { seen.push(await store.list(`${folder}/`)); } });
    await output.write(rowsOf(12));
    await output.publish({ maxTimestamp: 1_000_011 });
    expect(seen).toEqual([[`${folder}/_manifest.pending.json`, `${folder}/part-a1-00001.parquet`, `${folder}/part-a1-00002.parquet`]]);
    expect(await store.list(`${folder}/`)).toEqual([`${folder}/_SUCCESS`, `${folder}/_manifest.json`, `${folder}/part-a1-00001.parquet`, `${folder}/part-a1-00002.parquet`]);
  });

  it('publishes nothing when the claim is refused, and abort() removes its parts and its pending manifest', async () => {
    const { store, sink } = setup();
    const output = await sink.open(target, { claim: refused });
    await output.write(rowsOf(12));
    const failure = await output.publish({ maxTimestamp: null }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PublicationRefusedError);
    await output.abort(failure);
    expect(await store.list(`${folder}/`)).toEqual([]);
  });

  it('keeps everything when the claim may have succeeded (its answer lost), and a settle step publishes it from the pending manifest', async () => {
    const { store, sink } = setup();
    const output = await sink.open(target, { claim: () => Promise.reject(new Error('socket hang up')) });
    await output.write(rowsOf(12));
    const failure = await output.publish({ maxTimestamp: 1_000_011 }).catch((e: unknown) => e);
    await output.abort(failure);
    expect(await sink.published(folder)).toBeUndefined();
    expect(await store.list(`${folder}/`)).toContain(`${folder}/_manifest.pending.json`);
    const published = await sink.publishPending(folder, { name: 'core:addresses', db: 'core', table: 'addresses', pii: true });
    expect(published).toMatchObject({ rows: 12, attempt: 'a1', correlationId: 'run-1', maxTimestamp: 1_000_011 });
    expect(await store.list(`${folder}/`)).toEqual([`${folder}/_SUCCESS`, `${folder}/_manifest.json`, `${folder}/part-a1-00001.parquet`, `${folder}/part-a1-00002.parquet`]);
    expect(await sink.publishPending(folder, { name: 'core:addresses', db: 'core', table: 'addresses', pii: true })).toBeUndefined();
  });

  it('counts its own manifest as written when a settle step wrote it from the pending manifest first', async () => {
    const { store, sink } = setup();
    const collection = { name: 'core:addresses', db: 'core', table: 'addresses', pii: true };
    // The runner stalls right after its claim; another runner's settle step finishes its publication meanwhile.
    const output = await sink.open(target, { claim: async () => { await sink.publishPending(folder, collection); } });
    await output.write(rowsOf(12));
    const run = await output.publish({ maxTimestamp: 1_000_011 });
    expect(run.rows).toBe(12);
    await output.abort(new Error('late abort'));
    expect(await store.list(`${folder}/`)).toEqual([`${folder}/_SUCCESS`, `${folder}/_manifest.json`, `${folder}/part-a1-00001.parquet`, `${folder}/part-a1-00002.parquet`]);
  });
});

describe('abort() of one attempt beside another of the same run', () => {
  it('aborts only its own uploads: the other attempt\'s stay, under the same folder', async () => {
    const { store, sink } = setup();
    // Another attempt of this run (the runner that took the collection over) has uploads in flight here.
    const other = await store.stage(`${folder}/part-b2-00001.parquet`, new Uint8Array([1]), { contentType: 'x', tags: {} });
    const otherQuarantine = await store.stage(`${folder}/_quarantine/b2-00001.jsonl`, new Uint8Array([1]), { contentType: 'x', tags: {} });
    const mine = await store.stage(`${folder}/part-a1-00009.parquet`, new Uint8Array([1]), { contentType: 'x', tags: {} });
    const output = await sink.open(target);
    // open() cleared the folder's leftovers: stage the other attempt's uploads again, as it goes on writing.
    for (const ref of [other, otherQuarantine, mine]) await store.stage(ref.key, new Uint8Array([1]), { contentType: 'x', tags: {} });
    await output.write(rowsOf(3));
    await output.abort(new Error('claim refused'));
    expect(store.uploadKeys(`${folder}/`)).toEqual([`${folder}/_quarantine/b2-00001.jsonl`, `${folder}/part-b2-00001.parquet`]);
  });
});
