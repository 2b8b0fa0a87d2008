import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { loadStepConfig } from '../../src/config/step-config.js';
import { ConfigError } from '../../src/shared/errors.js';
import { createS3RecordSink } from '../../src/sink/s3-adapter.js';

describe('output encryption (issue 16 item 5)', () => {
  const s3 = new S3Client({ region: 'eu-west-2', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });

  it('refuses to build a sink without a KMS key outside the local stack, naming the setting', () => {
    const build = () => createS3RecordSink({ s3, bucket: 'out', encoderThreads: 0 });
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(/no KMS key for the output in bucket out.*INGEST_KMS_KEY_ID/);
  });

  it('builds one with a KMS key, or unencrypted where allowed (the local stack)', async () => {
    await createS3RecordSink({ s3, bucket: 'out', kmsKeyId: 'alias/out', encoderThreads: 0 }).close();
    await createS3RecordSink({ s3, bucket: 'out', allowUnencrypted: true, encoderThreads: 0 }).close();
  });

  it('allows unencrypted output only for a config loaded against a local stack', () => {
    const flags = { dksClientCert: 'c', dksClientKey: 'k', dksCaCert: 'a' };
    expect(loadStepConfig({ flags, env: {} }).localStack).toBe(false);
    expect(loadStepConfig({ flags, env: {} }).kmsKeyId).toBeUndefined();
  });
});
