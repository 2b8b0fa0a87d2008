import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CloudFormationClient, DeleteStackCommand } from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeClusterCommand, EMRClient } from '@aws-sdk/client-emr';
import { CreateEventBusCommand, DeleteEventBusCommand, DeleteRuleCommand, DescribeRuleCommand, EventBridgeClient, ListTargetsByRuleCommand, PutEventsCommand, PutRuleCommand, PutTargetsCommand, RemoveTargetsCommand } from '@aws-sdk/client-eventbridge';
import { GetBucketEncryptionCommand, S3Client } from '@aws-sdk/client-s3';
import { GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployLocal, type Deployed } from '../../infra/deploy-local.js';
import { PURGE_EVENT_PATTERN } from '../../infra/purge-rule.js';
import { HBaseAdmin } from '../../src/local/hbase-process.js';
import { DynamoStatusStore } from '../../src/status/dynamo-status-adapter.js';
import { dynamoDocumentClient } from '../../src/wiring/aws-clients.js';
import { localStack, seedLocal, uniqueCollection } from '../support/local-stack.js';
import { SqsInbox } from '../support/orchestrator.js';
import { publishedFolders } from '../support/published-output.js';
import { eventActions } from '../../src/orchestrator/purge/index.js';

const exec = promisify(execFile);
const stack = localStack();
const aws = { endpoint: stack.awsEndpointUrl, region: stack.awsRegion, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
const RECORDS = 200;
const asFlags = (settings: Record<string, string>): string[] =>
  Object.entries(settings).flatMap(([k, v]) => [`--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, v]);

describe('make deploy-local: the CDK stack created on moto through CloudFormation, then used', () => {
  const id = randomBytes(4).toString('hex');
  const stackName = `ir-deploy-it-${id}`;
  const collection = uniqueCollection('deployed');
  const clusterNamePrefix = `ingest-replica-deployed-${id}`;
  let deployed: Deployed;

  beforeAll(async () => {
    const settingsFile = join(mkdtempSync(join(tmpdir(), 'ir-deploy-')), 'settings.json');
    writeFileSync(settingsFile, JSON.stringify({
      statusTable: `deployed-it-${id}`, outputBucket: `deployed-it-${id}-output`, logGroupName: `/app/ingest-replica-incremental-it-${id}`,
      hbaseRootDir: 's3://ingest-replica-hbase-root/hbase', hbaseRootKmsKeyArn: 'arn:aws:kms:eu-west-2:123456789012:key/00000000-0000-0000-0000-000000000000',
      subnetId: 'subnet-local', dksUrl: stack.dksUrl, dksCertSecret: 'ingest-replica/dks-client',
      collectionsSecret: '/intraday/collections', collectionsSecretExists: 'true', clusterNamePrefix,
    }));
    deployed = await deployLocal({ endpoint: stack.awsEndpointUrl as string, region: stack.awsRegion, stackName, settingsFile });
    await seedLocal({ collection, space: { seed: 'deploy-local', collection, from: Date.UTC(2025, 0, 1), until: Date.UTC(2025, 1, 1) }, records: RECORDS, keys: 2, regions: 2 });
  });
  afterAll(async () => {
    await new HBaseAdmin(stack.hbaseAdminUrl).deleteTable(collection).catch(() => undefined);
    const cfn = new CloudFormationClient(aws);
    await cfn.send(new DeleteStackCommand({ StackName: stackName })).catch(() => undefined);
    cfn.destroy();
  });

  it('created the table with its GSI, the encrypted bucket, topic and log group, the purge rule and its target', async () => {
    expect(deployed.statusTable).toBe(`deployed-it-${id}`);
    const dynamo = new DynamoDBClient(aws);
    const { Table } = await dynamo.send(new DescribeTableCommand({ TableName: deployed.statusTable }));
    expect(Table?.GlobalSecondaryIndexes?.map((g) => [g.IndexName, g.KeySchema?.map((k) => k.AttributeName)])).toEqual([['byCollection', ['Collection', 'TriggeredTime']]]);
    // moto's CloudFormation does not keep the table's SSESpecification: the template test checks it.
    dynamo.destroy();

    const s3 = new S3Client({ ...aws, forcePathStyle: true });
    const enc = await s3.send(new GetBucketEncryptionCommand({ Bucket: deployed.outputBucket }));
    expect(enc.ServerSideEncryptionConfiguration?.Rules?.[0]?.ApplyServerSideEncryptionByDefault).toMatchObject({ SSEAlgorithm: 'aws:kms', KMSMasterKeyID: deployed.kmsKeyId });
    s3.destroy();

    const sns = new SNSClient(aws);
    const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn: deployed.alertsTopicArn }));
    expect(Attributes?.KmsMasterKeyId).toBeTruthy();
    sns.destroy();

    const events = new EventBridgeClient(aws);
    const rule = await events.send(new DescribeRuleCommand({ Name: deployed.purgeRule }));
    expect(JSON.parse(rule.EventPattern ?? '{}')).toEqual({ source: PURGE_EVENT_PATTERN.source, 'detail-type': PURGE_EVENT_PATTERN.detailType, detail: PURGE_EVENT_PATTERN.detail });
    const { Targets } = await events.send(new ListTargetsByRuleCommand({ Rule: deployed.purgeRule }));
    expect(Targets?.[0]?.Arn).toContain(`:function:${deployed.purgeFunction}`);
    events.destroy();

    const logs = new CloudWatchLogsClient(aws);
    const { logGroups } = await logs.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: deployed.clusterLogGroup }));
    expect(logGroups?.map((g) => [g.logGroupName, g.retentionInDays])).toEqual([[`/app/ingest-replica-incremental-it-${id}`, 30]]);
    logs.destroy();

  });

  it('the deployed rule\'s pattern, matched by moto\'s EventBridge, lets through exactly the events the purge handler acts on', async () => {
    const events = new EventBridgeClient(aws);
    const { EventPattern } = await events.send(new DescribeRuleCommand({ Name: deployed.purgeRule }));
    // A twin of the deployed rule (same pattern) on a bus of its own, whose target is a queue we can read: moto
    // cannot invoke the deployed rule's Lambda target (its PutEvents fails on one).
    const inbox = await SqsInbox.create(stack.awsEndpointUrl as string, stack.awsRegion, `purge-pattern-${id}`);
    const twin = `purge-pattern-${id}`;
    await events.send(new CreateEventBusCommand({ Name: twin }));
    await events.send(new PutRuleCommand({ Name: twin, EventBusName: twin, EventPattern }));
    await events.send(new PutTargetsCommand({ Rule: twin, EventBusName: twin, Targets: [{ Id: 'inbox', Arn: inbox.arn }] }));
    const sent: { clusterId: string; accepted: boolean }[] = [];
    const entries = [];
    for (const source of ['aws.emr', 'aws.ec2']) {
      for (const detailType of ['EMR Cluster State Change', 'EMR Step Status Change']) {
        for (const state of ['RUNNING', 'WAITING', 'TERMINATING', 'TERMINATED', 'TERMINATED_WITH_ERRORS']) {
          const clusterId = `j-${id.toUpperCase()}${sent.length}`;
          const detail = { clusterId, state, name: `${clusterNamePrefix}-x` };
          sent.push({ clusterId, accepted: eventActions({ source, 'detail-type': detailType, detail })[0]?.kind === 'purge' && source === 'aws.emr' });
          entries.push({ EventBusName: twin, Source: source, DetailType: detailType, Detail: JSON.stringify(detail) });
        }
      }
    }
    for (let i = 0; i < entries.length; i += 10) await events.send(new PutEventsCommand({ Entries: entries.slice(i, i + 10) }));
    const received = (await inbox.drain()).map((m) => (m as unknown as { detail: { clusterId: string } }).detail.clusterId).sort();
    expect(received).toEqual(sent.filter((e) => e.accepted).map((e) => e.clusterId).sort());
    expect(received).toHaveLength(2);
    await events.send(new RemoveTargetsCommand({ Rule: twin, EventBusName: twin, Ids: ['inbox'] }));
    await events.send(new DeleteRuleCommand({ Name: twin, EventBusName: twin }));
    await events.send(new DeleteEventBusCommand({ Name: twin }));
    await inbox.delete();
    events.destroy();
  });

  it('trigger --local and run work against the deployed names: output in the deployed bucket, status in the deployed table', async () => {
    const names = {
      statusTable: deployed.statusTable as string, outputBucket: deployed.outputBucket as string, kmsKeyId: deployed.kmsKeyId as string,
      collectionsSecret: deployed.collectionsSecret as string,
    };
    const flags = { ...names, alertsTopicArn: deployed.alertsTopicArn as string, securityConfiguration: deployed.securityConfiguration as string, clusterNamePrefix };
    const env = { ...process.env, LOG_LEVEL: 'warn' };
    const { stdout } = await exec(process.execPath, ['dist/src/cli/main.js', 'trigger', '--local', '--force', '--json', '--collections', collection, ...asFlags(flags)], { maxBuffer: 64 * 1024 * 1024, env });
    const result = JSON.parse(stdout) as { outcome: string; correlationId: string; clusterId: string; local: { stepExitCode: number } };
    expect(result).toMatchObject({ outcome: 'launched', local: { stepExitCode: 0 } });

    const emr = new EMRClient(aws);
    const { Cluster } = await emr.send(new DescribeClusterCommand({ ClusterId: result.clusterId }));
    // The security configuration is left out locally (infra/moto-support.ts); trigger --local made it under the deployed name.
    expect(Cluster?.SecurityConfiguration).toBe(deployed.securityConfiguration);
    expect(deployed.securityConfiguration).toBe(stackName);
    emr.destroy();

    // A manual run of the same collection afterwards: nothing new to publish, its row completes in the same table.
    const now = Date.now();
    const correlationId = `manual-${id}`;
    await exec(process.execPath, ['dist/src/cli/main.js', 'run', '--correlation-id', correlationId, '--triggered-time', String(now), '--end-time', String(now), '--collections', collection, ...asFlags(names)], { maxBuffer: 64 * 1024 * 1024, env });

    const store = new DynamoStatusStore({ tableName: deployed.statusTable as string, client: dynamoDocumentClient({ awsEndpointUrl: stack.awsEndpointUrl, awsRegion: stack.awsRegion }) });
    expect(await store.get(result.correlationId, collection)).toMatchObject({ status: 'EMR_COMPLETED', emrClusterId: result.clusterId });
    expect(await store.get(correlationId, collection)).toMatchObject({ status: 'EMR_COMPLETED' });

    const s3 = new S3Client({ ...aws, forcePathStyle: true });
    const folders = await publishedFolders(s3, deployed.outputBucket as string, 'incremental');
    const ours = folders.filter((f) => f.manifest.correlationId === result.correlationId);
    expect(ours).toHaveLength(1);
    expect(new Set(ours[0]?.rows.map((r) => r.id)).size).toBe(RECORDS);
    s3.destroy();
  });
});
