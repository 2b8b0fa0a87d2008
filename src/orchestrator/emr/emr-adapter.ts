import {
  DescribeClusterCommand, ListClustersCommand, RunJobFlowCommand, TerminateJobFlowsCommand,
  type ClusterStatus, type EMRClient, type RunJobFlowCommandInput,
} from '@aws-sdk/client-emr';
import { silentLogger, type Logger } from '../../shared/logger.js';
import { ClusterAccessDeniedError, emrError, isAccessDenied, isUnknownCluster } from './errors.js';
import type { ClusterInfo, ClusterListing, ClusterState, EmrControl, RunJobFlowRequest } from './ports.js';

export interface EmrAdapterOptions {
  readonly client: EMRClient;
  readonly logger?: Logger;
}

/** TerminateJobFlows takes at most 10 ids per call. */
const TERMINATE_BATCH = 10;

/** The EMR control plane through the AWS SDK: the only file of the orchestrator that imports it. */
export class EmrAdapter implements EmrControl {
  private readonly logger: Logger;

  constructor(private readonly options: EmrAdapterOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  async runJobFlow(request: RunJobFlowRequest): Promise<string> {
    try {
      // The request is the EMR API's own JSON, built from the templates: it is passed as it is.
      const answer = await this.options.client.send(new RunJobFlowCommand(request as unknown as RunJobFlowCommandInput));
      if (!answer.JobFlowId) throw new Error('RunJobFlow answered without a JobFlowId');
      this.logger.info({ clusterId: answer.JobFlowId, name: request.Name }, 'cluster launched');
      return answer.JobFlowId;
    } catch (e) {
      throw emrError(e, 'RunJobFlow', { name: request.Name });
    }
  }

  async describeCluster(clusterId: string): Promise<ClusterInfo | undefined> {
    try {
      const { Cluster: c } = await this.options.client.send(new DescribeClusterCommand({ ClusterId: clusterId }));
      if (c === undefined) return undefined;
      const reason = c.Status?.StateChangeReason;
      return {
        ...listing(c.Id ?? clusterId, c.Name, c.Status),
        tags: Object.fromEntries((c.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
        ...(reason?.Message || reason?.Code ? { stateReason: [reason.Code, reason.Message].filter(Boolean).join(': ') } : {}),
        ...(c.Status?.Timeline?.EndDateTime ? { endedAt: c.Status.Timeline.EndDateTime.getTime() } : {}),
      };
    } catch (e) {
      if (isUnknownCluster(e)) return undefined;
      if (isAccessDenied(e)) throw new ClusterAccessDeniedError(`not allowed to describe cluster ${clusterId}`, { context: { clusterId }, cause: e });
      throw emrError(e, 'DescribeCluster', { clusterId });
    }
  }

  async listClusters(states: readonly ClusterState[]): Promise<ClusterListing[]> {
    const clusters: ClusterListing[] = [];
    let marker: string | undefined;
    let pages = 0;
    do {
      try {
        const page = await this.options.client.send(new ListClustersCommand({ ClusterStates: [...states], Marker: marker }));
        clusters.push(...(page.Clusters ?? []).map((c) => listing(c.Id ?? '', c.Name, c.Status)));
        marker = page.Marker;
        pages += 1;
      } catch (e) {
        throw emrError(e, 'ListClusters', { states: states.join(','), pages });
      }
    } while (marker);
    this.logger.debug({ clusters: clusters.length, pages }, 'clusters listed');
    return clusters;
  }

  async terminate(clusterIds: readonly string[]): Promise<void> {
    for (let i = 0; i < clusterIds.length; i += TERMINATE_BATCH) {
      const batch = clusterIds.slice(i, i + TERMINATE_BATCH);
      try {
        await this.options.client.send(new TerminateJobFlowsCommand({ JobFlowIds: [...batch] }));
        this.logger.info({ clusterIds: batch }, 'clusters terminating');
      } catch (e) {
        throw emrError(e, 'TerminateJobFlows', { clusterIds: batch.join(',') });
      }
    }
  }
}

function listing(id: string, name: string | undefined, status: ClusterStatus | undefined): ClusterListing {
  const created = status?.Timeline?.CreationDateTime;
  return { id, name: name ?? '', state: (status?.State ?? 'TERMINATED') as ClusterState, ...(created ? { createdAt: created.getTime() } : {}) };
}
