/**
 * `make bench-compression`: Snappy against ZSTD on realistic documents, for the Parquet codec default
 * (BENCHMARKS.md, "Parquet compression"). Two datasets of 20 000 rows each, one 16 MiB-or-less part at a time
 * as the sink writes them:
 *   - `seeder`: the local seeder's documents (what the tests and the demo publish);
 *   - `mongo`: Mongo extended-JSON documents shaped like a contract collection, with nested arrays of objects
 *     that repeat the same field names (people, addresses, payment history), which is where ZSTD's window helps.
 * The sink's own writer offers ZSTD at level 1 (and no compression, for tests); Snappy and ZSTD levels 1–3 are
 * measured with pyarrow (bench/compression_levels.py) on the same rows. Every file is then read back by DuckDB
 * (count and a checksum of the record column) and by pyarrow, so a codec no reader takes would show here.
 *
 *   node --import ./bench/resolve-ts.ts bench/compression.ts [--rows 20000] [--repeat 5]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { seededRecords } from '../src/local/seeder/documents.js';
import { Random } from '../src/local/seeder/random.js';
import { encodeParquetPart, type ParquetCompression } from '../src/sink/parquet-encoder-adapter.js';
import { PartBuffer } from '../src/sink/part-buffer.js';
import type { OutputRow } from '../src/step/ports.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '20000' }, repeat: { type: 'string', default: '5' } } });
const ROWS = Number(values.rows);
const REPEAT = Number(values.repeat);

function mongoDocument(random: Random, i: number): { id: string; timestamp: number; record: string } {
  const date = (ms: number) => ({ $date: new Date(ms).toISOString() });
  const base = Date.UTC(2025, 0, 1) + random.int(0, 59 * 86_400_000);
  const contractId = `${random.int(0, 0xffffffff).toString(16).padStart(8, '0')}-${i.toString(16).padStart(4, '0')}-4a1b-8c2d-${random.int(0, 0xffffff).toString(16).padStart(12, '0')}`;
  const people = Array.from({ length: random.int(1, 3) }, (_, p) => ({
    personId: `${contractId}-p${p}`,
    firstName: random.pick(['Zoë', 'José', 'Siân', 'Aoife', 'Björn', 'Dafydd', 'Ngozi']),
    lastName: random.pick(['Müller', 'O’Brien', 'García', 'Nowak', 'Jones', 'Evans']),
    dateOfBirth: date(Date.UTC(1950 + random.int(0, 50), random.int(0, 11), random.int(1, 28))),
    nationalInsuranceNumber: `QQ${random.int(100000, 999999)}C`,
    contactPreferences: { preferredLanguage: random.pick(['ENGLISH', 'WELSH']), preferredChannel: random.pick(['POST', 'EMAIL', 'PHONE']) },
    addresses: Array.from({ length: random.int(1, 2) }, () => ({
      addressLine1: `${random.int(1, 200)} ${random.pick(['High Street', 'Heol y Frenhines', 'Kings Road'])}`,
      townOrCity: random.pick(['Caerdydd', 'Leeds', 'Newcastle upon Tyne']),
      postcode: `CF${random.int(1, 99)} ${random.int(1, 9)}AB`,
      addressType: random.pick(['RESIDENTIAL', 'CORRESPONDENCE']),
      validFrom: date(base - random.int(0, 2000) * 86_400_000),
    })),
  }));
  const payments = Array.from({ length: random.int(4, 16) }, (_, k) => ({
    paymentDate: date(base - k * 14 * 86_400_000),
    amount: { $numberDecimal: (random.int(1000, 90000) / 100).toFixed(2) },
    paymentStatus: random.pick(['PAID', 'PENDING', 'REISSUED']),
    paymentMethod: 'BANK_TRANSFER',
  }));
  const document = {
    _id: { contractId },
    _lastModifiedDateTime: date(base),
    contractStatus: random.pick(['ACTIVE', 'CLOSED', 'SUSPENDED']),
    claimType: 'UNIVERSAL_CREDIT',
    people,
    paymentHistory: payments,
    _version: random.int(1, 40),
  };
  return { id: JSON.stringify({ contractId }), timestamp: base, record: JSON.stringify(document) };
}

function datasets(): Record<string, OutputRow[]> {
  const row = (d: { id: string; timestamp: number; record: string }, db: string, collection: string): OutputRow =>
    ({ ...d, db, collection, rowKey: `0a1b2c3d${d.id}`, recordType: 'MONGO_UPDATE' });
  const space = { seed: 'bench-compression', collection: 'core:contract', from: Date.UTC(2025, 0, 1), until: Date.UTC(2025, 2, 1) };
  const seeder = [...seededRecords(space, ROWS)].map((r) => row({ id: r.idJson, timestamp: r.timestamp, record: r.plaintext }, 'core', 'contract'));
  const random = new Random('bench-compression-mongo');
  const mongo = Array.from({ length: ROWS }, (_, i) => row(mongoDocument(random, i), 'core', 'contract'));
  return { seeder, mongo };
}

function partOf(rows: readonly OutputRow[]) {
  const buffer = new PartBuffer({ partMaxRows: rows.length, partMaxBytes: 1 << 30 });
  for (const r of rows) buffer.append(r);
  return buffer.take();
}

const cpuMs = (f: () => void): number => {
  const start = process.cpuUsage();
  f();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Figure { dataset: string; codec: string; encoder: string; rawMiB: number; bytes: number; ratio: number; cpuMsPerMiB: number; duckdbRows: number; pyarrowRows: number }

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-compression-'));
  const figures: Figure[] = [];
  const duck = await (await DuckDBInstance.create(':memory:')).connect();
  const python = resolve('.tools/py/bin/python');
  try {
    for (const [name, rows] of Object.entries(datasets())) {
      const rawBytes = rows.reduce((s, r) => s + Buffer.byteLength(r.record) + Buffer.byteLength(r.id) + Buffer.byteLength(r.rowKey) + 30, 0);
      const rawMiB = rawBytes / (1 << 20);
      const files: { codec: string; encoder: string; path: string; cpu: number }[] = [];
      for (const codec of ['none', 'zstd'] as ParquetCompression[]) {
        const samples: number[] = [];
        let bytes: Uint8Array = new Uint8Array();
        for (let i = 0; i < REPEAT; i += 1) {
          const part = partOf(rows);
          samples.push(cpuMs(() => { bytes = encodeParquetPart(part, { compression: codec }).bytes; }));
        }
        const path = join(dir, `${name}-sink-${codec}.parquet`);
        writeFileSync(path, bytes);
        files.push({ codec: codec === 'zstd' ? 'zstd (level 1)' : 'none', encoder: 'the sink\'s writer', path, cpu: median(samples) });
      }
      // pyarrow rewrites the same rows at each level and reports its own CPU time per encode.
      const levels = JSON.parse(execFileSync(python, [resolve('bench/compression_levels.py'), files[0]!.path, dir, name, String(REPEAT)], { encoding: 'utf8' })) as { codec: string; path: string; cpuMs: number }[];
      for (const l of levels) files.push({ codec: l.codec, encoder: 'pyarrow', path: l.path, cpu: l.cpuMs });
      for (const f of files) {
        const duckRows = Number((await duck.runAndReadAll(`SELECT count(*) AS n, sum(length(record)) AS c FROM read_parquet('${f.path}')`)).getRowObjects()[0]!.n);
        const pyRows = Number(execFileSync(python, ['-c', 'import sys, pyarrow.parquet as pq; print(pq.read_table(sys.argv[1]).num_rows)', f.path], { encoding: 'utf8' }).trim());
        const bytes = Number(execFileSync('stat', ['-c', '%s', f.path], { encoding: 'utf8' }).trim());
        figures.push({ dataset: name, codec: f.codec, encoder: f.encoder, rawMiB, bytes, ratio: rawBytes / bytes, cpuMsPerMiB: f.cpu / rawMiB, duckdbRows: duckRows, pyarrowRows: pyRows });
      }
    }
  } finally {
    duck.closeSync();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`${ROWS} rows per dataset, CPU = median of ${REPEAT} encodes of one part (Arrow + Parquet + footer check for the sink's encoder)\n`);
  console.log('| dataset | codec | encoder | raw MiB | Parquet KiB | ratio | encode CPU ms/MiB | read back by DuckDB / pyarrow |');
  console.log('|---|---|---|---:|---:|---:|---:|---|');
  for (const f of figures) {
    const ok = f.duckdbRows === ROWS && f.pyarrowRows === ROWS ? `yes (${ROWS} rows each)` : `NO: ${f.duckdbRows} / ${f.pyarrowRows}`;
    console.log(`| ${f.dataset} | ${f.codec} | ${f.encoder} | ${f.rawMiB.toFixed(1)} | ${(f.bytes / 1024).toFixed(0)} | ${f.ratio.toFixed(2)} | ${f.cpuMsPerMiB.toFixed(1)} | ${ok} |`);
  }
}

await main();
