import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { collectionDdl, DDL_STATEMENTS, ddlStatements } from '../../src/step/ddl.js';

const collection = { name: 'core:contract', db: 'core', table: 'contract' };
const options = { bucket: 'out', prefix: 'incremental', database: 'ingest_replica', kind: 'incremental' as const };

describe('ddl: what an analyst pastes into Athena', () => {
  it('prints one statement per block, each ending in the only semicolon of its block', () => {
    const blocks = collectionDdl(collection, options).trim().split(/\n\n(?=-- \d\/\d )/).slice(1);
    expect(blocks).toHaveLength(DDL_STATEMENTS.length);
    for (const block of blocks) {
      const sql = block.split('\n').filter((l) => !l.startsWith('--')).join('\n').trim();
      expect(sql.endsWith(';')).toBe(true);
      expect(sql.split(';').filter((s) => s.trim() !== '')).toHaveLength(1);
    }
  });

  it('quotes identifiers in the view with double quotes (Trino), never backticks', () => {
    const { view, table } = ddlStatements(collection, options);
    expect(view).not.toContain('`');
    expect(view).toContain('"ingest_replica"."core_contract_latest"');
    expect(view).toContain('"timestamp"');
    // The table is Hive DDL: backticks are its quoting, and `timestamp` is reserved there.
    expect(table).toContain('`timestamp`   timestamp');
    expect(table).toContain("LOCATION 's3://out/incremental/core_contract/'");
    expect(table).toContain('PARTITIONED BY (`run` string)');
  });

  it('covers reprocess output: its own table under the reprocess prefix', () => {
    const { table, view } = ddlStatements(collection, { ...options, prefix: 'reprocess', kind: 'reprocess' });
    expect(table).toContain('`ingest_replica`.`core_contract_reprocess`');
    expect(table).toContain("LOCATION 's3://out/reprocess/core_contract/'");
    expect(view).toContain('"ingest_replica"."core_contract_reprocess_latest"');
  });

  it('the latest view, run as printed in a real SQL engine (DuckDB), keeps the latest version of each id', async () => {
    const db = await DuckDBInstance.create(':memory:');
    const sql = await db.connect();
    try {
      await sql.run('CREATE SCHEMA ingest_replica');
      await sql.run(`CREATE TABLE ingest_replica.core_contract (id VARCHAR, "timestamp" TIMESTAMP, record VARCHAR, db VARCHAR,
        collection VARCHAR, row_key VARCHAR, record_type VARCHAR, run VARCHAR)`);
      const rows: [string, string, string, string][] = [
        // id, timestamp, record, run: {"a":1} superseded twice across runs, {"b":1} once, {"c":1} never.
        ['{"a":1}', '2026-11-25 10:00:00', 'a-v1', '20261125-1030_r1'],
        ['{"a":1}', '2026-11-25 11:00:00', 'a-v2', '20261125-1130_r2'],
        ['{"a":1}', '2026-11-25 12:00:00', 'a-v3', '20261125-1230_r3'],
        ['{"b":1}', '2026-11-25 10:05:00', 'b-v1', '20261125-1030_r1'],
        ['{"b":1}', '2026-11-25 12:05:00', 'b-v2', '20261125-1230_r3'],
        ['{"c":1}', '2026-11-25 11:10:00', 'c-v1', '20261125-1130_r2'],
      ];
      for (const [id, ts, record, run] of rows) {
        await sql.run(`INSERT INTO ingest_replica.core_contract VALUES ('${id}', TIMESTAMP '${ts}', '${record}', 'core', 'contract', 'k', 'MONGO_UPDATE', '${run}')`);
      }
      await sql.run(ddlStatements(collection, options).view);
      const latest = (await sql.runAndReadAll('SELECT id, record, run FROM ingest_replica.core_contract_latest ORDER BY id')).getRowObjects();
      expect(latest).toEqual([
        { id: '{"a":1}', record: 'a-v3', run: '20261125-1230_r3' },
        { id: '{"b":1}', record: 'b-v2', run: '20261125-1230_r3' },
        { id: '{"c":1}', record: 'c-v1', run: '20261125-1130_r2' },
      ]);
    } finally {
      sql.closeSync();
    }
  });
});
