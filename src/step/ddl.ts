import { collectionFolderName } from '../shared/collection-folder.js';
import type { CollectionConfig } from '../shared/types.js';

/** Athena/Hive DDL for one collection's output (DESIGN.md §3.5): an external table and a `latest` view. */
export function collectionDdl(collection: CollectionConfig, bucket: string, prefix: string, database = 'ingest_replica'): string {
  const name = `${collection.db}_${collection.table}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  const location = `s3://${bucket}/${prefix ? `${prefix}/` : ''}${collectionFolderName(collection)}/`;
  return `-- ${collection.name}: one folder per run; only folders with a _manifest.json are published runs
-- (the manifest, _SUCCESS and _quarantine/ start with '_', so Athena reads only the Parquet parts).
-- Partition by run folder so readers can add exactly the runs whose manifest exists.
CREATE DATABASE IF NOT EXISTS ${database};

CREATE EXTERNAL TABLE IF NOT EXISTS ${database}.${name} (
  id          string    COMMENT 'the record _id as compact JSON (keys sorted)',
  \`timestamp\` timestamp COMMENT 'HBase cell timestamp = _lastModifiedDateTime, UTC',
  record      string    COMMENT 'the decrypted document, UTF-8 JSON text as written by the source',
  db          string,
  collection  string,
  row_key     string    COMMENT 'hex CRC32 prefix followed by the id JSON',
  record_type string    COMMENT 'MONGO_UPDATE, MONGO_INSERT, ...'
)
PARTITIONED BY (run string)
STORED AS PARQUET
LOCATION '${location}'
TBLPROPERTIES ('parquet.compression'='SNAPPY');

-- Add each published run (a folder holding _manifest.json), e.g.:
-- ALTER TABLE ${database}.${name} ADD IF NOT EXISTS PARTITION (run='20261125-1030_<correlation id>') LOCATION '${location}20261125-1030_<correlation id>/';

CREATE OR REPLACE VIEW ${database}.${name}_latest AS
SELECT id, \`timestamp\`, record, db, collection, row_key, record_type
FROM (
  SELECT t.*, row_number() OVER (PARTITION BY id ORDER BY \`timestamp\` DESC, run DESC) AS rn
  FROM ${database}.${name} t
) ranked
WHERE rn = 1;
`;
}
