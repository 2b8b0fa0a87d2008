import { parseHBaseRoot, type HBaseRoot, type Ownership } from './index.js';
import { ConfigError } from '../../shared/errors.js';
import type { AwsTarget } from '../../config/aws-endpoints.js';
import { APPLICATION_TAG, LAUNCH_REQUIRED, loadOrchestratorConfig, ORCHESTRATOR_SETTINGS } from '../../config/orchestrator-config.js';
import type { ConfigSources } from '../../config/step-config.js';

/**
 * What the metadata purge needs: the AWS endpoint and region, the primary's HBase root dir
 * (`INGEST_HBASE_ROOT_DIR`, `s3://bucket/prefix`; on the local stack `s3://ingest-replica-hbase-root/hbase`)
 * and what marks a cluster as ours (`INGEST_CLUSTER_NAME_PREFIX`, default `ingest-replica`, or the tag
 * `Application=ingest-replica`). The settings are the orchestrator's own, read through its loader, so the
 * launch and the purge can never disagree on the root or the prefix.
 */
export interface PurgeConfig {
  readonly aws: AwsTarget;
  readonly root: HBaseRoot;
  readonly ownership: Ownership;
}

export function loadPurgeConfig(sources: ConfigSources): PurgeConfig {
  const config = loadOrchestratorConfig({ ...sources, require: LAUNCH_REQUIRED.filter((r) => r.key === ORCHESTRATOR_SETTINGS.hbaseRootDir.key) });
  let root: HBaseRoot;
  try {
    root = parseHBaseRoot(config.hbaseRootDir as string);
  } catch (error) {
    const s = ORCHESTRATOR_SETTINGS.hbaseRootDir;
    throw new ConfigError(`invalid ${s.key} ${JSON.stringify(config.hbaseRootDir)}: ${(error as Error).message}. Fix: pass ${s.flag} <value> or set ${s.env} (${s.description}).`);
  }
  return Object.freeze({
    aws: Object.freeze({ awsEndpointUrl: config.step.awsEndpointUrl, awsServiceEndpoints: config.step.awsServiceEndpoints, awsEmulator: config.step.awsEmulator, awsRegion: config.step.awsRegion }),
    root: Object.freeze(root),
    ownership: Object.freeze({ namePrefix: config.clusterNamePrefix, tag: { key: APPLICATION_TAG.key, value: APPLICATION_TAG.value } }),
  });
}
