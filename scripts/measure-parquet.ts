/**
 * Measures the output side: Parquet encoding alone, and the whole RunOutput (encode + upload) into a
 * discarding store or moto's S3. Not a test: prints figures for the notes.
 *
 *   node scripts/measure-parquet.ts encode  [--rows 200000] [--compression snappy|zstd]
 *   node scripts/measure-parquet.ts hyparquet [--rows 50000]
 *   node scripts/measure-parquet.ts sink    [--rows 1000000] [--store null|moto] [--threads 1] [--compression snappy]
 *
 * Node runs the TypeScript sources directly (type stripping); a resolve hook maps the sources' `.js`
 * import suffixes to their `.ts` files. Rows are ~1.6 KB documents from the seeder (padding trimmed).
 */
import { registerHooks } from 'node:module';
import { parseArgs } from 'node:util';
// Type-only imports are erased before resolution, so they need no hook.
import type { ObjectStore } from '../src/sink/object-store.js';
import type { ClosableRecordSink } from '../src/sink/record-sink.js';
import type { OutputRow } from '../src/step/ports.js';

registerHooks({
  resolve(specifier, context, next) {
    try {
      return next(specifier, context);
    } catch (e) {
      if (specifier.startsWith('.') && specifier.endsWith('.js')) return next(`${specifier.slice(0, -3)}.ts`, context);
      throw e;
    }
  },
});

type Row = OutputRow;
type Store = ObjectStore;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    rows: { type: 'string' },
    compression: { type: 'string', default: 'snappy' },
    threads: { type: 'string', default: '1' },
    store: { type: 'string', default: 'null' },
  },
});
const mode = positionals[0] ?? 'encode';
const compression = values.compression === 'zstd' ? 'zstd' : 'snappy';
const MB = 1024 * 1024;

const { seededRecord } = await import('../src/local/seeder/documents.js');
const { printableRowKey } = await import('../src/contracts/row-key.js');

/** ~1.6 KB documents: the seeder's, with the random padding cut so lengths spread over 1.2–2.0 KB. */
function rowPool(size: number): Row[] {
  const space = { seed: 'measure', collection: 'core:addresses', from: Date.UTC(2024, 0, 1), until: Date.UTC(2024, 0, 2) };
  return Array.from({ length: size }, (_, i) => {
    const r = seededRecord(space, i);
    const doc = JSON.parse(r.plaintext) as { padding: string };
    const rest = r.plaintext.length - doc.padding.length;
    doc.padding = doc.padding.slice(0, Math.max(0, 1200 + ((i * 7919) % 800) - rest));
    return {
      id: r.idJson, timestamp: r.timestamp, record: JSON.stringify(doc), db: 'core', collection: 'addresses',
      rowKey: printableRowKey(r.rowKey), recordType: r.recordType,
    };
  });
}

const pool = rowPool(20_000);
const avgChars = pool.reduce((s, r) => s + r.record.length, 0) / pool.length;
const baseRss = process.resourceUsage().maxRSS / 1024;
console.log(`mode=${mode} compression=${compression} avg record ${avgChars.toFixed(0)} chars; rss after row pool ${baseRss.toFixed(0)} MiB`);

function* rows(count: number, batch = 1000): Generator<Row[]> {
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    yield Array.from({ length: n }, (_, i) => pool[(start + i) % pool.length]!);
  }
}

