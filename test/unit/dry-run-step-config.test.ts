import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterStepConfig } from '../../src/config/cluster-step-config.js';
import { loadOrchestratorConfig } from '../../src/config/orchestrator-config.js';
import { projectRoot } from '../../src/shared/project-root.js';
import { HBASE_REST_PORT, launchPlanner, readTemplates, stepArgsOf } from '../../src/orchestrator/emr/index.js';
import { REDACTED, redactSecrets } from '../../src/shared/redact.js';
import { LAUNCH_ENV } from '../support/launch-env.js';

const templates = readTemplates(join(projectRoot(), 'emr-config', 'cluster'));
const run = { correlationId: '20261125T103000Z-0a1b2c3d', triggeredTime: 1_795_000_000_000, endTime: 1_795_000_000_000, collections: ['core:addresses'] };

describe('the step configuration trigger --dry-run prints', () => {
  it('is the whole configuration the step resolves on the cluster: the trigger\'s checked settings, the node\'s, and defaults', () => {
    const config = loadOrchestratorConfig({ env: { ...LAUNCH_ENV, INGEST_STEP_CONFIG_URI: 's3://artifacts/config/step.json' } });
    const request = launchPlanner(config, config.step, () => templates).incremental(run).request;
    const step = clusterStepConfig(stepArgsOf(request), config, HBASE_REST_PORT);
    expect(step.settings).toMatchObject({
      dksUrl: 'https://dks.internal.example:8443', keyService: 'dks', kmsKeyId: 'alias/ingest-replica-output', outputBucket: 'ingest-replica-output',
      collectionsSecret: '/intraday/collections', statusTable: 'intraday-job-status', awsRegion: 'eu-west-2',
      dksClientCert: '/opt/ingest-replica/etc/dks/client.pem', dksClientKey: '/opt/ingest-replica/etc/dks/client-key.pem', dksCaCert: '/opt/ingest-replica/etc/dks/ca.pem',
      hbaseRestUrl: 'http://127.0.0.1:8080', workerHbaseRestUrl: 'http://127.0.0.1:8080', sparkHome: '/usr/lib/spark', sparkMaster: 'yarn', engine: 'spark',
    });
    expect(step.settings).not.toHaveProperty('awsEndpointUrl');
    expect(step.sources).toMatchObject({ dksUrl: 'step argument', kmsKeyId: 'step argument', dksClientCert: 'cluster node', hbaseRestUrl: 'cluster node', concurrency: 'default' });
    expect(step.settingsFile).toBe('s3://artifacts/config/step.json');
    expect(step.run).toEqual({ 'correlation-id': run.correlationId, 'triggered-time': String(run.triggeredTime), 'end-time': String(run.endTime), collections: 'core:addresses' });
  });
});

describe('redactSecrets', () => {
  it('takes out PEM blocks, URL passwords and values of secret-named keys, and keeps secret ids and paths', () => {
    expect(redactSecrets({
      dksClientKey: '/opt/ingest-replica/etc/dks/client-key.pem',
      collectionsSecret: '/intraday/collections',
      dksCertSecret: '/ingest-replica/dks-client',
      inline: '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----',
      proxy: 'https://user:hunter2@proxy.example:3128',
      sparkConf: { 'spark.hadoop.fs.s3a.secret.key': 'abc', 'spark.executor.memory': '2g' },
      Configurations: [{ Properties: { 'javax.jdo.option.ConnectionPassword': 'pw', 'hbase.rest.host': '127.0.0.1' } }],
      args: ['--client-token', 't0ken', '--collections', 'core:a'],
    })).toEqual({
      dksClientKey: '/opt/ingest-replica/etc/dks/client-key.pem',
      collectionsSecret: '/intraday/collections',
      dksCertSecret: '/ingest-replica/dks-client',
      inline: `${REDACTED} (PEM)`,
      proxy: `https://user:${REDACTED}@proxy.example:3128`,
      sparkConf: { 'spark.hadoop.fs.s3a.secret.key': REDACTED, 'spark.executor.memory': '2g' },
      Configurations: [{ Properties: { 'javax.jdo.option.ConnectionPassword': REDACTED, 'hbase.rest.host': '127.0.0.1' } }],
      args: ['--client-token', REDACTED, '--collections', 'core:a'],
    });
  });
});
