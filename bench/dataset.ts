import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { HBaseRestSource } from '../src/hbase/rest-adapter.js';
import { HBaseAdmin } from '../src/local/hbase-process.js';
import { localHome } from '../src/local/paths.js';
import { DEFAULT_SEED_FROM, DEFAULT_SEED_UNTIL } from '../src/local/seeder/collections.js';
import { localSeedPorts } from '../src/local/seeder/run-seed.js';
import type { SeedCollectionResult } from '../src/local/seeder/seed.js';
import type { StackState } from '../src/local/stack-state.js';
import { BULK_SEED_GENERATOR, bulkSeed } from './bulk-seed.js';

/**
 * The benchmark's dataset in the local HBase: a few `bench_*` collections (nobody else uses that prefix)
 * written with the project's own seeder records and contracts (bulk-seed.ts), so records are what the
 * ingest pipeline writes: ~2.3 KB envelopes, AES-128-CTR under DKS data keys, one record in ten with an
 * older superseded version.
 * A marker file records what was seeded; a rerun with the same parameters reuses the tables.
 */
export interface DatasetSpec {
  /** How records are generated (bulk-seed.ts); changing the generator must change this, and so the marker. */
  readonly generator: string;
  readonly seed: string;
  readonly collections: readonly string[];
  readonly recordsPerCollection: number;
  readonly keysPerCollection: number;
  readonly regions: number;
  /** Cell timestamps are spread over [from, until). */
  readonly from: number;
  readonly until: number;
}

export const DEFAULT_DATASET: DatasetSpec = {
  generator: BULK_SEED_GENERATOR,
  seed: 'bench-v1',
  collections: ['bench_core:addresses', 'bench_accounts:claimStatements', 'bench_agent_core:agentToDo', 'bench_core:contract'],
  recordsPerCollection: 250_000,
  keysPerCollection: 16,
  regions: 4,
  from: DEFAULT_SEED_FROM,
  until: DEFAULT_SEED_UNTIL,
};

export interface Dataset {
  readonly spec: DatasetSpec;
  readonly seeded: readonly SeedCollectionResult[];
  readonly seededAt: string;
  readonly seedSeconds: number;
  readonly totalRecords: number;
  readonly distinctKeys: number;
  /** Whether this session wrote it (false: reused from an earlier session). */
  readonly fresh: boolean;
}

/** One marker per set of parameters: a development dataset and the full one can both be kept. */
const markerFile = (spec: DatasetSpec): string =>
  join(localHome(), 'bench', `dataset-${createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 12)}.json`);

/** The dataset described by `spec`, seeding it unless the marker says it is already there. */
export async function ensureDataset(state: StackState, spec: DatasetSpec, log: (line: string) => void): Promise<Dataset> {
  const marker = readMarker(spec);
  if (marker !== undefined && (await tablesExist(state, spec))) {
    log(`dataset reused (seeded ${marker.seededAt}): ${marker.totalRecords} records in ${spec.collections.length} collections`);
    return { ...marker, fresh: false };
  }
  log(`seeding ${spec.collections.length} × ${spec.recordsPerCollection} records (${spec.keysPerCollection} data keys each)…`);
  const dataset = await seed(state, spec, log);
  mkdirSync(join(localHome(), 'bench'), { recursive: true });
  writeFileSync(markerFile(spec), `${JSON.stringify({ ...dataset, fresh: undefined }, null, 2)}\n`);
  return dataset;
}

function readMarker(spec: DatasetSpec): Dataset | undefined {
  const file = markerFile(spec);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Dataset;
  } catch {
    return undefined;
  }
}

async function tablesExist(state: StackState, spec: DatasetSpec): Promise<boolean> {
  const hbase = new HBaseRestSource({ url: state.hbaseRestUrl });
  try {
    const found = await Promise.all(spec.collections.map((c) => hbase.tableExists(c)));
    return found.every(Boolean);
  } finally {
    await hbase.close();
  }
}

/** Markers of other parameters on any of these tables no longer describe them: the tables are rewritten. */
function forgetMarkersOf(collections: readonly string[]): void {
  const dir = join(localHome(), 'bench');
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir).filter((f) => /^dataset-[0-9a-f]+\.json$/.test(f))) {
    try {
      const other = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Dataset;
      if (other.spec.collections.some((c) => collections.includes(c))) rmSync(join(dir, name));
    } catch {
      rmSync(join(dir, name), { force: true });
    }
  }
}

async function seed(state: StackState, spec: DatasetSpec, log: (line: string) => void): Promise<Dataset> {
  const admin = new HBaseAdmin(state.hbaseAdminUrl);
  const started = performance.now();
  forgetMarkersOf(spec.collections);
  // A partial earlier attempt (or other parameters) must not leave rows behind: start from empty tables.
  for (const collection of spec.collections) await admin.deleteTable(collection);
  const ports = localSeedPorts(state);
  // Two collections at a time: the seeder keeps a few puts in flight per collection, and HBase ingests
  // faster with more of them (one JVM on shared cores: more than two only adds contention).
  const limit = pLimit(2);
  let seeded: SeedCollectionResult[];
  try {
    seeded = await Promise.all(spec.collections.map((collection) => limit(async () => {
      const t0 = performance.now();
      const result = await bulkSeed(ports, {
        collection,
        space: { seed: spec.seed, collection, from: spec.from, until: spec.until },
        records: spec.recordsPerCollection,
        keys: spec.keysPerCollection,
        regions: spec.regions,
      });
      const seconds = (performance.now() - t0) / 1000;
      log(`  ${collection}: ${result.records} records, ${result.cells} cells in ${seconds.toFixed(0)} s (${Math.round(result.cells / seconds)} cells/s)`);
      return result;
    })));
  } finally {
    await ports.close();
  }
  // Reads then come from store files, as on a replica (which sees only what the primary flushed).
  for (const collection of spec.collections) await admin.flush(collection);
  const seedSeconds = (performance.now() - started) / 1000;
  const totalRecords = seeded.reduce((n, r) => n + r.records, 0);
  log(`seeded ${totalRecords} records in ${seedSeconds.toFixed(0)} s`);
  return {
    spec, seeded, seededAt: new Date().toISOString(), seedSeconds, totalRecords,
    distinctKeys: seeded.reduce((n, r) => n + r.keys, 0), fresh: true,
  };
}