async function measureEncode(count: number): Promise<void> {
  const { PartBuffer } = await import('../src/sink/part-buffer.js');
  const { encodeParquetPart } = await import('../src/sink/parquet-encoder-adapter.js');
  const { SINK_DEFAULTS } = await import('../src/sink/record-sink.js');
  const { wasmMemory } = await import('parquet-wasm');
  const buffer = new PartBuffer(SINK_DEFAULTS);
  let appendMs = 0, encodeMs = 0, rawBytes = 0, outBytes = 0, parts = 0;
  const encode = (): void => {
    const part = buffer.take();
    rawBytes += part.bytes;
    const started = performance.now();
    const encoded = encodeParquetPart(part, { compression });
    encodeMs += performance.now() - started;
    outBytes += encoded.bytes.byteLength;
    parts += 1;
  };
  for (const batch of rows(count)) {
    const started = performance.now();
    for (const row of batch) buffer.append(row);
    appendMs += performance.now() - started;
    if (buffer.isFull) encode();
  }
  if (buffer.rows > 0) encode();
  console.log(`encode only: ${count} rows in ${parts} parts; append ${(count / appendMs * 1000).toFixed(0)} rows/s, `
    + `encode ${(count / encodeMs * 1000).toFixed(0)} rows/s (${(rawBytes / MB / (encodeMs / 1000)).toFixed(0)} MiB/s), `
    + `together ${(count / (appendMs + encodeMs) * 1000).toFixed(0)} rows/s; `
    + `${(rawBytes / MB).toFixed(0)} MiB → ${(outBytes / MB).toFixed(0)} MiB; wasm memory ${(wasmMemory().buffer.byteLength / MB).toFixed(0)} MiB; `
    + `peak rss ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

async function measureHyparquet(count: number): Promise<void> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const data = [...rows(count, count)][0]!;
  const started = performance.now();
  const out = parquetWriteBuffer({
    columnData: [
      { name: 'id', data: data.map((r) => r.id), type: 'STRING' },
      { name: 'timestamp', data: data.map((r) => BigInt(r.timestamp)), type: 'TIMESTAMP' },
      { name: 'record', data: data.map((r) => r.record), type: 'STRING' },
      { name: 'db', data: data.map((r) => r.db), type: 'STRING' },
      { name: 'collection', data: data.map((r) => r.collection), type: 'STRING' },
      { name: 'row_key', data: data.map((r) => r.rowKey), type: 'STRING' },
      { name: 'record_type', data: data.map((r) => r.recordType), type: 'STRING' },
    ],
    rowGroupSize: 100_000,
  });
  const ms = performance.now() - started;
  console.log(`hyparquet-writer: ${count} rows ${(count / ms * 1000).toFixed(0)} rows/s, ${(out.byteLength / MB).toFixed(0)} MiB out; peak rss ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

function nullStore(): Store {
  return {
    bucket: 'null', put: async () => undefined, putIfAbsent: async () => true, get: async () => undefined, list: async () => [],
    delete: async () => undefined, abortUploads: async () => 0,
    stage: async (key) => ({ key, uploadId: 'null', parts: [] }), commitStaged: async () => undefined, abortStaged: async () => undefined,
  };
}

async function motoSink(options: { compression: 'snappy' | 'zstd'; encoderThreads: number }): Promise<{ sink: ClosableRecordSink; cleanup: () => Promise<void> }> {
  const { S3Client, CreateBucketCommand, DeleteBucketCommand } = await import('@aws-sdk/client-s3');
  const { KMSClient, CreateKeyCommand } = await import('@aws-sdk/client-kms');
  const { createS3RecordSink, createS3ObjectStore } = await import('../src/sink/s3-adapter.js');
  const aws = { endpoint: 'http://127.0.0.1:4566', region: 'eu-west-2', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };
  const s3 = new S3Client({ ...aws, forcePathStyle: true });
  const bucket = `measure-sink-${Date.now().toString(36)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: 'eu-west-2' } }));
  const key = await new KMSClient(aws).send(new CreateKeyCommand({ Description: 'measure-parquet' }));
  const sink = createS3RecordSink({ s3, bucket, kmsKeyId: key.KeyMetadata?.KeyId, ...options });
  const cleanup = async (): Promise<void> => {
    const store = createS3ObjectStore({ s3, bucket });
    await store.delete(await store.list(''));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  };
  return { sink, cleanup };
}

async function measureSink(count: number): Promise<void> {
  const { createRecordSink } = await import('../src/sink/record-sink.js');
  const { createInlineEncoder, createThreadEncoder } = await import('../src/sink/encoder-pool.js');
  const threads = Number(values.threads);
  const built = values.store === 'moto'
    ? await motoSink({ compression, encoderThreads: threads })
    : {
      sink: createRecordSink(nullStore(), threads === 0 ? createInlineEncoder({ compression }) : createThreadEncoder({ compression, threads })),
      cleanup: async () => undefined,
    };
  const started = performance.now();
  let peak = 0;
  const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 50);
  const output = await built.sink.open({
    collection: 'core:addresses', db: 'core', table: 'addresses', pii: true, correlationId: 'measure', attempt: 'measure', triggeredTime: Date.now(),
    window: { start: 0, end: Date.now() }, folder: `measure/core_addresses/${Date.now()}`,
  });
  for (const batch of rows(count)) await output.write(batch);
  const run = await output.publish({ maxTimestamp: null });
  clearInterval(sampler);
  const seconds = (performance.now() - started) / 1000;
  console.log(`sink (${values.store}, ${threads} encoder thread(s)): ${run.rows} rows, ${run.files.length} parts, `
    + `${(run.bytesOut / MB).toFixed(0)} MiB out in ${seconds.toFixed(1)} s → ${(run.rows / seconds).toFixed(0)} rows/s; `
    + `peak rss ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB (sampled ${(peak / MB).toFixed(0)} MiB)`);
  await built.sink.close();
  await built.cleanup();
}

const count = Number(values.rows ?? (mode === 'sink' ? 1_000_000 : mode === 'hyparquet' ? 50_000 : 200_000));
if (mode === 'encode') await measureEncode(count);
else if (mode === 'hyparquet') await measureHyparquet(count);
else await measureSink(count);
