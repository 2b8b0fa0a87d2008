import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { ObjectStore } from '../src/sink/object-store.js';

/**
 * Used by `make demo` (bench/demo-query.ts) and test/integration/catalog.test.ts.
 * DuckDB over a table's run partitions as Athena sees them: each partition's Parquet objects (names starting
 * with `_` skipped, as Athena does) downloaded into `run=<name>/`, read with Hive partitioning as
 * `<database>.<table>` with its `run` column. DuckDB's httpfs extension is downloaded on first use, so the
 * objects are fetched with the SDK instead.
 */
export async function withRunsInDuckDb<T>(
  store: ObjectStore, partitions: readonly { run: string; prefix: string }[], table: { database: string; name: string },
  use: (sql: DuckDBConnection) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'duckdb-runs-'));
  const db = await DuckDBInstance.create(':memory:');
  const sql = await db.connect();
  try {
    let files = 0;
    for (const p of partitions) {
      const keys = (await store.list(`${p.prefix}/`)).filter((k) => !/(^|\/)[_.]/.test(k.slice(p.prefix.length)));
      await mkdir(join(dir, `run=${p.run}`), { recursive: true });
      for (const key of keys) {
        await writeFile(join(dir, `run=${p.run}`, key.slice(p.prefix.length + 1).replaceAll('/', '_')), (await store.get(key))!);
        files += 1;
      }
    }
    await sql.run(`CREATE SCHEMA "${table.database}"`);
    await sql.run(files === 0
      ? `CREATE TABLE "${table.database}"."${table.name}" (id VARCHAR, "timestamp" TIMESTAMP, record VARCHAR, db VARCHAR, collection VARCHAR, row_key VARCHAR, record_type VARCHAR, run VARCHAR)`
      : `CREATE VIEW "${table.database}"."${table.name}" AS SELECT * FROM read_parquet('${join(dir, '*', '*.parquet')}', hive_partitioning = true)`);
    return await use(sql);
  } finally {
    sql.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}
