/** Public surface of the EMR launch: ports, names and ownership, templates → RunJobFlow. The adapter is imported from its own file. */
export {
  ACTIVE_CLUSTER_STATES, TERMINATED_CLUSTER_STATES, isActiveState,
  type ClusterInfo, type ClusterListing, type ClusterState, type EmrControl, type RunJobFlowRequest,
} from './ports.js';
export { clusterName, compactUtc, hasOurPrefix, isOurCluster, type ClusterPurpose } from './cluster-naming.js';
export { ourClusters } from './our-clusters.js';
export { readTemplates, fillTemplate, TEMPLATE_FILES, type ClusterTemplates, type TemplateParams } from './templates.js';
export { buildRunJobFlowRequest, HBASE_REST_PORT, launchParameters, runStepArgs, stepArgsOf, type LaunchSpec, type RunArguments } from './launch-request.js';
export { ClusterAccessDeniedError, ForeignClusterError, TemplateError, emrError } from './errors.js';
export { launchPlanner, type LaunchPlanner, type PlannedLaunch } from './launch-planner.js';
