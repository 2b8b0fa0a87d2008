import { describe, expect, it } from 'vitest';
import { LAUNCH_REQUIRED, loadOrchestratorConfig } from '../../src/config/orchestrator-config.js';
import { ConfigError } from '../../src/shared/errors.js';
import type { StackState } from '../../src/local/stack-state.js';

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
    const config = loadOrchestratorConfig({ env: {}, local, require: [...LAUNCH_REQUIRED, 'alertsTopicArn'] });
    expect(config.local).toBe(true);
    expect(config.alertsTopicArn).toBe('arn:aws:sns:eu-west-2:123456789012:ingest-replica-alerts');
    expect(config.hbaseRootDir).toBe('s3://ingest-replica-hbase-root/hbase');
  });

  it('requires what a launch in AWS needs, naming the flag and the variable', () => {
    expect(() => loadOrchestratorConfig({ env: {}, require: LAUNCH_REQUIRED })).toThrow(/emrLogUri is not set\. Fix: pass --emr-log-uri <value> or set INGEST_EMR_LOG_URI/);
  });

  it('refuses a release other than EMR 7.x, a prefix the purge would not match, and a bad retention', () => {
    expect(() => loadOrchestratorConfig({ env: { INGEST_EMR_RELEASE: 'emr-6.15.0' } })).toThrow(ConfigError);
    expect(() => loadOrchestratorConfig({ env: { INGEST_CLUSTER_NAME_PREFIX: 'replica-test' } })).toThrow(/must start with ingest-replica/);
    expect(() => loadOrchestratorConfig({ env: { INGEST_LOG_RETENTION_DAYS: '31' } })).toThrow(/INGEST_LOG_RETENTION_DAYS/);
    expect(() => loadOrchestratorConfig({ env: { INGEST_EMR_IDLE_TIMEOUT: '30s' } })).toThrow(/between 1m and 7d/);
  });
});
