import { toError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { stepArgsOf } from '../../orchestrator/emr/launch-request.js';
import type { EmrControl, RunJobFlowRequest } from '../../orchestrator/emr/ports.js';
import type { PurgeResult } from '../../orchestrator/purge/index.js';

/**
 * Local mode (`trigger --local`): moto's EMR records the launch but never runs anything (its first step stays
 * RUNNING forever), so after the trigger has recorded the launch this stands in for the cluster:
 * 1. leaves the metadata folder a real read replica leaves in the primary's HBase root (`meta_<clusterId>/…`);
 * 2. runs the step CLI as a child process with exactly the arguments of the RunJobFlow request's step, plus
 *    the local endpoints, and the cluster id in EMR_CLUSTER_ID (as on EMR, where the step reads it);
 * 3. terminates the moto cluster (as ActionOnFailure / no-steps-left would);
 * 4. runs the metadata purge for the terminated cluster (what the EMR state-change event triggers in AWS).
 */
export interface StepProcess {
  /** Runs `ingest-replica run <args>`; resolves with the exit code and the JSON summary lines it printed. */
  run(args: readonly string[], env: Readonly<Record<string, string>>): Promise<{ exitCode: number; summaries: unknown[] }>;
}

export interface ReplicaStandIn {
  /** Writes what a replica leaves in the HBase root; returns the keys written. */
  leaveMetadata(clusterId: string): Promise<string[]>;
}

export interface LocalRunPorts {
  readonly emr: EmrControl;
  readonly step: StepProcess;
  readonly replica: ReplicaStandIn;
  readonly purge: (clusterId: string) => Promise<PurgeResult>;
  readonly logger: Logger;
}

export interface LocalRunResult {
  readonly clusterId: string;
  readonly stepArgs: readonly string[];
  readonly stepExitCode: number;
  readonly summaries: readonly unknown[];
  readonly metadataKeys: readonly string[];
  readonly purge: PurgeResult;
}

export async function completeLocally(
  launched: { readonly clusterId: string; readonly request: RunJobFlowRequest },
  localArgs: readonly string[],
  ports: LocalRunPorts,
): Promise<LocalRunResult> {
  const { clusterId } = launched;
  const logger = ports.logger.child({ clusterId, local: true });
  const stepArgs = [...stepArgsOf(launched.request), ...localArgs];
  let metadataKeys: string[] = [];
  let step: { exitCode: number; summaries: unknown[] };
  try {
    metadataKeys = await ports.replica.leaveMetadata(clusterId);
    logger.info({ args: stepArgs }, 'running the step locally');
    step = await ports.step.run(stepArgs, { EMR_CLUSTER_ID: clusterId });
    logger.info({ exitCode: step.exitCode }, 'local step finished');
  } finally {
    // The cluster ends whatever the step did: its step's ActionOnFailure is TERMINATE_CLUSTER, and with no
    // steps left a cluster not kept alive terminates.
    await ports.emr.terminate([clusterId]).catch((e: unknown) => logger.error({ err: toError(e) }, 'could not terminate the local cluster'));
  }
  const purge = await ports.purge(clusterId);
  return { clusterId, stepArgs, stepExitCode: step.exitCode, summaries: step.summaries, metadataKeys, purge };
}
