import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { createInlineEncoder } from '../../src/sink/encoder-pool.js';
import { parseManifest } from '../../src/sink/manifest.js';
import { createRecordSink } from '../../src/sink/record-sink.js';
import { AlreadyPublishedError, PublicationRefusedError } from '../../src/step/errors.js';
import type { OutputRow, QuarantinedRecord, RunTarget, SealedTaskOutput } from '../../src/step/ports.js';
import { MemoryStore } from '../support/memory-store.js';

/** Spark task attempts' staged outputs and the step's commit of the winners (DESIGN.md §3.8), in memory. */
const folder = 'incremental/core_addresses/20200805-0707_run-1';
const run: RunTarget = {
  collection: 'core:addresses', db: 'core', table: 'addresses', pii: true, correlationId: 'run-1', attempt: 'step-a1',
  triggeredTime: Date.UTC(2020, 7, 5, 7, 7), window: { start: 0, end: 10_000_000 }, folder,
};
/** Task attempt tokens as `attemptToken` makes them: two attempts of range 0, one of range 1. */
const R0A0 = 'step-a1-r00000-a0-t3';
const R0A1 = 'step-a1-r00000-a1-t9';
const R1A0 = 'step-a1-r00001-a0-t4';
const task = (attempt: string): RunTarget => ({ ...run, attempt });

const rowsOf = (count: number, from = 0): OutputRow[] => Array.from({ length: count }, (_, k) => ({
  id: `{"id":"${from + k}"}`, timestamp: 1_000_000 + from + k, record: `{"n":${from + k}}`,
  db: 'core', collection: 'addresses', rowKey: `key-${from + k}`, recordType: 'MONGO_UPDATE',
}));

const quarantined = (i: number, reason: QuarantinedRecord['reason'] = 'bad-base64'): QuarantinedRecord => ({
  rowKey: Buffer.from(`row-${i}`), timestamp: 5000 + i, value: Buffer.from(`{"bad":${i}}`), reason, detail: `why ${i}`,
});

function setup() {
  const store = new MemoryStore();
  const sink = createRecordSink(store, createInlineEncoder({ compression: 'none' }), { partMaxRows: 10 });
  return { store, sink };
}

/** One task attempt: writes `rows` rows from `from` and the quarantined records, then seals. */
async function stageAttempt(sink: ReturnType<typeof setup>['sink'], attempt: string, rows: number, from: number, bad: QuarantinedRecord[] = []): Promise<SealedTaskOutput> {
  const output = await sink.openTask(task(attempt));
  await output.write(rowsOf(rows, from));
  if (bad.length > 0) await output.quarantine(bad);
  return output.seal();
}

