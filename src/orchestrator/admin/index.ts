/** Public surface of the operator's commands: cluster start/stop/list and ack. */
export { listOurClusters, startAdminCluster, stopClusters, type ClusterAdminPorts, type StartedCluster, type StopResult } from './cluster-admin.js';
export { acknowledgeFailures, type AckOutcome, type AckStatus, type AckTarget } from './ack.js';
export { freshnessOf, readFreshness, type Freshness, type FreshnessStatus, type RunBrief } from './freshness.js';
