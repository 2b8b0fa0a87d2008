import { toError } from '../../shared/errors.js';
import type { PlannedLaunch } from '../emr/launch-planner.js';
import { TriggerFailedError } from './errors.js';
import type { TriggerPorts } from './ports.js';
import type { RunRows } from './run-rows.js';

/**
 * The launch itself, while holding the lock: fence (renew the lease — if the lock is no longer ours, another
 * trigger may be launching, so we must not), RunJobFlow, record the launch in the lock, rows → EMR_LAUNCHED.
 * Returns undefined when the fence failed (nothing launched). After RunJobFlow, a failure to record the launch
 * terminates the cluster: an unrecorded cluster would run a step whose rows the trigger then marks failed.
 */
export async function launchFenced(
  planned: PlannedLaunch,
  rows: RunRows,
  ports: TriggerPorts,
  leaseMs: number,
): Promise<string | undefined> {
  if (!(await ports.lock.renew(rows.correlationId, ports.clock.now(), leaseMs))) return undefined;
  const clusterId = await ports.emr.runJobFlow(planned.request);
  try {
    const recorded = await ports.lock.recordLaunch(rows.correlationId, { clusterId, correlationId: rows.correlationId, at: ports.clock.now() });
    if (!recorded) ports.logger.warn({ clusterId }, 'launch lock expired during the launch; the cluster is still found through EMR');
    const refused = await rows.launched(clusterId);
    for (const collection of refused) {
      // The step may already have moved its row on (it accepts LAMBDA_TRIGGERED too): that is our launch.
      const row = await ports.status.get(rows.correlationId, collection);
      if (row?.emrClusterId !== clusterId) throw new Error(`status row ${rows.correlationId}/${collection} is ${row?.status ?? 'missing'}, not launched on ${clusterId}`);
    }
    return clusterId;
  } catch (caught) {
    const error = toError(caught);
    ports.logger.error({ err: error, clusterId }, 'launch could not be recorded: terminating the cluster');
    await ports.emr.terminate([clusterId]).catch((e: unknown) => ports.logger.error({ err: toError(e), clusterId }, 'could not terminate the unrecorded cluster'));
    throw new TriggerFailedError(`cluster ${clusterId} was launched but its launch could not be recorded, so it was terminated: ${error.message}`, {
      context: { correlationId: rows.correlationId, clusterId },
      cause: error,
    });
  }
}
