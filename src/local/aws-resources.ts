import {
  CreateTableCommand, DescribeTableCommand, DynamoDBClient, waitUntilTableExists, type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, HeadBucketCommand, PutBucketLifecycleConfigurationCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { endpointFor, type AwsService, type ServiceEndpoints } from '../config/aws-endpoints.js';
import { encodeLegacySecret } from '../collections/collections-secret.js';
import { ConfigError, toError } from '../shared/errors.js';
import type { CollectionConfig } from '../shared/types.js';
import { ATTR, BY_COLLECTION_INDEX, BY_COLLECTION_PROJECTION } from '../status/status-item.js';

/**
 * The AWS resources the product expects, created on the local AWS endpoints (each service on its own, so
 * LocalStack for S3, KMS and Secrets Manager with moto for DynamoDB): the job status table with its GSI, the collections secret in the legacy format, the output bucket
 * and the KMS key behind an alias. Idempotent: what exists is kept (the secret gets the new value).
 */
export interface LocalAwsOptions {
  readonly endpoint: string;
  /** Services sent elsewhere than `endpoint` (AWS_ENDPOINT_URL_<SERVICE>). */
  readonly serviceEndpoints?: ServiceEndpoints;
  readonly region: string;
  readonly statusTable: string;
  readonly collectionsSecretId: string;
  readonly bucket: string;
  /** `alias/name` or `name`. */
  readonly kmsAlias: string;
  readonly collections: readonly Pick<CollectionConfig, 'db' | 'table' | 'pii'>[];
  /** `keep`: an existing collections secret is left as it is (for `local up`); default: it gets this value. */
  readonly existingSecret?: 'replace' | 'keep';
  /** Any credentials do for moto. */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
}

export interface LocalAwsResources {
  readonly kmsKeyArn: string;
  readonly kmsKeyId: string;
  readonly kmsAlias: string;
  readonly statusTableArn: string;
  readonly secretArn: string;
  readonly bucket: string;
  /** Whether the bucket has the rule aborting incomplete multipart uploads after a day. */
  readonly abortMultipartRule: boolean;
  /** What this call created or changed, e.g. `['table', 'secret']`: empty when everything was in place. */
  readonly created: readonly string[];
  readonly updated: readonly string[];
}

export async function ensureLocalAwsResources(options: LocalAwsOptions): Promise<LocalAwsResources> {
  const target = { awsEndpointUrl: options.endpoint, awsServiceEndpoints: options.serviceEndpoints, awsRegion: options.region };
  const config = (service: AwsService) => ({
    endpoint: endpointFor(target, service),
    region: options.region,
    credentials: options.credentials ?? { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const dynamo = new DynamoDBClient(config('dynamodb'));
  const secrets = new SecretsManagerClient(config('secretsmanager'));
  const s3 = new S3Client({ ...config('s3'), forcePathStyle: true });
  const kms = new KMSClient(config('kms'));
  try {
    const [table, secret, bucket, key] = await Promise.all([
      ensureStatusTable(dynamo, options.statusTable),
      ensureSecret(secrets, options.collectionsSecretId, encodeLegacySecret(options.collections), options.existingSecret ?? 'replace'),
      ensureBucket(s3, options.bucket, options.region),
      ensureKmsAlias(kms, options.kmsAlias),
    ]);
    const created = [table.created && 'table', secret.change === 'created' && 'secret', bucket.created && 'bucket', key.created && 'kms-key'];
    return {
      kmsKeyArn: key.keyArn,
      kmsKeyId: key.keyId,
      kmsAlias: key.alias,
      statusTableArn: table.arn,
      secretArn: secret.arn,
      bucket: options.bucket,
      abortMultipartRule: bucket.abortMultipartRule,
      created: created.filter((c): c is string => typeof c === 'string'),
      updated: secret.change === 'updated' ? ['secret'] : [],
    };
  } finally {
    for (const client of [dynamo, secrets, s3, kms]) client.destroy();
  }
}

/** The status table of DESIGN.md §3.3, on demand. An existing table must have the same keys and GSI. */
export async function ensureStatusTable(client: DynamoDBClient, tableName: string): Promise<{ arn: string; created: boolean }> {
  let created = true;
  try {
    await client.send(new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: ATTR.correlationId, AttributeType: 'S' },
        { AttributeName: ATTR.collection, AttributeType: 'S' },
        { AttributeName: ATTR.triggeredTime, AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: ATTR.correlationId, KeyType: 'HASH' },
        { AttributeName: ATTR.collection, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [{
        IndexName: BY_COLLECTION_INDEX,
        KeySchema: [
          { AttributeName: ATTR.collection, KeyType: 'HASH' },
          { AttributeName: ATTR.triggeredTime, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...BY_COLLECTION_PROJECTION] },
      }],
    }));
  } catch (e) {
    if (toError(e).name !== 'ResourceInUseException') throw e;
    created = false;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60 }, { TableName: tableName });
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  checkStatusTable(tableName, Table);
  return { arn: Table?.TableArn ?? '', created };
}

function checkStatusTable(tableName: string, table: TableDescription | undefined): void {
  const keys = (schema: { AttributeName?: string; KeyType?: string }[] | undefined): string =>
    (schema ?? []).map((k) => `${k.AttributeName}:${k.KeyType}`).join(',');
  const index = table?.GlobalSecondaryIndexes?.find((i) => i.IndexName === BY_COLLECTION_INDEX);
  const problems = [
    keys(table?.KeySchema) !== `${ATTR.correlationId}:HASH,${ATTR.collection}:RANGE` && `keys are ${keys(table?.KeySchema)}`,
    index === undefined && `index ${BY_COLLECTION_INDEX} is missing`,
    index !== undefined && keys(index.KeySchema) !== `${ATTR.collection}:HASH,${ATTR.triggeredTime}:RANGE` && `index keys are ${keys(index.KeySchema)}`,
  ].filter(Boolean);
  if (problems.length > 0) {
    throw new ConfigError(`status table ${tableName} exists but does not match DESIGN.md §3.3 (${problems.join('; ')}). Fix: delete it or pick another name.`);
  }
}

async function ensureSecret(client: SecretsManagerClient, secretId: string, value: string, existing: 'replace' | 'keep'): Promise<{ arn: string; change: 'created' | 'updated' | 'unchanged' }> {
  let current: { ARN?: string; SecretString?: string } | undefined;
  try {
    current = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
  } catch (e) {
    if (toError(e).name !== 'ResourceNotFoundException') throw e;
  }
  if (current === undefined) {
    try {
      const made = await client.send(new CreateSecretCommand({ Name: secretId, SecretString: value, Description: 'ingest-replica collections (legacy format)' }));
      return { arn: made.ARN ?? '', change: 'created' };
    } catch (e) {
      // Created meanwhile by someone else: fall through and put our value.
      if (toError(e).name !== 'ResourceExistsException') throw e;
    }
  } else if (current.SecretString === value || existing === 'keep') {
    return { arn: current.ARN ?? '', change: 'unchanged' };
  }
  const put = await client.send(new PutSecretValueCommand({ SecretId: secretId, SecretString: value }));
  return { arn: put.ARN ?? current?.ARN ?? '', change: 'updated' };
}

/**
 * No default encryption on purpose: the sink must ask for SSE-KMS itself (DESIGN.md §3.5), and a bucket
 * default would hide a sink that forgot.
 */
async function ensureBucket(client: S3Client, bucket: string, region: string): Promise<{ created: boolean; abortMultipartRule: boolean }> {
  let created = false;
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (e) {
    const error = toError(e) as Error & { $metadata?: { httpStatusCode?: number } };
    if (error.name !== 'NotFound' && error.$metadata?.httpStatusCode !== 404) throw e;
    try {
      await client.send(new CreateBucketCommand({
        Bucket: bucket,
        ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as never } }),
      }));
      created = true;
    } catch (createError) {
      if (toError(createError).name !== 'BucketAlreadyOwnedByYou') throw createError;
    }
  }
  let abortMultipartRule = true;
  try {
    // A failed multipart upload that was never aborted keeps its parts (and their cost) forever.
    await client.send(new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: {
        Rules: [{
          ID: 'abort-incomplete-multipart-uploads',
          Status: 'Enabled',
          Filter: { Prefix: '' },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        }],
      },
    }));
  } catch (e) {
    // Some local emulators do not implement lifecycle rules; the bucket is usable without one.
    if (!['NotImplemented', 'NotImplementedException'].includes(toError(e).name)) throw e;
    abortMultipartRule = false;
  }
  return { created, abortMultipartRule };
}