describe('staged task outputs', () => {
  it('stages parts as uploads nobody can list or read until the step commits them', async () => {
    const { store, sink } = setup();
    const sealed = await stageAttempt(sink, R0A0, 25, 0, [quarantined(1)]);
    expect(sealed.files.map((f) => [f.key.slice(folder.length), f.rows])).toEqual([
      [`/part-${R0A0}-00001.parquet`, 10], [`/part-${R0A0}-00002.parquet`, 10], [`/part-${R0A0}-00003.parquet`, 5],
    ]);
    expect(sealed.quarantineFiles.map((f) => [f.key.slice(folder.length), f.records])).toEqual([[`/_quarantine/${R0A0}-00001.jsonl`, 1]]);
    expect(sealed.quarantinedByReason).toEqual({ 'bad-base64': 1 });
    for (const f of [...sealed.files, ...sealed.quarantineFiles]) {
      expect(f.uploadId).toMatch(/^upload-/);
      expect(f.parts.length).toBeGreaterThan(0);
      expect(f.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
    // A plain JSON value: it travels from the worker to the step in the task result.
    expect(JSON.parse(JSON.stringify(sealed))).toEqual(sealed);
    expect(await store.list(`${folder}/`)).toEqual([]);
    expect(await store.get(sealed.files[0]!.key)).toBeUndefined();
    expect(store.uploadKeys(`${folder}/`)).toHaveLength(4);
  });

  it('commit keeps exactly the winners: their parts, the manifest and _SUCCESS; no uploads left', async () => {
    const { store, sink } = setup();
    const loser = await stageAttempt(sink, R0A0, 15, 0, [quarantined(1)]);
    const winner0 = await stageAttempt(sink, R0A1, 15, 0, [quarantined(1, 'unknown-data-key'), quarantined(2)]);
    const winner1 = await stageAttempt(sink, R1A0, 12, 15);
    expect(loser.files.length + winner0.files.length + winner1.files.length).toBe(6);

    const published = await sink.commit(run, [winner0, winner1], { maxTimestamp: 1_000_026 });

    const winnerKeys = [...winner0.files, ...winner1.files].map((f) => f.key);
    const winnerQuarantine = winner0.quarantineFiles.map((f) => f.key);
    expect(await store.list(`${folder}/`)).toEqual([...winnerKeys, ...winnerQuarantine, `${folder}/_SUCCESS`, `${folder}/_manifest.json`].sort());
    expect(store.uploadKeys()).toEqual([]);

    const manifest = parseManifest(store.text(`${folder}/_manifest.json`), 'manifest');
    expect(manifest.files.map((f) => f.key)).toEqual([...winnerKeys].sort());
    expect(manifest.files.map((f) => f.rows).sort()).toEqual([10, 10, 2, 5].sort());
    expect(manifest.rows).toBe(27);
    expect(manifest.quarantineFiles.map((f) => f.key)).toEqual(winnerQuarantine);
    expect(manifest.quarantined).toBe(2);
    expect(manifest.quarantinedByReason).toEqual({ 'bad-base64': 1, 'unknown-data-key': 1 });
    expect(manifest).toMatchObject({ attempt: 'step-a1', correlationId: 'run-1', maxTimestamp: 1_000_026, folder });
    expect(manifest.bytesOut).toBe([...winner0.files, ...winner1.files].reduce((s, f) => s + f.bytes, 0));
    expect(published).toMatchObject({ rows: 27, quarantined: 2, attempt: 'step-a1', maxTimestamp: 1_000_026 });
    expect(published.files).toEqual(manifest.files);

    // The committed parts are the winners' bytes: rows 0..26, each once.
    const read = await Promise.all([...manifest.files].map(async (f) =>
      parquetReadObjects({ file: (await store.get(f.key))!.slice().buffer, utf8: true })));
    expect(read.flat().map((r) => r.record).sort()).toEqual(rowsOf(27).map((r) => r.record).sort());
    expect(store.events.indexOf(`start ${folder}/_manifest.json`)).toBeGreaterThan(Math.max(...winnerKeys.map((k) => store.events.indexOf(`commit ${k}`))));
    expect(store.events.at(-1)).toBe(`done ${folder}/_SUCCESS`);
  });

  it('commit deletes a stray object in the folder that is not a winner\'s', async () => {
    const { store, sink } = setup();
    const winner = await stageAttempt(sink, R0A0, 3, 0);
    const stray = `${folder}/part-step-a0-r00000-a0-t1-00001.parquet`;
    await store.put(stray, new Uint8Array([1, 2, 3]), { contentType: 'application/vnd.apache.parquet', tags: {} });
    await store.put(`${folder}/_quarantine/old-00001.jsonl`, new Uint8Array([4]), { contentType: 'application/x-ndjson', tags: {} });
    await sink.commit(run, [winner], { maxTimestamp: null });
    expect(await store.list(`${folder}/`)).toEqual([winner.files[0]!.key, `${folder}/_SUCCESS`, `${folder}/_manifest.json`].sort());
    expect(store.events).toContain(`delete ${stray}`);
  });

  it('commit touches nothing outside the run folder', async () => {
    const { store, sink } = setup();
    const neighbour = `${folder}-other/part-x-00001.parquet`;
    await store.put(neighbour, new Uint8Array([1]), { contentType: 'application/vnd.apache.parquet', tags: {} });
    const elsewhere = await createRecordSink(store, createInlineEncoder({ compression: 'none' })).openTask({ ...task(R0A0), folder: `${folder}-other` });
    await elsewhere.write(rowsOf(1));
    await elsewhere.seal();
    const winner = await stageAttempt(sink, R0A0, 3, 0);
    await sink.commit(run, [winner], { maxTimestamp: null });
    expect(await store.list(`${folder}-other/`)).toEqual([neighbour]);
    expect(store.uploadKeys()).toEqual([`${folder}-other/part-${R0A0}-00001.parquet`]);
  });

  it('abort() of a staged task output aborts only its own uploads', async () => {
    const { store, sink } = setup();
    const other = await stageAttempt(sink, R0A0, 12, 0, [quarantined(1)]);
    const mine = await sink.openTask(task(R0A1));
    await mine.write(rowsOf(25));
    await mine.quarantine([quarantined(2)]);
    // Let the first parts of this attempt reach the store before it is aborted.
    await new Promise((r) => setTimeout(r, 20));
    expect(store.uploadKeys(`${folder}/part-${R0A1}`).length).toBeGreaterThan(0);
    await mine.abort(new Error('task killed'));
    await mine.abort(new Error('again'));
    expect(store.uploadKeys(`${folder}/`)).toEqual([...other.files, ...other.quarantineFiles].map((f) => f.key).sort());
    expect(await store.list(`${folder}/`)).toEqual([]);
    await expect(mine.seal()).rejects.toThrow(/aborted/);
    // The other attempt can still win.
    await sink.commit(run, [other], { maxTimestamp: null });
    expect((await sink.published(folder))?.rows).toBe(12);
  });

  it('abort() after seal() aborts that attempt\'s staged objects', async () => {
    const { store, sink } = setup();
    const output = await sink.openTask(task(R0A0));
    await output.write(rowsOf(11));
    await output.seal();
    expect(store.uploadKeys()).toHaveLength(2);
    await output.abort(new Error('lost the race'));
    expect(store.uploadKeys()).toEqual([]);
  });

  it('refuses seal() on a run output and publish() on a staged task output', async () => {
    const { store, sink } = setup();
    const runOutput = await sink.open(run);
    await runOutput.write(rowsOf(2));
    await expect((runOutput as unknown as { seal(): Promise<SealedTaskOutput> }).seal()).rejects.toThrow(/seal\(\) is for staged task outputs/);
    const taskOutput = await sink.openTask(task(R0A0));
    await taskOutput.write(rowsOf(2));
    await expect((taskOutput as unknown as { publish(s: { maxTimestamp: null }): Promise<unknown> }).publish({ maxTimestamp: null })).rejects.toThrow(/staged task output is sealed/);
    expect(await store.list(`${folder}/`)).toEqual([]);
    expect(store.objects.has(`${folder}/_manifest.json`)).toBe(false);
  });

  it('commit refuses a folder that already holds a manifest (AlreadyPublishedError)', async () => {
    const { sink } = setup();
    const first = await stageAttempt(sink, R0A0, 5, 0);
    const published = await sink.commit(run, [first], { maxTimestamp: null });
    const late = await stageAttempt(sink, R0A1, 5, 0);
    await expect(sink.commit({ ...run, attempt: 'step-a2' }, [late], { maxTimestamp: null })).rejects.toBeInstanceOf(AlreadyPublishedError);
    expect(await sink.published(folder)).toEqual(published);
  });

  // Regression: commit once completed the late winners' parts before it looked for a manifest, leaving
  // parts in a published folder that its manifest does not list.
  it('commit into an already-published folder leaves that folder as it was', async () => {
    const { store, sink } = setup();
    const first = await stageAttempt(sink, R0A0, 5, 0);
    await sink.commit(run, [first], { maxTimestamp: null });
    const before = await store.list(`${folder}/`);
    const late = await stageAttempt(sink, R0A1, 5, 0);
    await expect(sink.commit({ ...run, attempt: 'step-a2' }, [late], { maxTimestamp: null })).rejects.toBeInstanceOf(AlreadyPublishedError);
    expect(await store.list(`${folder}/`)).toEqual(before);
  });

  it('commit of winners with no files publishes an empty manifest', async () => {
    const { store, sink } = setup();
    const empty = await stageAttempt(sink, R0A0, 0, 0);
    expect(empty).toEqual({ files: [], quarantineFiles: [], quarantinedByReason: {} });
    const published = await sink.commit(run, [empty], { maxTimestamp: null });
    expect([published.rows, published.files, published.quarantined]).toEqual([0, [], 0]);
    expect(await store.list(`${folder}/`)).toEqual([`${folder}/_SUCCESS`, `${folder}/_manifest.json`]);
  });
});

describe('the commit point of a Spark commit', () => {
  it('a refused claim removes only this commit\'s objects, and publishes nothing', async () => {
    const { store, sink } = setup();
    const winner = await stageAttempt(sink, R0A1, 15, 0);
    await store.put(`${folder}-other/part-x-00001.parquet`, new Uint8Array([1]), { contentType: 'x', tags: {} });
    const failure = await sink.commit(run, [winner], { maxTimestamp: null }, { claim: () => Promise.reject(new PublicationRefusedError('refused', {})) }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(PublicationRefusedError);
    expect(await store.list(`${folder}/`)).toEqual([]);
    expect(await store.list(`${folder}-other/`)).toEqual([`${folder}-other/part-x-00001.parquet`]);
  });

  it('claims after the winners are committed and the pending manifest is written, before the manifest', async () => {
    const { store, sink } = setup();
    const winner = await stageAttempt(sink, R0A1, 15, 0);
    let atClaim: string[] = [];
    await sink.commit(run, [winner], { maxTimestamp: null }, { claim: async () => { atClaim = await store.list(`${folder}/`); } });
    expect(atClaim).toEqual([...winner.files.map((f) => f.key), `${folder}/_manifest.pending.json`].sort());
    expect(await store.list(`${folder}/`)).toEqual([...winner.files.map((f) => f.key), `${folder}/_SUCCESS`, `${folder}/_manifest.json`].sort());
  });
});
