import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { LAUNCH_REQUIRED, ORCHESTRATOR_SETTINGS } from '../../src/config/orchestrator-config.js';
import { SCHEDULE_SETTINGS } from '../../src/orchestrator/schedule/schedule-config.js';
import { eventActions } from '../../src/orchestrator/purge/index.js';
import { MOTO_UNSUPPORTED } from '../../infra/moto-support.js';
import { readPolicyFile } from '../../infra/iam-policies.js';
import { LAMBDA_HANDLERS, lambdaBundle } from '../../infra/lambda-bundle.js';
import { synthStack } from '../support/infra.js';

type Json = Record<string, unknown>;
const { template } = synthStack({ launchSlots: '15 9-11 MON-FRI; 45 18 SAT', scheduleTimeZone: 'Europe/London' });
const resources = (type: string): [string, Json][] => Object.entries(template.findResources(type)) as [string, Json][];
const props = (r: Json): Json => (r.Properties ?? {}) as Json;

describe('IngestReplicaStack: data at rest', () => {
  it('encrypts the buckets (KMS for product data, SSE-S3 for the access logs), the table, topic, secret and log groups', () => {
    for (const [, b] of resources('AWS::S3::Bucket')) {
      const rule = ((props(b).BucketEncryption as Json).ServerSideEncryptionConfiguration as Json[])[0] as Json;
      expect(['aws:kms', 'AES256']).toContain((rule.ServerSideEncryptionByDefault as Json).SSEAlgorithm);
      expect(props(b).PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
    }
    template.hasResourceProperties('AWS::S3::Bucket', { BucketName: 'ingest-replica-output', BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() }, BucketKeyEnabled: true }] } });
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true } });
    for (const type of ['AWS::SNS::Topic', 'AWS::SecretsManager::Secret']) {
      for (const [, r] of resources(type)) expect(props(r).KmsMasterKeyId ?? props(r).KmsKeyId).toBeDefined();
    }
    const groups = resources('AWS::Logs::LogGroup');
    expect(groups.length).toBe(3);
    for (const [, g] of groups) expect(props(g).KmsKeyId).toBeDefined();
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::EMR::SecurityConfiguration', {
      SecurityConfiguration: { EncryptionConfiguration: { EnableAtRestEncryption: true, AtRestEncryptionConfiguration: { S3EncryptionConfiguration: { EncryptionMode: 'SSE-KMS' }, LocalDiskEncryptionConfiguration: { EncryptionKeyProviderType: 'AwsKms', EnableEbsEncryption: true } } } },
    });
  });

  it('refuses plain HTTP on the buckets and the topic', () => {
    const tlsOnly = { Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } };
    expect(resources('AWS::S3::BucketPolicy').length).toBe(3);
    for (const [, p] of resources('AWS::S3::BucketPolicy')) expect((props(p).PolicyDocument as Json).Statement).toEqual(expect.arrayContaining([expect.objectContaining(tlsOnly)]));
    template.hasResourceProperties('AWS::SNS::TopicPolicy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike(tlsOnly)]) } });
  });

  it('keeps the status table with its GSI, point-in-time recovery and deletion protection', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'intraday-job-status', DeletionProtectionEnabled: true,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      KeySchema: [{ AttributeName: 'CorrelationId', KeyType: 'HASH' }, { AttributeName: 'Collection', KeyType: 'RANGE' }],
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'byCollection', KeySchema: [{ AttributeName: 'Collection', KeyType: 'HASH' }, { AttributeName: 'TriggeredTime', KeyType: 'RANGE' }] })],
    });
  });

  it('aborts incomplete multipart uploads as emr-config/s3 says and expires abandoned attempt objects', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'ingest-replica-output',
      LifecycleConfiguration: { Rules: Match.arrayWith([
        Match.objectLike({ Id: 'abort-incomplete-multipart-uploads', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }),
        Match.objectLike({ Id: 'expire-abandoned-attempt-objects', NoncurrentVersionExpiration: { NoncurrentDays: 7 } }),
      ]) },
    });
  });

  it('grants no `*` action or resource on the output bucket, the table or the key', () => {
    const statements: Json[] = [];
    for (const [, r] of resources('AWS::IAM::Role')) for (const p of (props(r).Policies ?? []) as Json[]) statements.push(...((p.PolicyDocument as Json).Statement as Json[]));
    for (const [, p] of [...resources('AWS::IAM::Policy'), ...resources('AWS::S3::BucketPolicy')]) statements.push(...((props(p).PolicyDocument as Json).Statement as Json[]));
    const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
    expect(statements.length).toBeGreaterThan(20);
    // The TLS-only policies deny s3:* to plain HTTP: only what is allowed is checked.
    for (const s of statements.filter((st) => st.Effect === 'Allow')) {
      const actions = list(s.Action).map(String);
      expect(actions.filter((a) => a === '*' || /^(s3|dynamodb|kms):\*$/.test(a))).toEqual([]);
      if (actions.some((a) => /^(s3|dynamodb|kms):/.test(a))) expect(list(s.Resource)).not.toContain('*');
    }
    const keyPolicy = props(resources('AWS::KMS::Key')[0]?.[1] as Json).KeyPolicy as Json;
    for (const s of keyPolicy.Statement as Json[]) expect(list(s.Action).filter((a) => a === '*' || a === 'kms:*')).toEqual([]);
  });
});

