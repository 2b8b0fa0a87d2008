import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { ensureStatusTable } from '../src/local/aws-resources.js';
import { LOCAL_AWS_NAMES } from '../src/local/seeder/run-seed.js';
import type { StackState } from '../src/local/stack-state.js';
import { createS3ObjectStore } from '../src/sink/index.js';

/**
 * The benchmark's own AWS resources on the local endpoint: a status table per `run` (so each run starts
 * with no watermark and reads the whole dataset) and output under a `bench/` prefix of the local bucket,
 * removed after each measurement (moto keeps objects in memory).
 */
export interface BenchAws {
  createStatusTable(name: string): Promise<void>;
  deleteStatusTable(name: string): Promise<void>;
  /** Deletes every object under the prefix; returns how many. */
  deleteOutput(prefix: string): Promise<number>;
  readonly bucket: string;
  close(): void;
}

export function benchAws(stack: StackState): BenchAws {
  const aws = { region: stack.awsRegion, endpoint: stack.awsEndpointUrl, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  const dynamo = new DynamoDBClient(aws);
  const s3 = new S3Client({ ...aws, forcePathStyle: true });
  const store = createS3ObjectStore({ s3, bucket: LOCAL_AWS_NAMES.bucket });
  return {
    bucket: LOCAL_AWS_NAMES.bucket,
    createStatusTable: async (name) => {
      await ensureStatusTable(dynamo, name);
    },
    deleteStatusTable: async (name) => {
      await dynamo.send(new DeleteTableCommand({ TableName: name }));
    },
    deleteOutput: async (prefix) => {
      const keys = await store.list(prefix.endsWith('/') ? prefix : `${prefix}/`);
      await store.delete(keys);
      await store.abortUploads(prefix);
      return keys.length;
    },
    close: () => {
      dynamo.destroy();
      s3.destroy();
    },
  };
}
