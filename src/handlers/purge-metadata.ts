import { loadPurgeConfig } from '../orchestrator/purge/purge-config.js';
import {
  eventActions, MetadataPurgeIncompleteError, purgeClusterMetadata, type PurgeResult,
} from '../orchestrator/purge/index.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { purgeGraph, type PurgeGraph } from '../wiring/purge-graph.js';

/** What one invocation did with each cluster state change it carried. */
export interface PurgeHandlerSummary {
  readonly results: readonly (PurgeResult | { readonly outcome: 'skipped'; readonly clusterId?: string; readonly reason: string })[];
  readonly deleted: number;
  readonly failed: number;
}

/**
 * A handler bound to an environment. The graph (clients included) is built on the first event and kept for
 * the container's life, as Lambda reuses it.
 */
export function createPurgeHandler(env: NodeJS.ProcessEnv, logger: Logger = createLogger({ name: 'purge-metadata' })): (event: unknown) => Promise<PurgeHandlerSummary> {
  let graph: PurgeGraph | undefined;
  return async (event: unknown) => {
    graph ??= purgeGraph(loadPurgeConfig({ env }), logger);
    const results: PurgeHandlerSummary['results'][number][] = [];
    for (const action of eventActions(event)) {
      if (action.kind === 'skip') {
        logger.info({ clusterId: action.clusterId, reason: action.reason }, 'event skipped');
        results.push({ outcome: 'skipped', ...(action.clusterId ? { clusterId: action.clusterId } : {}), reason: action.reason });
        continue;
      }
      results.push(await purgeClusterMetadata({ clusterId: action.change.clusterId }, graph.ports, graph.settings));
    }
    const purged = results.filter((r) => r.outcome === 'purged');
    const summary = { results, deleted: purged.reduce((n, r) => n + r.deleted, 0), failed: purged.reduce((n, r) => n + r.failures.length, 0) };
    // Left-behind objects fail the invocation, so Lambda retries it (the purge is idempotent) and alarms see it.
    if (summary.failed > 0) {
      throw new MetadataPurgeIncompleteError(`metadata purge left ${summary.failed} objects behind`, {
        context: { failed: summary.failed, deleted: summary.deleted, firstKey: purged.find((r) => r.failures.length > 0)?.failures[0]?.key },
      });
    }
    return summary;
  };
}

let bound: ((event: unknown) => Promise<PurgeHandlerSummary>) | undefined;

/**
 * Lambda entry point for the EMR "EMR Cluster State Change" event, direct from EventBridge or wrapped in SNS.
 * Acts on TERMINATED / TERMINATED_WITH_ERRORS only; configuration comes from the environment, as for the CLI.
 */
export async function handler(event: unknown): Promise<PurgeHandlerSummary> {
  bound ??= createPurgeHandler(process.env);
  return bound(event);
}
