import { collectionFolderName } from '../shared/collection-folder.js';
import type { CollectionConfig } from '../shared/types.js';
import { tableNameOf, type OutputKind } from './catalog.js';

/** The statements `ddl` prints, in the order to run them; `--statement` picks one. */
export const DDL_STATEMENTS = ['database', 'table', 'view'] as const;
export type DdlStatement = (typeof DDL_STATEMENTS)[number];

export interface DdlOptions {
  readonly bucket: string;
  /** The output prefix the collection's runs are under (`incremental`, or the reprocess prefix). */
  readonly prefix: string;
  readonly database: string;
  readonly kind: OutputKind;
}

/**
 * Athena DDL for one collection's output (DESIGN.md §3.5): the database, the external table partitioned by run
 * folder and its `latest` view, one statement each (Athena runs one statement per query). The table DDL is
 * Hive's (backticks); the view is Trino SQL (double quotes). The step creates the table in Glue itself and
 * registers every published run as a partition, so the table statement only matters if no run has been published
 * yet, and is a no-op otherwise.
 */
export function ddlStatements(collection: Pick<CollectionConfig, 'name' | 'db' | 'table'>, options: DdlOptions): Record<DdlStatement, string> {
  const name = tableNameOf(collection, options.kind);
  const { database } = options;
  const location = `s3://${options.bucket}/${options.prefix ? `${options.prefix}/` : ''}${collectionFolderName(collection)}/`;
  return {
    database: `CREATE DATABASE IF NOT EXISTS \`${database}\`;`,
    table: `CREATE EXTERNAL TABLE IF NOT EXISTS \`${database}\`.\`${name}\` (
  \`id\`          string    COMMENT 'the record _id as compact JSON (keys sorted)',
  \`timestamp\`   timestamp COMMENT 'HBase cell timestamp = _lastModifiedDateTime, UTC',
  \`record\`      string    COMMENT 'the decrypted document, UTF-8 JSON text as written by the source',
  \`db\`          string,
  \`collection\`  string,
  \`row_key\`     string    COMMENT 'hex CRC32 prefix followed by the id JSON',
  \`record_type\` string    COMMENT 'MONGO_UPDATE, MONGO_INSERT, ...'
)
PARTITIONED BY (\`run\` string)
STORED AS PARQUET
LOCATION '${location}';`,
    view: `CREATE OR REPLACE VIEW "${database}"."${name}_latest" AS
SELECT "id", "timestamp", "record", "db", "collection", "row_key", "record_type", "run"
FROM (
  SELECT t.*, row_number() OVER (PARTITION BY "id" ORDER BY "timestamp" DESC, "run" DESC) AS "rn"
  FROM "${database}"."${name}" t
) ranked
WHERE "rn" = 1;`,
  };
}

const TITLES: Record<DdlStatement, string> = {
  database: 'the database',
  table: 'the external table, partitioned by run folder (the step creates it in Glue too)',
  view: 'the latest record per id (by timestamp; a tie goes to the later run)',
};

/** Every statement, each in its own block headed by a comment: paste one block per Athena query. */
export function collectionDdl(collection: Pick<CollectionConfig, 'name' | 'db' | 'table'>, options: DdlOptions): string {
  const statements = ddlStatements(collection, options);
  const what = options.kind === 'reprocess' ? 'reprocess output' : 'scheduled runs';
  const header = `-- ${collection.name} (${what}): one partition per published run folder (one holding _manifest.json),
-- registered in the Glue Data Catalog by the step after the manifest: no ALTER TABLE ADD PARTITION needed.
-- _manifest.json, _SUCCESS and _quarantine/ start with '_', so Athena reads only the Parquet parts.
-- Run each block below as its own query (Athena runs one statement at a time).`;
  const blocks = DDL_STATEMENTS.map((s, i) => `-- ${i + 1}/${DDL_STATEMENTS.length} ${s}: ${TITLES[s]}\n${statements[s]}`);
  return `${[header, ...blocks].join('\n\n')}\n`;
}
