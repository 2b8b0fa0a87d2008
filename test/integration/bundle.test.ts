import { execFile, type ExecFileException } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, GetBucketLifecycleConfigurationCommand, PutBucketLifecycleConfigurationCommand,
  PutObjectCommand, S3Client, type PutBucketLifecycleConfigurationCommandInput,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStepConfig, type StepConfig } from '../../src/config/step-config.js';
import { HBaseAdmin } from '../../src/local/hbase-process.js';
import { localHome } from '../../src/local/paths.js';
import { seededRecord, type RecordSpace } from '../../src/local/seeder/documents.js';
import { DynamoStatusStore } from '../../src/status/dynamo-status-adapter.js';
import { dynamoDocumentClient, s3Client } from '../../src/wiring/aws-clients.js';
import { localStack, seedLocal, uniqueCollection } from '../support/local-stack.js';
import { publishedFolders } from '../support/published-output.js';

const exec = promisify(execFile);
const repo = join(import.meta.dirname, '../..');
const stack = localStack();
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

interface Ran { code: number; stdout: string; stderr: string }
async function run(file: string, args: string[], options: { cwd?: string; env: NodeJS.ProcessEnv }): Promise<Ran> {
  try {
    const { stdout, stderr } = await exec(file, args, { ...options, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const error = e as ExecFileException & { stdout?: string; stderr?: string };
    return { code: typeof error.code === 'number' ? error.code : 1, stdout: error.stdout ?? '', stderr: error.stderr ?? '' };
  }
}

/** What the cluster gives the step: no checkout, settings from the environment (the config file's stand-in). */
function clusterEnv(config: StepConfig, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info',
    HBASE_REST_URL: stack.hbaseRestUrl, DKS_URL: stack.dksUrl,
    DKS_CLIENT_CERT: stack.dksClientCert, DKS_CLIENT_KEY: stack.dksClientKey, DKS_CA_CERT: stack.dksCaCert,
    AWS_ENDPOINT_URL: stack.awsEndpointUrl, AWS_REGION: stack.awsRegion, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test',
    INGEST_OUTPUT_BUCKET: config.outputBucket, INGEST_STATUS_TABLE: config.statusTable,
    INGEST_COLLECTIONS_SECRET: config.collectionsSecret, ...(config.kmsKeyId ? { INGEST_KMS_KEY_ID: config.kmsKeyId } : {}),
    ...extra,
  };
}

describe('the EMR bundle (scripts/bundle.sh --no-runtimes)', () => {
  const out = mkdtempSync(join(tmpdir(), 'ir-bundle-'));
  const stage = join(out, 'ingest-replica-itest-no-runtimes');
  const artifact = `${stage}.tar.gz`;
  const collection = uniqueCollection('bundle');
  const space: RecordSpace = { seed: 'bundle-itest', collection, from: Date.UTC(2025, 0, 1), until: Date.UTC(2025, 1, 1) };
  const records = 150;
  const config = loadStepConfig({ local: stack, localHome: localHome(), flags: { engine: 'single' }, env: {} });

  beforeAll(async () => {
    const [built] = await Promise.all([
      run('bash', [join(repo, 'scripts/bundle.sh'), '--no-runtimes', '--out', out, '--version', 'itest'], { env: process.env }),
      seedLocal({ collection, space, records, keys: 3, regions: 2 }),
    ]);
    expect(built.code, built.stderr).toBe(0);
  });

  afterAll(async () => {
    rmSync(out, { recursive: true, force: true });
    await new HBaseAdmin(stack.hbaseAdminUrl).deleteTable(collection).catch(() => undefined);
  });

  it('packs the CLI, the encoder thread entry, the step wrapper and the bootstrap scripts, with a matching sha256', async () => {
    const [recorded, name] = readFileSync(`${artifact}.sha256`, 'utf8').trim().split(/\s+/);
    expect(name).toBe('ingest-replica-itest-no-runtimes.tar.gz');
    expect(recorded).toBe(sha256(readFileSync(artifact)));
    const listing = (await exec('tar', ['-tzf', artifact])).stdout.split('\n');
    for (const entry of [
      './VERSION', './package.json', './dist/ingest-replica.js', './dist/parquet-encoder-adapter.js',
      './steps/run-step.sh', './steps/step-definition.json', './bootstrap/install-ingest-replica.sh',
      './bootstrap/ensure-hbase-rest.sh', './bootstrap/install-cloudwatch-agent.sh', './cloudwatch/agent-config.json',
      './spark/driver.py', './spark/log4j2.properties',
    ]) expect(listing, entry).toContain(entry);
    expect(listing.some((e) => e.startsWith('./runtimes'))).toBe(false);
    expect(readFileSync(join(stage, 'VERSION'), 'utf8')).toMatch(/^version=itest\n[\s\S]*runtimes=none/);
  });

  it('starts with this machine\'s Node, outside the checkout, and lists its commands', async () => {
    const help = await run(process.execPath, [join(stage, 'dist/ingest-replica.js'), '--help'], { cwd: out, env: { PATH: process.env.PATH } });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/\brun \[options\]/);
    expect(help.stdout).toMatch(/\breprocess \[options\] <collection>/);
    expect(help.stdout).toMatch(/\bscan-range\b/);
  });

  it('runs the step through steps/run-step.sh and the Spark engine: REST checked, the bundle\'s driver and worker used, every seeded record published, EMR_COMPLETED, JSON logs teed', async () => {
    // The layout the bootstrap action leaves: <install>/node/bin/node next to dist/ and steps/.
    mkdirSync(join(stage, 'node/bin'), { recursive: true });
    symlinkSync(process.execPath, join(stage, 'node/bin/node'));
    // As on the master: the wrapper first makes sure the HBase REST server answers (here the local stack's).
    mkdirSync(join(stage, 'etc'));
    writeFileSync(join(stage, 'etc/hbase-rest.env'), `HBASE_REST_PORT=${new URL(stack.hbaseRestUrl).port}\n`);
    const prefix = `itest-bundle-${randomBytes(4).toString('hex')}`;
    const correlationId = `itest-bundle-${randomBytes(4).toString('hex')}`;
    const logDir = join(out, 'log');
    const now = Date.now();
    const step = await run('bash', [
      join(stage, 'steps/run-step.sh'), '--correlation-id', correlationId, '--triggered-time', String(now),
      '--end-time', String(now), '--collections', collection,
    ], {
      cwd: out,
      env: clusterEnv(config, {
        INGEST_OUTPUT_PREFIX: prefix, INGEST_REPLICA_LOG_DIR: logDir,
        // As on EMR, the production engine; the project's Spark stands in for the cluster's.
        INGEST_ENGINE: 'spark', SPARK_HOME: config.sparkHome, PYSPARK_PYTHON: config.sparkPython, SPARK_MASTER: 'local[2,4]',
        INGEST_SPARK_EXECUTOR_CORES: '1', INGEST_SPARK_TASKS_PER_CORE: '2',
      }),
    });
    expect(step.code, step.stderr.slice(-3000)).toBe(0);

    const s3 = s3Client(config);
    const folders = await publishedFolders(s3, config.outputBucket, prefix);
    s3.destroy();
    expect(folders).toHaveLength(1);
    const [folder] = folders;
    expect(folder!.manifest.correlationId).toBe(correlationId);
    expect(folder!.manifest.rows).toBe(records);
    expect(folder!.rows).toHaveLength(records);
    // Decrypted for real: each row's record is the seeded plaintext of its id.
    const expected = new Map(Array.from({ length: records }, (_, i) => seededRecord(space, i)).map((r) => [r.idJson, r.plaintext]));
    for (const row of folder!.rows) expect(row.record).toBe(expected.get(row.id as string));

    const status = new DynamoStatusStore({ tableName: config.statusTable, client: dynamoDocumentClient(config) });
    expect((await status.get(correlationId, collection))?.status).toBe('EMR_COMPLETED');

    const lines = readFileSync(join(logDir, `step-${correlationId}.log`), 'utf8').trim().split('\n');
    const entries = lines.map((line) => JSON.parse(line) as { msg?: string; name?: string });
    expect(entries.some((e) => e.name === 'ingest-replica/run-step')).toBe(true);
    expect(entries.some((e) => e.msg === 'collection summary')).toBe(true);
    expect(readFileSync(join(logDir, 'hbase-rest.log'), 'utf8')).toMatch(/the HBase REST server answers on port \d+/);
  });
});

