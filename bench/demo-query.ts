/**
 * The end of `make demo`: SQL over the Glue tables the step registered, as an analyst would run it in Athena.
 * For each collection: the Glue partitions (one per published run) → their Parquet parts, read by DuckDB
 * (httpfs is a download, so the parts are fetched with the SDK first) → the `latest` view exactly as `ddl`
 * prints it → a query, results printed.
 *
 *   node --import ./bench/resolve-ts.ts bench/demo-query.ts core:addresses accounts:claimStatements …
 */
import { GetPartitionsCommand } from '@aws-sdk/client-glue';
import { collectionFromName } from '../src/collections/index.js';
import { stepConfigFrom } from '../src/cli/settings-flags.js';
import { createS3ObjectStore } from '../src/sink/s3-adapter.js';
import { tableNameOf } from '../src/step/catalog.js';
import { ddlStatements } from '../src/step/ddl.js';
import { glueClient, s3Client } from '../src/wiring/aws-clients.js';
import { withRunsInDuckDb } from './duckdb-runs.js';

const config = stepConfigFrom({}, false);
const glue = glueClient(config);
const store = createS3ObjectStore({ s3: s3Client(config), bucket: config.outputBucket });
const database = config.glueDatabase;

for (const name of process.argv.slice(2)) {
  const collection = collectionFromName(name);
  const table = tableNameOf(collection);
  const answer = await glue.send(new GetPartitionsCommand({ DatabaseName: database, TableName: table })).catch((e: unknown) => {
    if ((e as Error).name === 'EntityNotFoundException') return undefined;
    throw e;
  });
  if (answer === undefined) {
    console.log(`-- ${database}.${table}: not in Glue yet (no run of ${name} published)`);
    continue;
  }
  const partitions = (answer.Partitions ?? [])
    .map((p) => ({ run: p.Values![0]!, prefix: p.StorageDescriptor!.Location!.replace(`s3://${config.outputBucket}/`, '').replace(/\/$/, '') }));
  console.log(`-- ${database}.${table}: ${partitions.length} run partition(s) in Glue`);
  const query = `SELECT record_type, count(*) AS records, min("timestamp") AS oldest, max("timestamp") AS newest
FROM "${database}"."${table}_latest" GROUP BY record_type ORDER BY record_type`;
  await withRunsInDuckDb(store, partitions, { database, name: table }, async (sql) => {
    await sql.run(ddlStatements(collection, { bucket: config.outputBucket, prefix: config.outputPrefix, database, kind: 'incremental' }).view);
    console.log(`${query};`);
    const rows = (await sql.runAndReadAll(query)).getRowObjectsJson();
    console.table(rows);
  });
}
