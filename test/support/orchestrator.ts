import { randomBytes } from 'node:crypto';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EMRClient, ListClustersCommand, TerminateJobFlowsCommand } from '@aws-sdk/client-emr';
import { CreateTopicCommand, DeleteTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { loadOrchestratorConfig, type OrchestratorConfig } from '../../src/config/orchestrator-config.js';
import { loadScheduleConfig } from '../../src/orchestrator/schedule/schedule-config.js';
import { ensureStatusTable } from '../../src/local/aws-resources.js';
import { localHome } from '../../src/local/paths.js';
import type { MonitoringMessage } from '../../src/orchestrator/alerts/index.js';
import { launchDecision } from '../../src/orchestrator/schedule/index.js';
import { silentLogger, type Logger } from '../../src/shared/logger.js';
import { buildOrchestratorGraph, type OrchestratorGraph } from '../../src/wiring/orchestrator-graph.js';
import { localStack } from './local-stack.js';

/**
 * An isolated orchestrator on the shared local stack: its own status table (so no other test's blocking rows
 * are seen), its own cluster name prefix (moto's EMR is shared: the guard counts only clusters under the
 * prefix) and its own alerts topic with an SQS queue subscribed, read back as the monitoring would.
 */
export interface OrchestratorFixture {
  readonly id: string;
  readonly statusTable: string;
  readonly clusterPrefix: string;
  readonly topicArn: string;
  readonly inbox: SqsInbox;
  readonly emr: EMRClient;
  /** Flags (setting key → value) every config of this fixture uses, e.g. for a CLI child. */
  readonly flags: Readonly<Record<string, string>>;
  config(extra?: Record<string, string>): OrchestratorConfig;
  /** A graph with its own clients, as each concurrent trigger (or Lambda) would have. */
  graph(extra?: Record<string, string>, logger?: Logger): OrchestratorGraph;
  /** Ids of the clusters under this fixture's prefix, in any state. */
  clusters(): Promise<{ id: string; name: string; state: string }[]>;
  cleanup(): Promise<void>;
}

export async function orchestratorFixture(label: string): Promise<OrchestratorFixture> {
  const stack = localStack();
  const id = `${label}-${randomBytes(4).toString('hex')}`;
  const aws = { endpoint: stack.awsEndpointUrl, region: stack.awsRegion, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  const dynamo = new DynamoDBClient(aws);
  const emr = new EMRClient(aws);
  const sns = new SNSClient(aws);
  const statusTable = `trigger-it-${id}`;
  await ensureStatusTable(dynamo, statusTable);
  const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `ingest-replica-alerts-${id}` }));
  const inbox = await SqsInbox.create(stack.awsEndpointUrl, stack.awsRegion, `alerts-${id}`);
  await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: inbox.arn, Attributes: { RawMessageDelivery: 'true' } }));
  const clusterPrefix = `ingest-replica-e2e-${id}`;
  const flags = { statusTable, clusterNamePrefix: clusterPrefix, alertsTopicArn: TopicArn as string };
  const config = (extra: Record<string, string> = {}): OrchestratorConfig =>
    loadOrchestratorConfig({ local: stack, localHome: localHome(), flags: { ...flags, ...extra }, env: {} });
  const schedule = loadScheduleConfig({ env: {} });
  const clusters = async (): Promise<{ id: string; name: string; state: string }[]> => {
    const found: { id: string; name: string; state: string }[] = [];
    let Marker: string | undefined;
    do {
      const page = await emr.send(new ListClustersCommand({ Marker }));
      for (const c of page.Clusters ?? []) {
        if (c.Name?.startsWith(`${clusterPrefix}-`)) found.push({ id: c.Id ?? '', name: c.Name, state: c.Status?.State ?? '' });
      }
      Marker = page.Marker;
    } while (Marker);
    return found;
  };
  return {
    id, statusTable, clusterPrefix, topicArn: TopicArn as string, inbox, emr, flags, config, clusters,
    graph: (extra = {}, logger = silentLogger) => buildOrchestratorGraph(config(extra), (at) => launchDecision(at, schedule), logger),
    cleanup: async () => {
      const live = (await clusters()).filter((c) => !c.state.startsWith('TERMINATED')).map((c) => c.id);
      if (live.length > 0) await emr.send(new TerminateJobFlowsCommand({ JobFlowIds: live }));
      await dynamo.send(new DeleteTableCommand({ TableName: statusTable })).catch(() => undefined);
      await sns.send(new DeleteTopicCommand({ TopicArn })).catch(() => undefined);
      await inbox.delete().catch(() => undefined);
      for (const client of [dynamo, emr, sns]) client.destroy();
    },
  };
}

/**
 * An SQS queue on the local endpoint, read through SQS's JSON protocol with plain HTTP (the product has no
 * SQS client; moto does not check signatures, only the region in the credential scope).
 */
export class SqsInbox {
  private constructor(private readonly endpoint: string, private readonly region: string, readonly url: string, readonly arn: string) {}

  static async create(endpoint: string, region: string, name: string): Promise<SqsInbox> {
    const call = (target: string, body: unknown) => sqs(endpoint, region, target, body);
    const { QueueUrl } = await call('CreateQueue', { QueueName: name }) as { QueueUrl: string };
    const { Attributes } = await call('GetQueueAttributes', { QueueUrl, AttributeNames: ['QueueArn'] }) as { Attributes: { QueueArn: string } };
    return new SqsInbox(endpoint, region, QueueUrl, Attributes.QueueArn);
  }

  /** Every alert delivered so far (received and deleted), parsed as the monitoring would parse it. */
  async drain(): Promise<MonitoringMessage[]> {
    const messages: MonitoringMessage[] = [];
    for (;;) {
      const answer = await sqs(this.endpoint, this.region, 'ReceiveMessage', { QueueUrl: this.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }) as { Messages?: { Body: string; ReceiptHandle: string }[] };
      const batch = answer.Messages ?? [];
      if (batch.length === 0) return messages;
      for (const m of batch) {
        messages.push(JSON.parse(m.Body) as MonitoringMessage);
        await sqs(this.endpoint, this.region, 'DeleteMessage', { QueueUrl: this.url, ReceiptHandle: m.ReceiptHandle });
      }
    }
  }

  async delete(): Promise<void> {
    await sqs(this.endpoint, this.region, 'DeleteQueue', { QueueUrl: this.url });
  }
}

async function sqs(endpoint: string, region: string, target: string, body: unknown): Promise<unknown> {
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-amz-json-1.0',
      'X-Amz-Target': `AmazonSQS.${target}`,
      Authorization: `AWS4-HMAC-SHA256 Credential=test/20260101/${region}/sqs/aws4_request, SignedHeaders=host, Signature=0`,
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`SQS ${target} answered ${response.status}: ${text}`);
  return text === '' ? {} : JSON.parse(text);
}
