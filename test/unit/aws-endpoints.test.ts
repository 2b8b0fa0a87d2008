import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, onTestFinished, vi } from 'vitest';
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { loadStepConfig } from '../../src/config/step-config.js';
import { clientConfig, kmsClient, s3Client } from '../../src/wiring/aws-clients.js';
import type { StackState } from '../../src/local/stack-state.js';

const base = { DKS_CLIENT_CERT: 'c', DKS_CLIENT_KEY: 'k', DKS_CA_CERT: 'ca' };

describe('per-service AWS endpoints', () => {
  it('AWS_ENDPOINT_URL_<SERVICE> overrides AWS_ENDPOINT_URL for its service only', () => {
    const config = loadStepConfig({ env: { ...base, AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:5000', AWS_ENDPOINT_URL_EMR: 'http://127.0.0.1:5000' } });
    expect(clientConfig(config, 'dynamodb').endpoint).toBe('http://127.0.0.1:5000');
    expect(clientConfig(config, 'emr').endpoint).toBe('http://127.0.0.1:5000');
    expect(clientConfig(config, 's3').endpoint).toBe('http://127.0.0.1:4566');
    expect(clientConfig(config, 'secretsmanager').endpoint).toBe('http://127.0.0.1:4566');
  });

  it('the flag map travels to children and workers as one setting, and beats the environment', () => {
    const config = loadStepConfig({
      flags: { awsServiceEndpoints: 's3=http://127.0.0.1:4567,kms=http://127.0.0.1:4567' },
      env: { ...base, AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9999' },
    });
    expect(config.awsServiceEndpoints).toEqual({ s3: 'http://127.0.0.1:4567', kms: 'http://127.0.0.1:4567' });
    expect(JSON.parse(JSON.stringify(config)).awsServiceEndpoints).toEqual(config.awsServiceEndpoints);
  });

  it('takes the local stack\'s LocalStack/moto split while the endpoint is the stack\'s', () => {
    const local = {
      hbaseRestUrl: 'http://127.0.0.1:8080', hbaseAdminUrl: 'http://127.0.0.1:8079', awsEndpointUrl: 'http://127.0.0.1:4566',
      awsServiceEndpoints: { s3: 'http://127.0.0.1:4567' }, awsRegion: 'eu-west-2', dksUrl: 'https://127.0.0.1:8443',
      dksClientCert: 'c', dksClientKey: 'k', dksCaCert: 'ca', pids: {},
    } satisfies StackState;
    expect(loadStepConfig({ env: {}, local }).awsServiceEndpoints).toEqual({ s3: 'http://127.0.0.1:4567' });
    expect(loadStepConfig({ env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:7000' }, local }).awsServiceEndpoints).toEqual({});
  });

  it('refuses an unknown service in the map, naming the known ones', () => {
    expect(() => loadStepConfig({ flags: { awsServiceEndpoints: 'sqs=http://x' }, env: base })).toThrow(/s3, dynamodb, secretsmanager, emr, kms, sns/);
  });
});

describe('a custom endpoint is not the local stack', () => {
  it('keeps the default credential chain and virtual-host S3 for a VPC endpoint', () => {
    const config = loadStepConfig({ env: { ...base, AWS_ENDPOINT_URL: 'https://s3.eu-west-2.vpce-0a1b2c.amazonaws.com' } });
    expect(config.awsEmulator).toBe(false);
    expect(clientConfig(config, 's3').credentials).toBeUndefined();
    expect(s3Client(config).config.forcePathStyle).toBe(false);
  });

  it('gives the local stack\'s loopback emulators test credentials and path-style S3', () => {
    // Without credentials of its own in the environment (make test's stack.env exports test ones).
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    onTestFinished(() => { vi.unstubAllEnvs(); });
    const config = loadStepConfig({ env: { ...base, AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' } });
    expect(config.awsEmulator).toBe(true);
    expect(clientConfig(config, 's3').credentials).toEqual({ accessKeyId: 'test', secretAccessKey: 'test' });
    expect(s3Client(config).config.forcePathStyle).toBe(true);
  });

  it('takes INGEST_AWS_EMULATOR=true for a LocalStack elsewhere, e.g. in Docker on another host', () => {
    const config = loadStepConfig({ env: { ...base, AWS_ENDPOINT_URL: 'http://localstack.internal:4566', INGEST_AWS_EMULATOR: 'true' } });
    expect(s3Client(config).config.forcePathStyle).toBe(true);
  });
});

describe('AWS errors name service, operation and endpoint', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    // What LocalStack community answers for a service outside its plan.
    server = createServer((_req, res) => {
      res.writeHead(501, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify({ __type: 'InternalFailure', message: 'API for service \'kms\' not yet implemented or pro feature' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('adds the AWS_ENDPOINT_URL_<SERVICE> fix to a 501', async () => {
    const client = kmsClient({ awsEndpointUrl: url, awsRegion: 'eu-west-2', awsEmulator: true });
    const error = await client.send(new ListKeysCommand({})).then(() => new Error('answered'), (e: unknown) => e as Error);
    expect(error.message).toContain(`KMS ListKeys at ${url}`);
    expect(error.message).toContain('HTTP 501');
    expect(error.message).toContain('set AWS_ENDPOINT_URL_KMS');
  });

  it('names the endpoint it could not reach', async () => {
    const client = kmsClient({ awsEndpointUrl: 'http://127.0.0.1:9', awsRegion: 'eu-west-2', awsEmulator: true });
    const error = await client.send(new ListKeysCommand({})).then(() => new Error('answered'), (e: unknown) => e as Error);
    expect(error.message).toMatch(/^KMS ListKeys at http:\/\/127\.0\.0\.1:9: /);
    expect(error.message).not.toContain('AWS_ENDPOINT_URL_KMS');
  });
});
