import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/shared/project-root.js';
import { seededCollectionNames } from '../../src/local/seeder/collections.js';
import { DEFAULT_SEED_FROM, DEFAULT_SEED_UNTIL } from '../../src/local/seeder/collections.js';
import { seededVersions } from '../../src/local/seeder/documents.js';
import { LOCAL_AWS_NAMES } from '../../src/local/local-aws-names.js';
import type { StackState } from '../../src/local/stack-state.js';
import { localStack } from '../support/local-stack.js';
import { publishedFolders } from '../support/published-output.js';
import { cli, freePort, sharedStackHome, startedPids } from '../support/stack-home.js';

/**
 * The main job across two endpoints, as `local up --aws localstack` sets them up: a real LocalStack
 * (localstack-core 2026.3.0, `make localstack`) for S3, KMS, Secrets Manager and SNS, moto for DynamoDB and
 * EMR, and the suite's HBase and DKS.
 */
const python = join(projectRoot(), '.tools', 'localstack', 'bin', 'python');
const stack = localStack();
const RECORDS = 200;
const SEED = 'localstack-itest';
const collection = seededCollectionNames(1)[0] as string;

describe('against LocalStack (S3, KMS, Secrets Manager, SNS) and moto (DynamoDB, EMR)', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;
  let localstackUrl: string;
  let state: StackState;

  beforeAll(async () => {
    // Never a silent skip: without the runtime this test fails and says how to get it.
    if (!existsSync(python)) throw new Error(`LocalStack's runtime is missing (${python}). Fix: \`make localstack\` (needs Python 3.13: \`pyenv install 3.13\`); make test builds it.`);
    const shared = sharedStackHome(stack, 'localstack');
    home = shared.home;
    env = { INGEST_REPLICA_HOME: home };
    const port = await freePort();
    localstackUrl = `http://127.0.0.1:${port}`;
    const up = await cli(['local', 'up', '--json', ...shared.flags, '--aws', 'localstack', '--aws-port', new URL(stack.awsEndpointUrl).port, '--localstack-port', String(port)], env);
    expect(up.code, up.stderr).toBe(0);
    expect(Object.keys(startedPids(up.stderr))).toEqual(['localstack']);
    state = JSON.parse(up.stdout) as StackState;
  }, 180_000);

  afterAll(async () => {
    if (home === undefined) return;
    await cli(['local', 'down'], env);
    rmSync(home, { recursive: true, force: true });
  });

  it('splits the services: LocalStack for S3, KMS, Secrets Manager and SNS, moto for the rest', () => {
    expect(state.awsEndpointUrl).toBe(stack.awsEndpointUrl);
    expect(state.awsServiceEndpoints).toEqual({ s3: localstackUrl, kms: localstackUrl, secretsmanager: localstackUrl, sns: localstackUrl });
  });

  it('adopts the running LocalStack for --aws localstack, and refuses it as moto, naming what it serves', async () => {
    const other = sharedStackHome(stack, 'localstack-adopt');
    const port = new URL(localstackUrl).port;
    try {
      const again = await cli(['local', 'up', ...other.flags, '--aws', 'localstack', '--aws-port', new URL(stack.awsEndpointUrl).port, '--localstack-port', port], { INGEST_REPLICA_HOME: other.home });
      expect(again.code, again.stderr).toBe(0);
      expect(startedPids(again.stderr)).toEqual({});
      expect(again.stdout).toMatch(/localstack +up \(not ours\)/);
      const asMoto = await cli(['local', 'up', ...other.flags, '--aws-port', port], { INGEST_REPLICA_HOME: other.home });
      expect(asMoto.code).toBe(2);
      expect(asMoto.stderr).toContain(`port ${port} holds LocalStack 2026.3.0 (it serves s3, kms, secretsmanager, sns`);
      expect(asMoto.stderr).toContain('--aws localstack');
      await cli(['local', 'down'], { INGEST_REPLICA_HOME: other.home });
      expect((await fetch(`${localstackUrl}/_localstack/health`)).ok).toBe(true);
    } finally {
      rmSync(other.home, { recursive: true, force: true });
    }
  });

  it('seeds, runs, reprocesses, lists, reports and dry-runs a launch across the two endpoints', async () => {
    const seed = await cli(['local', 'seed', '--fresh', '--collections', '1', '--records', String(RECORDS), '--keys', '3', '--regions', '2', '--seed', SEED], env);
    expect(seed.code, seed.stderr).toBe(0);

    // Through Spark: each task's worker must reach LocalStack's S3 and KMS, and moto's DynamoDB, as the step does.
    const now = Date.now();
    const run = await cli(['run', '--correlation-id', `ls-${now}`, '--triggered-time', String(now), '--end-time', String(now), '--collections', collection,
      '--engine', 'spark', '--spark-executor-cores', '1', '--spark-tasks-per-core', '2'], env);
    expect(run.code, run.stderr).toBe(0);

    // The published rows equal the seeder's truth (every record's latest version), read from LocalStack's S3.
    const s3 = new S3Client({ region: stack.awsRegion, endpoint: localstackUrl, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const space = { seed: SEED, collection, from: DEFAULT_SEED_FROM, until: DEFAULT_SEED_UNTIL };
    const truth = Array.from({ length: RECORDS }, (_, i) => seededVersions(space, i).at(-1)!);
    const [folder] = await publishedFolders(s3, LOCAL_AWS_NAMES.bucket, 'incremental');
    expect(folder?.manifest.correlationId).toBe(`ls-${now}`);
    const rows = new Map(folder!.rows.map((r) => [r.id as string, r.record as string]));
    expect(rows).toEqual(new Map(truth.map((v) => [v.idJson, v.plaintext])));

    // SSE-KMS with LocalStack's key.
    const kms = new KMSClient({ region: stack.awsRegion, endpoint: localstackUrl, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const key = await kms.send(new DescribeKeyCommand({ KeyId: LOCAL_AWS_NAMES.kmsAlias }));
    const part = folder!.manifest.files[0]!.key;
    const head = await s3.send(new HeadObjectCommand({ Bucket: LOCAL_AWS_NAMES.bucket, Key: part }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    // LocalStack records the key as the step named it (the alias, inside a key ARN), where AWS records the
    // key's ARN; either way it is the alias that resolves to LocalStack's key above.
    expect([key.KeyMetadata?.Arn, `arn:aws:kms:${stack.awsRegion}:000000000000:key/${LOCAL_AWS_NAMES.kmsAlias}`]).toContain(head.SSEKMSKeyId);
    expect(key.KeyMetadata?.Enabled).toBe(true);

    // The output went to LocalStack, not moto.
    const moto = new S3Client({ region: stack.awsRegion, endpoint: stack.awsEndpointUrl, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const onMoto = await moto.send(new ListObjectsV2Command({ Bucket: LOCAL_AWS_NAMES.bucket, Prefix: part })).catch(() => ({ KeyCount: 0 }));
    expect(onMoto.KeyCount ?? 0).toBe(0);

    const reprocess = await cli(['reprocess', collection, '--from', String(DEFAULT_SEED_FROM), '--to', String(DEFAULT_SEED_UNTIL), '--output-prefix', 'reprocess', '--engine', 'single'], env);
    expect(reprocess.code, reprocess.stderr).toBe(0);
    const [again] = await publishedFolders(s3, LOCAL_AWS_NAMES.bucket, 'reprocess');
    expect(new Set(again!.rows.map((r) => r.id as string))).toEqual(new Set(rows.keys()));

    const list = await cli(['output', 'list', '--collection', collection], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toContain(`ls-${now}`);

    // The status rows live in moto's DynamoDB.
    const status = await cli(['status', '--collection', collection, '--json'], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain('EMR_COMPLETED');

    const trigger = await cli(['trigger', '--local', '--dry-run', '--force', '--json', '--collections', collection], env);
    expect(trigger.code, trigger.stderr).toBe(0);
    const dryRun = JSON.parse(trigger.stdout) as { outcome: string; collections: string[] };
    expect(dryRun).toMatchObject({ outcome: 'dry-run', collections: [collection] });
    expect(trigger.stdout).toContain('"--collections"');
    s3.destroy();
    moto.destroy();
    kms.destroy();
  });

  it('names the EMR operation, the endpoint and the fix when EMR is sent to LocalStack (501)', async () => {
    const trigger = await cli(['trigger', '--local', '--force', '--wait', '90s', '--collections', collection], { ...env, AWS_ENDPOINT_URL_EMR: localstackUrl, LOG_LEVEL: 'warn' });
    await cli(['ack', collection, '--by', 'localstack-itest'], env);
    expect(trigger.code).toBe(1);
    const output = trigger.stdout + trigger.stderr;
    expect(output).toMatch(new RegExp(`EMR [A-Za-z]+ at ${localstackUrl}: `));
    expect(output).toContain('HTTP 501');
    expect(output).toContain('set AWS_ENDPOINT_URL_EMR');
  });
});
