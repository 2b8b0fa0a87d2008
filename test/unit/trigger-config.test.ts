import { describe, expect, it } from 'vitest';
import { LAUNCH_REQUIRED, loadOrchestratorConfig } from '../../src/config/orchestrator-config.js';
import { ConfigError } from '../../src/shared/errors.js';
import type { StackState } from '../../src/local/stack-state.js';
import { LAUNCH_ENV } from '../support/launch-env.js';

const local: StackState = {
  hbaseRestUrl: 'http://127.0.0.1:8080', hbaseAdminUrl: 'http://127.0.0.1:8079', awsEndpointUrl: 'http://127.0.0.1:4566', awsRegion: 'eu-west-2',
  dksUrl: 'https://127.0.0.1:8443', dksClientCert: '/c', dksClientKey: '/k', dksCaCert: '/ca', pids: {},
};

describe('loadOrchestratorConfig', () => {
  it('defaults to EMR 7, a 15 minute wait and idle timeout, and the ingest-replica prefix', () => {
    const config = loadOrchestratorConfig({ env: {} });
    expect(config).toMatchObject({ emrReleaseLabel: 'emr-7.9.0', waitMs: 900_000, idleTimeoutMs: 900_000, clusterNamePrefix: 'ingest-replica', local: false });
    expect(config.alertsTopicArn).toBeUndefined();
  });

  it('takes a flag over the environment over the config file', () => {
    expect(loadOrchestratorConfig({ env: { INGEST_TRIGGER_WAIT: '2m' } }).waitMs).toBe(120_000);
    expect(loadOrchestratorConfig({ env: { INGEST_TRIGGER_WAIT: '2m' }, flags: { wait: '90s' } }).waitMs).toBe(90_000);
  });

  it('points at local resources on the local stack, where a subnet is not needed', () => {
    const config = loadOrchestratorConfig({ env: {}, local, require: LAUNCH_REQUIRED });
    expect(config.local).toBe(true);
    expect(config.alertsTopicArn).toBe('arn:aws:sns:eu-west-2:123456789012:ingest-replica-alerts');
    expect(config.hbaseRootDir).toBe('s3://ingest-replica-hbase-root/hbase');
  });

  it('requires, outside the local stack, every setting the launch and the step need in AWS, naming each and where to set it', () => {
    const error = (() => { try { loadOrchestratorConfig({ env: {}, require: LAUNCH_REQUIRED }); } catch (e) { return e as Error; } return undefined; })();
    expect(error).toBeInstanceOf(ConfigError);
    const lines = (error?.message ?? '').split('\n').filter((l) => l.startsWith('  - '));
    expect(lines.map((l) => /^ {2}- (\w+) /.exec(l)?.[1])).toEqual([
      'emrLogUri', 'artifactsUri', 'hbaseRootDir', 'securityConfiguration', 'subnetId',
      'dksUrl', 'dksCertSecret', 'kmsKeyId', 'outputBucket', 'collectionsSecret', 'alertsTopicArn',
    ]);
    expect(error?.message).toContain('dksUrl (Data Key Service base URL, https): set flag --dks-url <value>, environment DKS_URL, or config file key "dksUrl"');
    expect(error?.message).toContain('kmsKeyId (KMS key id/ARN/alias for SSE-KMS of the output): set flag --kms-key-id <value>, environment INGEST_KMS_KEY_ID');
  });

  it('does not take the step\'s local-stack defaults (DKS on 127.0.0.1, the seeder\'s bucket) for set, and needs no DKS settings with KMS keys', () => {
    const env: Record<string, string> = { ...LAUNCH_ENV };
    expect(loadOrchestratorConfig({ env, require: LAUNCH_REQUIRED }).step.dksUrl).toBe('https://dks.internal.example:8443');
    const { DKS_URL: _u, INGEST_KMS_KEY_ID: _k, ...partial } = env;
    expect(() => loadOrchestratorConfig({ env: partial, require: LAUNCH_REQUIRED })).toThrow(/needs 2 settings that are not set:\n {2}- dksUrl .*\n {2}- kmsKeyId /);
    const { DKS_URL: _d, INGEST_DKS_CERT_SECRET: _s, ...noDks } = env;
    expect(loadOrchestratorConfig({ env: { ...noDks, INGEST_KEY_SERVICE: 'kms' }, require: LAUNCH_REQUIRED }).step.keyService).toBe('kms');
  });

  it('keeps the required list one constant with the environment variables a deployment sets', () => {
    expect(LAUNCH_REQUIRED.map((r) => r.env)).toEqual([
      'INGEST_EMR_LOG_URI', 'INGEST_ARTIFACTS_URI', 'INGEST_HBASE_ROOT_DIR', 'INGEST_EMR_SECURITY_CONFIGURATION', 'INGEST_EMR_SUBNET_ID',
      'DKS_URL', 'INGEST_DKS_CERT_SECRET', 'INGEST_KMS_KEY_ID', 'INGEST_OUTPUT_BUCKET', 'INGEST_COLLECTIONS_SECRET', 'INGEST_ALERTS_TOPIC_ARN',
    ]);
  });

  it('refuses a release other than EMR 7.x, a prefix the purge would not match, and a bad retention', () => {
    expect(() => loadOrchestratorConfig({ env: { INGEST_EMR_RELEASE: 'emr-6.15.0' } })).toThrow(ConfigError);
    expect(() => loadOrchestratorConfig({ env: { INGEST_CLUSTER_NAME_PREFIX: 'replica-test' } })).toThrow(/must start with ingest-replica/);
    expect(() => loadOrchestratorConfig({ env: { INGEST_LOG_RETENTION_DAYS: '31' } })).toThrow(/INGEST_LOG_RETENTION_DAYS/);
    expect(() => loadOrchestratorConfig({ env: { INGEST_EMR_IDLE_TIMEOUT: '30s' } })).toThrow(/between 1m and 7d/);
  });
});
