import type { OrchestratorSettings } from '../../config/orchestrator-config.js';
import type { StepConfig } from '../../config/step-config.js';
import { clusterName, compactUtc } from './cluster-naming.js';
import { buildRunJobFlowRequest, runStepArgs, type RunArguments } from './launch-request.js';
import type { RunJobFlowRequest } from './ports.js';
import type { ClusterTemplates } from './templates.js';

export interface PlannedLaunch {
  readonly name: string;
  readonly request: RunJobFlowRequest;
}

/** Port: the launch requests the trigger and `cluster start` send, with configuration and templates bound. */
export interface LaunchPlanner {
  /** Clusters under this prefix are ours (with the application tag). */
  readonly clusterNamePrefix: string;
  /** A scheduled run: the step with the run's arguments, ends with its step, idle auto-termination. */
  incremental(run: RunArguments): PlannedLaunch;
  /** A replica with no steps, kept alive until stopped (or idle for `idleTimeoutMs`, when given). */
  admin(now: number, idleTimeoutMs?: number): PlannedLaunch;
}

export function launchPlanner(config: OrchestratorSettings, step: StepConfig, templates: () => ClusterTemplates): LaunchPlanner {
  const prefix = config.clusterNamePrefix;
  return {
    clusterNamePrefix: prefix,
    incremental: (run) => {
      const name = clusterName(prefix, 'incremental', run.correlationId);
      const request = buildRunJobFlowRequest(templates(), config, {
        purpose: 'incremental', name, correlationId: run.correlationId, stepArgs: runStepArgs(run, step), idleTimeoutMs: config.idleTimeoutMs,
      });
      return { name, request };
    },
    admin: (now, idleTimeoutMs) => {
      const suffix = compactUtc(now);
      const name = clusterName(prefix, 'admin', suffix);
      const request = buildRunJobFlowRequest(templates(), config, {
        purpose: 'admin', name, correlationId: `admin-${suffix}`, ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
      });
      return { name, request };
    },
  };
}
