import { APPLICATION_TAG } from '../../config/orchestrator-config.js';
import type { ClusterInfo } from './ports.js';

/**
 * Names and tags of the clusters we launch. Every name starts with the configured prefix (itself starting with
 * `ingest-replica`, the metadata purge's rule), followed by the purpose:
 *   `<prefix>-incremental-<correlation id>`  scheduled runs (the trigger)
 *   `<prefix>-admin-<YYYYMMDDTHHMMSSZ>`     `cluster start`
 * Tests use a prefix of their own (`ingest-replica-e2e-<random>`), so their clusters match the purge rule too.
 */
export type ClusterPurpose = 'incremental' | 'admin';

/** The tag every cluster of ours carries with its purpose (emr-config/cluster/cluster.json). */
export const PURPOSE_TAG = 'Purpose';

/**
 * Whether one of our active clusters holds up scheduled runs. An admin cluster (`cluster start`) does not: it
 * runs no step and writes no status row, and a forgotten one must not defer every run for as long as it lives.
 * A step an operator starts on it still blocks, through its EMR_PROCESSING rows.
 */
export const blocksScheduledRuns = (cluster: Pick<ClusterInfo, 'tags'>): boolean => cluster.tags[PURPOSE_TAG] !== 'admin';

export const clusterName = (prefix: string, purpose: ClusterPurpose, suffix: string): string => `${prefix}-${purpose}-${suffix}`;

/** `20261125T103000Z`: sortable, and legal in cluster names and correlation ids. */
export function compactUtc(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
}

/** Whether a cluster name is under the prefix (the prefix itself, or the prefix followed by `-`). */
export const hasOurPrefix = (name: string, prefix: string): boolean => name === prefix || name.startsWith(`${prefix}-`);

/** Ours = our name prefix **and** our application tag: a foreign cluster that happens to share the name is not. */
export function isOurCluster(cluster: Pick<ClusterInfo, 'name' | 'tags'>, prefix: string): boolean {
  return hasOurPrefix(cluster.name, prefix) && cluster.tags[APPLICATION_TAG.key] === APPLICATION_TAG.value;
}
