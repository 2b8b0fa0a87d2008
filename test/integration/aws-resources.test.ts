import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { DeleteBucketCommand, GetBucketLifecycleConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import { DeleteSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCollectionsSecret } from '../../src/collections/collections-secret.js';
import { SecretsManagerCollections } from '../../src/collections/secrets-adapter.js';
import { ensureLocalAwsResources, type LocalAwsOptions } from '../../src/local/aws-resources.js';
import { ConfigError } from '../../src/shared/errors.js';

const endpoint = process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566';
const region = 'eu-west-2';
const config = { endpoint, region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const dynamo = new DynamoDBClient(config);
const secrets = new SecretsManagerClient(config);
const s3 = new S3Client({ ...config, forcePathStyle: true });
const kms = new KMSClient(config);
const id = randomBytes(4).toString('hex');
const options: LocalAwsOptions = {
  endpoint,
  region,
  statusTable: `status-res-${id}`,
  collectionsSecretId: `/intraday/collections-${id}`,
  bucket: `ingest-out-${id}`,
  kmsAlias: `ingest-replica-output-${id}`,
  collections: [
    { db: 'core', table: 'addresses', pii: true },
    { db: 'agent_core', table: 'agentToDo', pii: false },
  ],
};
let keyId: string | undefined;
const raced = { ...options, statusTable: `${options.statusTable}-race`, collectionsSecretId: `${options.collectionsSecretId}-race`, bucket: `${options.bucket}-race`, kmsAlias: `${options.kmsAlias}-race` };
let racedKeyId: string | undefined;

async function remove(o: LocalAwsOptions, key: string | undefined): Promise<void> {
  await dynamo.send(new DeleteTableCommand({ TableName: o.statusTable })).catch(() => undefined);
  await secrets.send(new DeleteSecretCommand({ SecretId: o.collectionsSecretId, ForceDeleteWithoutRecovery: true })).catch(() => undefined);
  await s3.send(new DeleteBucketCommand({ Bucket: o.bucket })).catch(() => undefined);
  if (key !== undefined) await kms.send(new ScheduleKeyDeletionCommand({ KeyId: key, PendingWindowInDays: 7 })).catch(() => undefined);
}

afterAll(async () => {
  await remove(options, keyId);
  await remove(raced, racedKeyId);
  for (const client of [dynamo, secrets, s3, kms]) client.destroy();
});

describe('ensureLocalAwsResources', () => {
  it('creates the table, secret, bucket and key, then finds them in place on the next call', async () => {
    const first = await ensureLocalAwsResources(options);
    keyId = first.kmsKeyId;
    expect([...first.created].sort()).toEqual(['bucket', 'kms-key', 'secret', 'table']);
    expect(first.kmsAlias).toBe(`alias/${options.kmsAlias}`);
    expect(first.kmsKeyArn).toMatch(/^arn:aws:kms:eu-west-2:\d+:key\//);

    const second = await ensureLocalAwsResources({ ...options, kmsAlias: `alias/${options.kmsAlias}` });
    expect(second.created).toEqual([]);
    expect(second.updated).toEqual([]);
    expect(second.kmsKeyArn).toBe(first.kmsKeyArn);
    expect(second.secretArn).toBe(first.secretArn);
    expect(second.statusTableArn).toBe(first.statusTableArn);
  });

  it('survives concurrent calls: each resource is created once and every caller gets the same key', async () => {
    const results = await Promise.all([1, 2, 3].map(() => ensureLocalAwsResources(raced)));
    racedKeyId = results[0]?.kmsKeyId;
    expect(new Set(results.map((r) => r.kmsKeyArn)).size).toBe(1);
    expect(results.flatMap((r) => r.created).sort()).toEqual(['bucket', 'kms-key', 'secret', 'table']);
  });

  it('creates the status table of DESIGN.md §3.3, with the byCollection index and its projection', async () => {
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: options.statusTable }));
    expect(Table?.KeySchema).toEqual([{ AttributeName: 'CorrelationId', KeyType: 'HASH' }, { AttributeName: 'Collection', KeyType: 'RANGE' }]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const index = Table?.GlobalSecondaryIndexes?.[0];
    expect(index?.IndexName).toBe('byCollection');
    expect(index?.KeySchema).toEqual([{ AttributeName: 'Collection', KeyType: 'HASH' }, { AttributeName: 'TriggeredTime', KeyType: 'RANGE' }]);
    expect(index?.Projection).toEqual({ ProjectionType: 'INCLUDE', NonKeyAttributes: ['JobStatus', 'ProcessedDataStart', 'ProcessedDataEnd'] });
  });

  it('writes the secret in the legacy format, and puts a new value when the collections change', async () => {
    const { SecretString } = await secrets.send(new GetSecretValueCommand({ SecretId: options.collectionsSecretId }));
    expect(Buffer.from(SecretString ?? '', 'base64').toString('utf8')).toMatch(/^\{'collections_all': \{'db\.core\.addresses': \{'db': 'core'/);
    const changed = await ensureLocalAwsResources({ ...options, collections: [{ db: 'calc', table: 'parts', pii: false }] });
    expect(changed.updated).toEqual(['secret']);
    const { SecretString: now } = await secrets.send(new GetSecretValueCommand({ SecretId: options.collectionsSecretId }));
    expect(parseCollectionsSecret(now ?? '', options.collectionsSecretId)).toEqual([{ name: 'calc:parts', db: 'calc', table: 'parts', pii: false }]);
  });

  it('sets the rule aborting incomplete multipart uploads after a day', async () => {
    const lifecycle = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: options.bucket }));
    expect(lifecycle.Rules?.[0]).toMatchObject({ Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } });
  });

  it('points the alias at the key it returns', async () => {
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: `alias/${options.kmsAlias}` }));
    expect(KeyMetadata?.KeyId).toBe(keyId);
  });
});

describe('SecretsManagerCollections', () => {
  it('reads the collections from the secret', async () => {
    await ensureLocalAwsResources(options);
    const source = new SecretsManagerCollections({ client: secrets, secretId: options.collectionsSecretId });
    expect(await source.collections()).toEqual([
      { name: 'core:addresses', db: 'core', table: 'addresses', pii: true },
      { name: 'agent_core:agentToDo', db: 'agent_core', table: 'agentToDo', pii: false },
    ]);
  });

  it('reports a missing secret as a configuration error naming it', async () => {
    const source = new SecretsManagerCollections({ client: secrets, secretId: `/missing-${id}` });
    const error = await source.collections().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(`/missing-${id} does not exist`);
  });
});