describe('IngestReplicaStack: IAM from emr-config/iam', () => {
  it('puts every statement of each policy file on its role, read from the file', () => {
    const sids = (logical: string): string[] => {
      const role = template.findResources('AWS::IAM::Role')[logical] as Json;
      return ((props(role).Policies as Json[]).flatMap((p) => (p.PolicyDocument as Json).Statement as Json[])).map((s) => String(s.Sid));
    };
    const logicalIds = Object.keys(template.findResources('AWS::IAM::Role'));
    const id = (prefix: string): string => logicalIds.find((l) => l.startsWith(prefix)) as string;
    expect(sids(id('TriggerFunctionRole'))).toEqual(readPolicyFile('trigger').Statement.map((s) => s.Sid));
    expect(sids(id('PurgeFunctionRole'))).toEqual(readPolicyFile('purge').Statement.map((s) => s.Sid));
    // The KMS data-key statement only with keyService=kms.
    expect(sids(id('EmrInstanceRole'))).toEqual(readPolicyFile('clusterInstance').Statement.map((s) => s.Sid).filter((s) => s !== 'UnwrapDataKeysWithKmsWhenConfigured'));
    expect(JSON.stringify(template.toJSON())).not.toMatch(/\$\{[A-Za-z]+\}/);
    template.hasResourceProperties('AWS::IAM::InstanceProfile', { Roles: [Match.anyValue()] });
  });
});