describe('install-ingest-replica.sh (bootstrap action) against S3 on the local stack', () => {
  const work = mkdtempSync(join(tmpdir(), 'ir-install-'));
  const bucket = `itest-artifacts-${randomBytes(4).toString('hex')}`;
  const s3 = new S3Client({ region: stack.awsRegion, endpoint: stack.awsEndpointUrl, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const home = join(work, 'opt/ingest-replica');
  const script = join(repo, 'emr-config/bootstrap/install-ingest-replica.sh');
  let sha = '';
  // We run as root here: `sudo` only has to run its command. Everything else (aws, tar, sha256sum) is real.
  const env = (): NodeJS.ProcessEnv => ({
    PATH: `${join(work, 'bin')}:${process.env.PATH ?? ''}`, HOME: process.env.HOME,
    AWS_ENDPOINT_URL: stack.awsEndpointUrl, AWS_REGION: stack.awsRegion, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test',
    INGEST_REPLICA_INSTALL: home, INGEST_REPLICA_LOG_DIR: join(work, 'log'), EMR_INSTANCE_INFO: join(work, 'instance.json'),
  });

  beforeAll(async () => {
    mkdirSync(join(work, 'bin'), { recursive: true });
    writeFileSync(join(work, 'bin/sudo'), '#!/bin/sh\nwhile [ "${1#-}" != "$1" ]; do [ "$1" = -u ] && shift; shift; done\nexec "$@"\n');
    chmodSync(join(work, 'bin/sudo'), 0o755);
    writeFileSync(join(work, 'instance.json'), '{"isMaster": false, "instanceGroupId": "ig-1"}');
    // An artifact with this machine's runtime only: the stage of the no-runtimes bundle plus a link to this Node.
    const stage = join(work, 'stage');
    const built = await run('bash', [join(repo, 'scripts/bundle.sh'), '--no-runtimes', '--out', join(work, 'build'), '--version', 'itest'], { env: process.env });
    expect(built.code, built.stderr).toBe(0);
    await exec('cp', ['-a', join(work, 'build/ingest-replica-itest-no-runtimes'), stage]);
    mkdirSync(join(stage, 'runtimes/linux-x64/node/bin'), { recursive: true });
    symlinkSync(process.execPath, join(stage, 'runtimes/linux-x64/node/bin/node'));
    await exec('tar', ['-czf', join(work, 'artifact.tar.gz'), '-C', stage, '.']);
    const bytes = readFileSync(join(work, 'artifact.tar.gz'));
    sha = sha256(bytes);
    await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: stack.awsRegion as never } }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ingest-replica/a.tar.gz', Body: bytes }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ingest-replica/a.tar.gz.sha256', Body: `${sha}  a.tar.gz\n` }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'config/step.json', Body: '{"outputBucket":"b"}' }));
  });

  afterAll(async () => {
    rmSync(work, { recursive: true, force: true });
    for (const Key of ['ingest-replica/a.tar.gz', 'ingest-replica/a.tar.gz.sha256', 'config/step.json']) {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key })).catch(() => undefined);
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
    s3.destroy();
  });

  it('installs the runtime for this architecture and the settings, reading the sha256 beside the artifact', async () => {
    const first = await run('bash', [script, `s3://${bucket}/ingest-replica/a.tar.gz`, '-', '--config', `s3://${bucket}/config/step.json`, '--no-rest'], { env: env() });
    expect(first.code, first.stdout).toBe(0);
    expect(readFileSync(join(home, '.artifact-sha256'), 'utf8').trim()).toBe(sha);
    expect((await exec(join(home, 'node/bin/node'), ['--version'])).stdout).toMatch(/^v24\./);
    expect(existsSync(join(home, 'dist/ingest-replica.js'))).toBe(true);
    expect(existsSync(join(home, 'runtimes'))).toBe(false);
    expect(JSON.parse(readFileSync(join(home, 'etc/config.json'), 'utf8'))).toEqual({ outputBucket: 'b' });
    expect(existsSync(join(home, 'etc/hbase-rest.env'))).toBe(false); // --no-rest: no REST server (there is no HBase here)
    expect(readFileSync(join(work, 'log/bootstrap.log'), 'utf8')).toMatch(/installed itest \(linux-x64, Node v24/);

    const again = await run('bash', [script, `s3://${bucket}/ingest-replica/a.tar.gz`, sha, '--no-rest'], { env: env() });
    expect(again.code, again.stdout).toBe(0);
    expect(again.stdout).toMatch(/already installed: nothing to do/);
  });

  it('refuses an artifact whose sha256 does not match, leaving the installed one in place', async () => {
    const wrong = await run('bash', [script, `s3://${bucket}/ingest-replica/a.tar.gz`, 'a'.repeat(64), '--no-rest'], { env: env() });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stdout).toMatch(/sha256 mismatch/);
    expect(readFileSync(join(home, '.artifact-sha256'), 'utf8').trim()).toBe(sha);
  });
});

