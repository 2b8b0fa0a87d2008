import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { collectionFolderName } from '../../shared/collection-folder.js';
import { DeleteCommand, DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { DeleteTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { createS3ObjectStore } from '../../sink/index.js';
import { endpointFor, type AwsService } from '../../config/aws-endpoints.js';
import { tableNameOf } from '../../step/catalog.js';
import type { StackState } from '../stack-state.js';
import { HBaseAdmin } from '../hbase-process.js';

/**
 * `local seed --fresh`: forget a collection on the local stack — its HBase table, its status rows (so the
 * watermark starts again from nothing), its published output and its Glue table (whose partitions would point
 * at the deleted folders) — so a demo shows the same run every time.
 * Local stack only: nothing here is reachable from the production commands.
 */
export async function resetLocalCollection(
  state: StackState,
  names: { collection: string; statusTable: string; bucket: string; outputPrefix: string; glueDatabase?: string },
): Promise<void> {
  const target = { awsEndpointUrl: state.awsEndpointUrl, awsServiceEndpoints: state.awsServiceEndpoints, awsRegion: state.awsRegion };
  const aws = (service: AwsService) => ({ region: state.awsRegion, endpoint: endpointFor(target, service), credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  await new HBaseAdmin(state.hbaseAdminUrl).deleteTable(names.collection);
  const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(aws('dynamodb')));
  const s3 = new S3Client({ ...aws('s3'), forcePathStyle: true });
  const glue = new GlueClient(aws('glue'));
  try {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await dynamo.send(new QueryCommand({
        TableName: names.statusTable,
        IndexName: 'byCollection',
        KeyConditionExpression: '#c = :c',
        ExpressionAttributeNames: { '#c': 'Collection' },
        ExpressionAttributeValues: { ':c': names.collection },
        ExclusiveStartKey: start,
      }));
      for (const item of page.Items ?? []) {
        await dynamo.send(new DeleteCommand({ TableName: names.statusTable, Key: { CorrelationId: item.CorrelationId, Collection: item.Collection } }));
      }
      start = page.LastEvaluatedKey;
    } while (start);
    const store = createS3ObjectStore({ s3, bucket: names.bucket });
    const [db = '', table = ''] = names.collection.split(':');
    await store.delete(await store.list(`${names.outputPrefix}/${collectionFolderName({ db, table })}/`));
    await glue.send(new DeleteTableCommand({ DatabaseName: names.glueDatabase ?? 'ingest_replica', Name: tableNameOf({ db, table }) }))
      .catch((e: unknown) => {
        if ((e as Error).name !== 'EntityNotFoundException') throw e;
      });
  } catch (error) {
    // A stack that was never seeded has no table or bucket yet: nothing to forget.
    if (!/ResourceNotFound|NoSuchBucket|non-existent table/i.test(String((error as Error).name) + String((error as Error).message))) throw error;
  } finally {
    dynamo.destroy();
    s3.destroy();
    glue.destroy();
  }
}
