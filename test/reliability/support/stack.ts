import { randomBytes } from 'node:crypto';
import { ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { collectionFromName } from '../../../src/collections/index.js';
import { loadStepConfig, type StepConfig } from '../../../src/config/step-config.js';
import { printableRowKey } from '../../../src/contracts/row-key.js';
import { HBaseAdmin } from '../../../src/local/hbase-process.js';
import { localHome } from '../../../src/local/paths.js';
import { seededVersions, versionInWindow, type RecordSpace } from '../../../src/local/seeder/documents.js';
import type { Logger } from '../../../src/shared/logger.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { runStep, type CollectionSummary } from '../../../src/step/run-step.js';
import { COLLECTION_LEASE_ID } from '../../../src/status/collection-lease-adapter.js';
import { DynamoStatusStore } from '../../../src/status/dynamo-status-adapter.js';
import { dynamoDocumentClient } from '../../../src/wiring/aws-clients.js';
import { buildStepGraph, type StepGraph } from '../../../src/wiring/step-graph.js';
import { localStack } from '../../support/local-stack.js';
import { publishedFolders } from '../../support/published-output.js';

/** The reliability suite's view of the local stack: configs pointing through our fault injectors, and probes. */
export const stack = localStack();

/** Seeded records' timestamps fall in [FROM, UNTIL); every run's end time is well after. */
export const FROM = Date.UTC(2025, 0, 1);
export const UNTIL = Date.UTC(2025, 2, 1);

export const space = (collection: string, seed = 'reliability'): RecordSpace => ({ seed, collection, from: FROM, until: UNTIL });

export const uniquePrefix = (name: string): string => `reliability-${name}-${randomBytes(4).toString('hex')}`;

export interface Endpoints {
  readonly hbaseRestUrl?: string;
  readonly dksUrl?: string;
  readonly awsEndpointUrl?: string;
}

/** The step's config on the local stack, with some endpoints replaced (by a proxy or our own DKS). */
export function configFor(outputPrefix: string, endpoints: Endpoints = {}, flags: Record<string, string> = {}): StepConfig {
  return loadStepConfig({ local: { ...stack, ...endpoints }, localHome: localHome(), flags: { engine: 'single', outputPrefix, ...flags }, env: {} });
}

/** The same as environment variables for a CLI child process. */
export function envFor(outputPrefix: string, endpoints: Endpoints = {}): Record<string, string> {
  return {
    HBASE_REST_URL: endpoints.hbaseRestUrl ?? stack.hbaseRestUrl,
    DKS_URL: endpoints.dksUrl ?? stack.dksUrl,
    AWS_ENDPOINT_URL: endpoints.awsEndpointUrl ?? stack.awsEndpointUrl,
    AWS_REGION: stack.awsRegion,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    DKS_CLIENT_CERT: stack.dksClientCert,
    DKS_CLIENT_KEY: stack.dksClientKey,
    DKS_CA_CERT: stack.dksCaCert,
    INGEST_OUTPUT_PREFIX: outputPrefix,
  };
}

export function s3Of(config: StepConfig): S3Client {
  return new S3Client({ region: config.awsRegion, endpoint: stack.awsEndpointUrl, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
}

export function statusOf(config: StepConfig): DynamoStatusStore {
  return new DynamoStatusStore({ tableName: config.statusTable, client: dynamoDocumentClient({ awsEndpointUrl: stack.awsEndpointUrl, awsRegion: config.awsRegion }) });
}

/** Deletes every status row of a collection (ours alone: the names are unique), so it starts without a watermark. */
export async function forgetStatus(config: StepConfig, collection: string): Promise<void> {
  const client = dynamoDocumentClient({ awsEndpointUrl: stack.awsEndpointUrl, awsRegion: config.awsRegion });
  const rows = await statusOf(config).latestRuns(collection, 1000);
  for (const row of rows) {
    await client.send(new DeleteCommand({ TableName: config.statusTable, Key: { CorrelationId: row.correlationId, Collection: collection } }));
  }
  client.destroy();
}

/**
 * What the passing of a killed runner's lease time does (DESIGN: a lease frees itself when not renewed): its
 * collection leases are removed, so a rerun need not wait the lease out. Lease expiry itself is tested with
 * a clock in test/unit/step-lease.test.ts and the exactly-once property test.
 */
export async function expireLeases(config: StepConfig, collections: readonly string[]): Promise<void> {
  const client = dynamoDocumentClient({ awsEndpointUrl: stack.awsEndpointUrl, awsRegion: config.awsRegion });
  for (const collection of collections) {
    await client.send(new DeleteCommand({ TableName: config.statusTable, Key: { CorrelationId: COLLECTION_LEASE_ID, Collection: collection } }));
  }
  client.destroy();
}

export interface RunOptions {
  readonly correlationId: string;
  readonly collections: readonly string[];
  readonly triggeredTime?: number;
  readonly concurrency?: number;
  readonly scanConcurrency?: number;
  readonly maxQuarantined?: number;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
}

/** One scheduled run of the step in this process, through the real adapters of `graph`. */
export function runIn(graph: StepGraph, config: StepConfig, options: RunOptions): Promise<CollectionSummary[]> {
  const triggeredTime = options.triggeredTime ?? Date.now();
  return runStep(graph.portsFor, {
    correlationId: options.correlationId,
    triggeredTime,
    endTime: triggeredTime,
    collections: options.collections.map((c) => collectionFromName(c)),
    concurrency: options.concurrency ?? 2,
    scanConcurrency: options.scanConcurrency ?? 2,
    visibilityLagMs: config.visibilityLagMs,
    maxQuarantined: options.maxQuarantined ?? config.maxQuarantined,
    outputPrefix: config.outputPrefix,
    ...(options.signal ? { signal: options.signal } : {}),
    logger: options.logger ?? silentLogger,
  });
}

/** Builds the graph, runs once, closes the graph. */
export async function runOnce(config: StepConfig, options: RunOptions): Promise<CollectionSummary[]> {
  const graph = buildStepGraph(config, options.logger ?? silentLogger);
  try {
    return await runIn(graph, config, options);
  } finally {
    await graph.close();
  }
}

export interface ExpectedRow {
  readonly id: string;
  readonly timestamp: number;
  readonly record: string;
  readonly rowKey: string;
}

/** What a run over everything seeded must publish: the latest version of each of `records` records. */
export function expectedRows(collection: string, records: number, firstIndex = 0, seed?: string): Map<string, ExpectedRow> {
  const s = space(collection, seed);
  const rows = new Map<string, ExpectedRow>();
  for (let index = firstIndex; index < firstIndex + records; index += 1) {
    const v = versionInWindow(seededVersions(s, index), 0, Number.MAX_SAFE_INTEGER);
    if (v) rows.set(v.idJson, { id: v.idJson, timestamp: v.timestamp, record: v.plaintext, rowKey: printableRowKey(v.rowKey) });
  }
  return rows;
}

export interface PublishedRow extends ExpectedRow {
  readonly folder: string;
  readonly correlationId: string;
}

/** Every row readers would trust under the prefix (folders with a manifest), with the folder it came from. */
export async function publishedRows(s3: S3Client, bucket: string, prefix: string): Promise<PublishedRow[]> {
  const folders = await publishedFolders(s3, bucket, prefix);
  return folders.flatMap((f) => f.rows.map((r) => ({
    id: r.id as string,
    timestamp: new Date(r.timestamp as Date | number).getTime(),
    record: r.record as string,
    rowKey: r.row_key as string,
    folder: f.manifest.folder,
    correlationId: f.manifest.correlationId,
  })));
}

/** Multipart uploads still open under a prefix (each one is storage nobody will ever see or delete). */
export async function openUploads(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const page = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return (page.Uploads ?? []).map((u) => u.Key ?? '');
}

export async function dropTable(collection: string): Promise<void> {
  await new HBaseAdmin(stack.hbaseAdminUrl).deleteTable(collection).catch(() => undefined);
}
