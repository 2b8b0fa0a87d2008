import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { collectionFromName, parseCollectionsSecret } from '../../src/collections/index.js';
import { createDecipheriv } from 'node:crypto';
import { parseEnvelope } from '../../src/contracts/envelope.js';
import { HBaseRestSource } from '../../src/hbase/rest-adapter.js';
import { DksKeyService } from '../../src/keys/dks-adapter.js';
import { HBaseAdmin } from '../../src/local/hbase-process.js';
import { seededRecords } from '../../src/local/seeder/documents.js';
import { LOCAL_AWS_NAMES, localSeedPorts } from '../../src/local/seeder/run-seed.js';
import { seededCollectionNames } from '../../src/local/seeder/collections.js';
import { ensureLocalAwsResources } from '../../src/local/aws-resources.js';
import { seedCollection } from '../../src/local/seeder/seed.js';
import { silentLogger } from '../../src/shared/logger.js';
import { localStack, uniqueCollection } from '../support/local-stack.js';

const run = promisify(execFile);
const stack = localStack();
const aws = { region: stack.awsRegion, endpoint: stack.awsEndpointUrl, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

describe('local stack', () => {
  it('reports every part up with its endpoints and client certificate as JSON', async () => {
    const { stdout } = await run(process.execPath, ['dist/src/cli/main.js', 'local', 'status', '--json']);
    const status = JSON.parse(stdout) as Record<string, unknown> & { parts: Record<string, { up: boolean }> };
    for (const field of ['hbaseRestUrl', 'awsEndpointUrl', 'dksUrl', 'dksClientCert', 'dksClientKey', 'dksCaCert']) {
      expect(typeof status[field]).toBe('string');
    }
    expect(status.parts.hbase?.up && status.parts.aws?.up && status.parts.dks?.up).toBe(true);
    expect(readFileSync(status.envFile as string, 'utf8')).toContain(`export HBASE_REST_URL='${stack.hbaseRestUrl}'`);
  });

  it('is idempotent: `up` again adopts what runs and starts nothing', async () => {
    const before = readFileSync('.local/stack.json', 'utf8');
    await run(process.execPath, ['dist/src/cli/main.js', 'local', 'up'], { timeout: 60_000 });
    expect(JSON.parse(readFileSync('.local/stack.json', 'utf8')).pids).toEqual(JSON.parse(before).pids);
  });

  it('DKS refuses a client without a certificate (403)', async () => {
    const status = await new Promise<number | string>((resolve) => {
      const req = request(`${stack.dksUrl}/datakey?correlationId=x`, { ca: readFileSync(stack.dksCaCert) }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (e) => resolve(e.message));
      req.end();
    });
    expect(status).toBe(403);
  });
});

describe('seeder', () => {
  const collection = uniqueCollection('seedtest');
  const space = { seed: 'itest', collection, from: Date.UTC(2025, 0, 1), until: Date.UTC(2025, 2, 1) };
  const records = 300;

  beforeAll(async () => {
    const ports = localSeedPorts(stack);
    try {
      await seedCollection(ports, { collection, space, records, keys: 4, regions: 3 }, silentLogger);
    } finally {
      await ports.close();
    }
  });

  it('writes rows that decrypt through DKS over mutual TLS to the seeder\'s plaintexts', async () => {
    const hbase = new HBaseRestSource({ url: stack.hbaseRestUrl });
    const dks = new DksKeyService({
      url: stack.dksUrl, caCert: readFileSync(stack.dksCaCert), clientCert: readFileSync(stack.dksClientCert), clientKey: readFileSync(stack.dksClientKey),
    });
    try {
      const regions = await hbase.regions(collection);
      expect(regions).toHaveLength(3);
      const decrypted = new Map<string, { plaintext: string; timestamp: number }>();
      const wrapped = new Set<string>();
      for (const range of regions) {
        for await (const cells of hbase.scan({ table: collection, range, window: { start: 0, end: Date.UTC(2030, 0, 1) } })) {
          for (const cell of cells) {
            const e = parseEnvelope(cell.value);
            wrapped.add(e.encryptedEncryptionKey);
            const key = await dks.unwrap(e, 'itest');
            const d = createDecipheriv('aes-128-ctr', key, e.iv);
            decrypted.set(cell.rowKey.toString('hex'), { plaintext: Buffer.concat([d.update(e.ciphertext), d.final()]).toString('utf8'), timestamp: cell.timestamp });
          }
        }
      }
      expect(wrapped.size).toBe(4);
      expect(decrypted.size).toBe(records);
      for (const truth of seededRecords(space, records)) {
        expect(decrypted.get(truth.rowKey.toString('hex'))).toEqual({ plaintext: truth.plaintext, timestamp: truth.timestamp });
      }
    } finally {
      await Promise.all([hbase.close(), dks.close()]);
      await new HBaseAdmin(stack.hbaseAdminUrl).deleteTable(collection);
    }
  });

  it('DKS answers a garbled STANDALONE wrapped key with 500, as the real DKS does (not 400)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${stack.dksUrl}/datakey/actions/decrypt?keyId=STANDALONE&correlationId=x`, {
        method: 'POST', ca: readFileSync(stack.dksCaCert), cert: readFileSync(stack.dksClientCert), key: readFileSync(stack.dksClientKey),
      }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end('this is not a wrapped key!');
    });
    expect(status).toBe(500);
  });
});

describe('local AWS resources', () => {
  beforeAll(async () => {
    // What `local seed` creates beside the tables (seeding HBase itself is covered above).
    await ensureLocalAwsResources({
      endpoint: stack.awsEndpointUrl, region: stack.awsRegion, ...LOCAL_AWS_NAMES,
      collections: seededCollectionNames(3).map((name) => collectionFromName(name)),
    });
  });

  it('has the status table with its byCollection GSI', async () => {
    const table = await new DynamoDBClient(aws).send(new DescribeTableCommand({ TableName: LOCAL_AWS_NAMES.statusTable }));
    expect(table.Table?.KeySchema).toEqual([{ AttributeName: 'CorrelationId', KeyType: 'HASH' }, { AttributeName: 'Collection', KeyType: 'RANGE' }]);
    const gsi = table.Table?.GlobalSecondaryIndexes?.find((g) => g.IndexName === 'byCollection');
    expect(gsi?.KeySchema).toEqual([{ AttributeName: 'Collection', KeyType: 'HASH' }, { AttributeName: 'TriggeredTime', KeyType: 'RANGE' }]);
  });

  it('has the collections secret in the legacy format', async () => {
    const secret = await new SecretsManagerClient(aws).send(new GetSecretValueCommand({ SecretId: LOCAL_AWS_NAMES.collectionsSecretId }));
    const text = Buffer.from(secret.SecretString ?? '', 'base64').toString('utf8');
    expect(text).toMatch(/^\{'collections_all': \{'db\./);
    expect(parseCollectionsSecret(secret.SecretString ?? '', 'test').map((c) => c.name)).toContain('core:addresses');
  });

  it('has the output bucket', async () => {
    const head = await new S3Client({ ...aws, forcePathStyle: true }).send(new HeadBucketCommand({ Bucket: LOCAL_AWS_NAMES.bucket }));
    expect(head.$metadata.httpStatusCode).toBe(200);
  });
});
