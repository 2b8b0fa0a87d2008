import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrchestratorConfig } from '../../src/config/orchestrator-config.js';
import { projectRoot } from '../../src/shared/project-root.js';
import { launchPlanner, readTemplates, stepArgsOf } from '../../src/orchestrator/emr/index.js';
import { ConfigError } from '../../src/shared/errors.js';
import { LAUNCH_ENV } from '../support/launch-env.js';

const env = {
  ...LAUNCH_ENV,
  INGEST_STEP_CONFIG_URI: 's3://artifacts/config/step.json',
  INGEST_DKS_CERT_SECRET: '/ingest-replica/dks-client',
  INGEST_STATUS_TABLE: 'intraday-job-status',
};
const templates = readTemplates(join(projectRoot(), 'emr-config', 'cluster'));
const planner = (extra: Record<string, string> = {}) => {
  const config = loadOrchestratorConfig({ env: { ...env, ...extra } });
  return launchPlanner(config, config.step, () => templates);
};
const run = { correlationId: '20261125T103000Z-0a1b2c3d', triggeredTime: 1_795_000_000_000, endTime: 1_795_000_000_000, collections: ['core:addresses', 'core:claims'] };

describe('the RunJobFlow request from emr-config/cluster', () => {
  it('carries the replica configuration, the step and the lifecycle of a scheduled run', () => {
    const { name, request } = planner().incremental(run);
    expect(name).toBe('ingest-replica-incremental-20261125T103000Z-0a1b2c3d');
    expect(request).toMatchObject({
      Name: name,
      ReleaseLabel: 'emr-7.9.0',
      LogUri: 's3://logs/emr',
      SecurityConfiguration: 'ingest-replica-sc',
      AutoTerminationPolicy: { IdleTimeout: 900 },
      Applications: [{ Name: 'Hadoop' }, { Name: 'ZooKeeper' }, { Name: 'HBase' }, { Name: 'Spark' }],
      Instances: { Ec2SubnetId: 'subnet-0abc', KeepJobFlowAliveWhenNoSteps: false, TerminationProtected: false },
    });
    // The Spark settings are specified in emr-spark-cluster.test.ts.
    expect((request.Configurations as { Classification: string }[]).slice(0, 2)).toMatchObject([
      { Classification: 'hbase', Properties: { 'hbase.emr.storageMode': 's3', 'hbase.emr.readreplica.enabled': 'true' } },
      { Classification: 'hbase-site', Properties: { 'hbase.rootdir': 's3://ingest-hbase/hbase' } },
    ]);
    expect(request.Tags).toEqual([
      { Key: 'Application', Value: 'ingest-replica' },
      { Key: 'Name', Value: name },
      { Key: 'Purpose', Value: 'incremental' },
      { Key: 'CorrelationId', Value: run.correlationId },
    ]);
    const install = (request.BootstrapActions as { ScriptBootstrapAction: { Path: string; Args: string[] } }[])[1]?.ScriptBootstrapAction;
    expect(install).toEqual({
      Path: 's3://artifacts/releases/emr-config/bootstrap/install-ingest-replica.sh',
      Args: ['s3://artifacts/releases/ingest-replica/ingest-replica-1.4.0.tar.gz', '-', '--install-dir', '/opt/ingest-replica', '--rest-port', '8080', '--rest-heap', '1g',
        '--config', 's3://artifacts/config/step.json', '--dks-cert-secret', '/ingest-replica/dks-client'],
    });
    const [step] = request.Steps as { ActionOnFailure: string; HadoopJarStep: { Jar: string; Args: string[] } }[];
    expect(step?.ActionOnFailure).toBe('TERMINATE_CLUSTER');
    expect(step?.HadoopJarStep.Jar).toBe('command-runner.jar');
    expect(step?.HadoopJarStep.Args[0]).toBe('/opt/ingest-replica/steps/run-step.sh');
    expect(stepArgsOf(request)).toEqual([
      '--correlation-id', run.correlationId, '--triggered-time', String(run.triggeredTime), '--end-time', String(run.endTime),
      '--status-table', 'intraday-job-status', '--collections-secret', '/intraday/collections', '--output-bucket', 'ingest-replica-output',
      '--output-prefix', 'incremental', '--aws-region', 'eu-west-2', '--kms-key-id', 'alias/ingest-replica-output', '--glue-database', 'ingest_replica',
      '--key-service', 'dks', '--dks-url', 'https://dks.internal.example:8443', '--collections', 'core:addresses,core:claims',
    ]);
  });

  it('leaves optional parts out when unset (key pair, step config, DKS secret)', () => {
    const { request } = planner({ INGEST_STEP_CONFIG_URI: '', INGEST_DKS_CERT_SECRET: '' }).incremental(run);
    expect(request.Instances).not.toHaveProperty('Ec2KeyName');
    const install = (request.BootstrapActions as { ScriptBootstrapAction: { Args: string[] } }[])[1]?.ScriptBootstrapAction;
    expect(install?.Args).toEqual(['s3://artifacts/releases/ingest-replica/ingest-replica-1.4.0.tar.gz', '-', '--install-dir', '/opt/ingest-replica', '--rest-port', '8080', '--rest-heap', '1g']);
  });

  it('an admin replica has no step, stays alive without one, and has no idle termination unless asked', () => {
    const at = Date.UTC(2026, 10, 25, 10, 30, 0);
    const { name, request } = planner().admin(at);
    expect(name).toBe('ingest-replica-admin-20261125T103000Z');
    expect(request).not.toHaveProperty('Steps');
    expect(request).not.toHaveProperty('AutoTerminationPolicy');
    expect((request.Instances as Record<string, unknown>).KeepJobFlowAliveWhenNoSteps).toBe(true);
    expect(planner().admin(at, 4 * 3_600_000).request.AutoTerminationPolicy).toEqual({ IdleTimeout: 14_400 });
  });

  it('names the setting and its fix when a parameter a template needs is unset', () => {
    expect(() => planner({ INGEST_HBASE_ROOT_DIR: '' }).incremental(run)).toThrow(ConfigError);
    expect(() => planner({ INGEST_ARTIFACTS_URI: '' }).incremental(run)).toThrow(/artifactsUri is not set\. Fix: pass --artifacts-uri <value> or set INGEST_ARTIFACTS_URI/);
  });
});