async function ensureKmsAlias(client: KMSClient, aliasName: string): Promise<{ keyArn: string; keyId: string; alias: string; created: boolean }> {
  const alias = aliasName.startsWith('alias/') ? aliasName : `alias/${aliasName}`;
  const existing = await describeAlias(client, alias);
  if (existing !== undefined) return { ...existing, alias, created: false };
  const made = await client.send(new CreateKeyCommand({ Description: `ingest-replica output (${alias})`, KeyUsage: 'ENCRYPT_DECRYPT' }));
  const keyId = made.KeyMetadata?.KeyId ?? '';
  try {
    await client.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
  } catch (e) {
    if (toError(e).name !== 'AlreadyExistsException') throw e;
    // Lost a race for the alias: use the winner's key and retire ours.
    await client.send(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 }));
    const winner = await describeAlias(client, alias);
    if (winner === undefined) throw new Error(`KMS alias ${alias} exists but cannot be described`);
    return { ...winner, alias, created: false };
  }
  return { keyArn: made.KeyMetadata?.Arn ?? '', keyId, alias, created: true };
}

async function describeAlias(client: KMSClient, alias: string): Promise<{ keyArn: string; keyId: string } | undefined> {
  try {
    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: alias }));
    return { keyArn: KeyMetadata?.Arn ?? '', keyId: KeyMetadata?.KeyId ?? '' };
  } catch (e) {
    if (toError(e).name === 'NotFoundException') return undefined;
    throw e;
  }
}
