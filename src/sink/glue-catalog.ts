import {
  BatchCreatePartitionCommand, CreateDatabaseCommand, CreateTableCommand, GetPartitionsCommand, GetTableCommand,
  type GlueClient, type StorageDescriptor,
} from '@aws-sdk/client-glue';
import { PermanentError } from '../shared/errors.js';
import type { CatalogTable, PartitionCatalog } from '../step/ports.js';
import { MANIFEST_NAME, OUTPUT_COLUMNS } from './manifest.js';
import type { ObjectStore } from './object-store.js';

/** Glue's limit on partitions per BatchCreatePartition call. */
const BATCH = 100;

const PARQUET_FORMAT = {
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
} as const;

/** The Hive types of the output columns (the Parquet timestamp is millis, UTC). */
export const CATALOG_COLUMNS = OUTPUT_COLUMNS.map((c) => ({ Name: c.name, Type: c.type.startsWith('timestamp') ? 'timestamp' : c.type }));
export const RUN_PARTITION_KEY = 'run';

export interface GlueCatalogDeps {
  readonly glue: GlueClient;
  /** The output bucket: where the published run folders are listed from. */
  readonly store: ObjectStore;
  readonly database: string;
}

/** The run folders under `prefix/` holding a manifest directly: the published runs. */
export function publishedRunsIn(keys: readonly string[], prefix: string): string[] {
  const runs = new Set<string>();
  for (const key of keys) {
    const rest = key.slice(prefix.length + 1).split('/');
    if (key.startsWith(`${prefix}/`) && rest.length === 2 && rest[1] === MANIFEST_NAME && rest[0] !== '') runs.add(rest[0]!);
  }
  return [...runs].sort();
}

const isNamed = (e: unknown, name: string): boolean => (e as { name?: unknown } | null)?.name === name;

/**
 * The Glue Data Catalog as the partition catalog (DESIGN.md §3.5): one external Parquet table per collection,
 * partitioned by `run` (the run folder's name), each published folder registered as its own partition.
 */
export class GlueCatalog implements PartitionCatalog {
  constructor(private readonly deps: GlueCatalogDeps) {}

  async registerPublished(table: CatalogTable): Promise<readonly string[]> {
    const published = publishedRunsIn(await this.deps.store.list(`${table.prefix}/`), table.prefix);
    if (published.length === 0) return [];
    await this.ensureTable(table);
    const registered = await this.registeredRuns(table.table);
    const missing = published.filter((run) => !registered.has(run));
    for (let i = 0; i < missing.length; i += BATCH) {
      const batch = missing.slice(i, i + BATCH);
      const answer = await this.deps.glue.send(new BatchCreatePartitionCommand({
        DatabaseName: this.deps.database,
        TableName: table.table,
        PartitionInputList: batch.map((run) => ({ Values: [run], StorageDescriptor: this.storage(`${table.prefix}/${run}`) })),
      }));
      // Another runner may have registered some meanwhile: that is the state wanted.
      const failed = (answer.Errors ?? []).filter((e) => e.ErrorDetail?.ErrorCode !== 'AlreadyExistsException');
      if (failed.length > 0) {
        throw new PermanentError('Glue refused to register run partitions', {
          context: { database: this.deps.database, table: table.table, errors: failed.map((e) => `${e.PartitionValues?.join('/') ?? '?'}: ${e.ErrorDetail?.ErrorCode ?? '?'} ${e.ErrorDetail?.ErrorMessage ?? ''}`).join('; ') },
        });
      }
    }
    return missing;
  }

  /** Run names registered as partitions of the table. */
  async registeredRuns(table: string): Promise<Set<string>> {
    const runs = new Set<string>();
    let token: string | undefined;
    do {
      const page = await this.deps.glue.send(new GetPartitionsCommand({ DatabaseName: this.deps.database, TableName: table, ...(token ? { NextToken: token } : {}) }));
      for (const p of page.Partitions ?? []) if (p.Values?.[0] !== undefined) runs.add(p.Values[0]);
      token = page.NextToken;
    } while (token);
    return runs;
  }

  /** Creates the database and table when missing; a table that exists (e.g. made from `ddl`) is kept. */
  private async ensureTable(table: CatalogTable): Promise<void> {
    const { glue, database } = this.deps;
    try {
      await glue.send(new GetTableCommand({ DatabaseName: database, Name: table.table }));
      return;
    } catch (e) {
      if (!isNamed(e, 'EntityNotFoundException')) throw e;
    }
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: database } })).catch((e: unknown) => {
      if (!isNamed(e, 'AlreadyExistsException')) throw e;
    });
    await glue.send(new CreateTableCommand({
      DatabaseName: database,
      TableInput: {
        Name: table.table,
        TableType: 'EXTERNAL_TABLE',
        Parameters: { EXTERNAL: 'TRUE', classification: 'parquet' },
        PartitionKeys: [{ Name: RUN_PARTITION_KEY, Type: 'string' }],
        StorageDescriptor: this.storage(table.prefix),
      },
    })).catch((e: unknown) => {
      if (!isNamed(e, 'AlreadyExistsException')) throw e;
    });
  }

  private storage(keyPrefix: string): StorageDescriptor {
    return { Columns: CATALOG_COLUMNS, Location: `s3://${this.deps.store.bucket}/${keyPrefix}/`, ...PARQUET_FORMAT };
  }
}