describe('IngestReplicaStack: schedule, purge rule, trigger environment', () => {
  it('schedules exactly what `ingest-replica schedule --json` prints for the same settings, in its time zone', () => {
    const cli = JSON.parse(execFileSync(process.execPath, ['dist/src/cli/main.js', 'schedule', '--json', '--launch-slots', '15 9-11 MON-FRI; 45 18 SAT', '--schedule-time-zone', 'Europe/London'], { encoding: 'utf8', env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INGEST_'))) })) as { schedulerExpressions: { expression: string; timezone: string }[] };
    const deployed = resources('AWS::Scheduler::Schedule').map(([, s]) => ({ expression: props(s).ScheduleExpression, timezone: props(s).ScheduleExpressionTimezone }));
    expect(deployed).toEqual(cli.schedulerExpressions);
    expect(deployed).toEqual([{ expression: 'cron(15 9-11 ? * MON-FRI *)', timezone: 'Europe/London' }, { expression: 'cron(45 18 ? * SAT *)', timezone: 'Europe/London' }]);
    for (const [, s] of resources('AWS::Scheduler::Schedule')) expect(props(s)).toMatchObject({ FlexibleTimeWindow: { Mode: 'OFF' }, Target: { RetryPolicy: { MaximumRetryAttempts: 0 } } });
  });

  it('routes to the purge exactly the EMR events its handler acts on', () => {
    const [, rule] = resources('AWS::Events::Rule')[0] as [string, Json];
    const pattern = props(rule).EventPattern as Record<string, unknown>;
    const states = ['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING', 'TERMINATING', 'TERMINATED', 'TERMINATED_WITH_ERRORS'];
    const types = ['EMR Cluster State Change', 'EMR Step Status Change', 'EMR Instance Group State Change'];
    let matched = 0;
    for (const source of ['aws.emr', 'aws.ec2']) {
      for (const detailType of types) {
        for (const state of states) {
          const event = { source, 'detail-type': detailType, detail: { clusterId: 'j-ABC123', state, name: 'ingest-replica-x' } };
          const accepted = eventActions(event)[0]?.kind === 'purge';
          const matches = patternMatches(pattern, event);
          if (matches) matched += 1;
          // Every event the rule delivers is one the handler purges for; every EMR event it purges for is delivered.
          if (matches) expect(accepted, JSON.stringify(event)).toBe(true);
          if (source === 'aws.emr') expect(matches, JSON.stringify(event)).toBe(accepted);
        }
      }
    }
    expect(matched).toBe(2);
  });

  it('gives the trigger Lambda every setting a launch requires, the schedule settings and Node 24', () => {
    const fn = resources('AWS::Lambda::Function').find(([id]) => id.startsWith('TriggerFunction'))?.[1] as Json;
    const env = (props(fn).Environment as Json).Variables as Record<string, unknown>;
    for (const r of LAUNCH_REQUIRED) expect(env[r.env], r.key).toBeDefined();
    for (const name of ['alertsTopicArn', 'serviceRole', 'instanceProfile', 'stepConfigUri', 'dksCertSecret'] as const) {
      expect(env[ORCHESTRATOR_SETTINGS[name].env], name).toBeDefined();
    }
    for (const s of Object.values(SCHEDULE_SETTINGS)) expect(env[s.env], s.key).toBeDefined();
    expect(env).toMatchObject({ INGEST_EMR_SUBNET_ID: 'subnet-0abc1234', INGEST_HBASE_ROOT_DIR: 's3://primary-hbase-root/hbase', INGEST_STATUS_TABLE: 'intraday-job-status', INGEST_LAUNCH_SLOTS: '15 9-11 MON-FRI; 45 18 SAT' });
    expect(props(fn)).toMatchObject({ Runtime: 'nodejs24.x', Handler: 'dist/trigger.handler', Timeout: 900 });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
  });
});

describe('the Lambda code (build/lambda/, built at synth)', () => {
  it('loads both handlers and carries the launch templates where the trigger looks for them', async () => {
    const dir = lambdaBundle();
    for (const h of Object.values(LAMBDA_HANDLERS)) {
      const [file, name] = h.handler.split('.') as [string, string];
      const mod = (await import(pathToFileURL(join(dir, `${file}.js`)).href)) as Record<string, unknown>;
      expect(typeof mod[name], h.handler).toBe('function');
    }
    expect(existsSync(join(dir, 'emr-config', 'cluster', 'cluster.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))).toMatchObject({ type: 'module' });
  });
});

describe('IngestReplicaStack: settings', () => {
  it('names each missing required setting at synth', () => {
    for (const key of ['subnetId', 'hbaseRootDir', 'dksUrl', 'dksCertSecret', 'hbaseRootKmsKeyArn']) {
      expect(() => synthStack({ [key]: '' }), key).toThrow(new RegExp(`^${key} is not set`));
    }
  });

  it('rejects a bad value with the CLI\'s own parser, naming the setting', () => {
    expect(() => synthStack({ hbaseRootDir: 'hdfs://x' })).toThrow(/invalid hbaseRootDir .*s3:\/\//);
    expect(() => synthStack({ launchSlots: '99 9 MON' })).toThrow(/launchSlots/);
  });
});

describe('IngestReplicaStack for moto (localDeploy=true)', () => {
  it('leaves out exactly the types of infra/moto-support.ts, which the AWS template holds', () => {
    type Resources = { Resources: Record<string, { Type: string }> };
    const local = synthStack({ localDeploy: 'true' }).template.toJSON() as Resources;
    const aws = template.toJSON() as Resources;
    const localTypes = new Set(Object.values(local.Resources).map((r) => r.Type));
    const awsTypes = new Set(Object.values(aws.Resources).map((r) => r.Type));
    for (const type of Object.keys(MOTO_UNSUPPORTED)) {
      expect(localTypes.has(type), type).toBe(false);
      expect(awsTypes.has(type), type).toBe(true);
    }
    // Anything else missing locally belongs to a construct left out whole: the schedules (their invoke role) and
    // the artifact upload (CDK's BucketDeployment function, layer, role and policy).
    const lost = Object.entries(aws.Resources).filter(([id, r]) => !(id in local.Resources) && !(r.Type in MOTO_UNSUPPORTED));
    expect(lost.map(([id]) => id).filter((id) => !/^(LaunchSchedules|ArtifactUpload|CustomCDKBucketDeployment)/.test(id))).toEqual([]);
    expect(lost.length).toBeGreaterThan(0);
  });
});

/** EventBridge's matching for the pattern forms the purge rule uses: exact values in lists, nested objects. */
function patternMatches(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  return Object.entries(pattern).every(([key, want]) => {
    const got = event[key];
    if (Array.isArray(want)) {
      expect(want.every((w) => typeof w === 'string'), `pattern ${key} uses only exact values`).toBe(true);
      return want.includes(got);
    }
    return got !== null && typeof got === 'object' && patternMatches(want as Record<string, unknown>, got as Record<string, unknown>);
  });
}