describe('emr-config/s3/output-bucket-lifecycle.json on S3 of the local stack', () => {
  it('is accepted as a bucket lifecycle and aborts incomplete multipart uploads after one day', async () => {
    const s3 = new S3Client({ region: stack.awsRegion, endpoint: stack.awsEndpointUrl, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const bucket = `itest-lifecycle-${randomBytes(4).toString('hex')}`;
    const lifecycle = JSON.parse(readFileSync(join(repo, 'emr-config/s3/output-bucket-lifecycle.json'), 'utf8')) as PutBucketLifecycleConfigurationCommandInput['LifecycleConfiguration'];
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: stack.awsRegion as never } }));
      await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: lifecycle }));
      const { Rules } = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
      expect(Rules).toHaveLength(1);
      expect(Rules?.[0]).toMatchObject({ Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } });
    } finally {
      await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
      s3.destroy();
    }
  });
});

describe('emr-config/iam policy documents', () => {
  it('pass moto\'s IAM policy validator once their placeholders are filled in', async () => {
    // moto's validator is the one its IAM CreatePolicy runs: grammar, action prefixes, condition operators, ARNs.
    const validate = String.raw`
import glob, json, re, sys
from moto.iam.policy_validation import IAMPolicyDocumentValidator
def fill(m):
    name = m.group(1)
    if name == 'Region': return 'eu-west-2'
    if name == 'AccountId': return '123456789012'
    if name.endswith('KmsKeyArn'): return 'arn:aws:kms:eu-west-2:123456789012:key/00000000-0000-0000-0000-000000000000'
    return 'x-' + name.lower()
for path in sorted(glob.glob(sys.argv[1] + '/*.json')):
    IAMPolicyDocumentValidator(re.sub(r'\$\{(\w+)\}', fill, open(path).read())).validate()
    print('valid', path.rsplit('/', 1)[-1])
`;
    const { stdout } = await exec('python3', ['-c', validate, join(repo, 'emr-config/iam')]);
    expect(stdout.trim().split('\n')).toEqual([
      'valid cluster-instance-profile-policy.json', 'valid purge-lambda-policy.json', 'valid trigger-lambda-policy.json',
    ]);
  });
});
