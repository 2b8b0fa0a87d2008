import { BlockedError, ConfigError, IngestError, toError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { raiseAlert, type Alert } from '../alerts/alert.js';
import type { PlannedLaunch } from '../emr/launch-planner.js';
import type { RunJobFlowRequest } from '../emr/ports.js';
import type { LaunchDecision } from '../schedule/index.js';
import { newCorrelationId } from './correlation-id.js';
import { dryRunPorts } from './dry-run.js';
import { FailedRunsBlockError, RunDeferredError, ScheduleRefusedError, TriggerFailedError } from './errors.js';
import { ackCommands, describeActive, describeFailed, type Verdict } from './guard.js';
import { inspect } from './inspect.js';
import { launchFenced } from './launch.js';
import type { TriggerPorts, TriggerRequest } from './ports.js';
import { RunRows } from './run-rows.js';
import { backoffDelay, DEFAULT_TIMING, lockPollDelay, type TriggerTiming } from './timing.js';
import { blockedAlert, deferredAlert, maintenanceDeferredAlert, maintenanceOverrideAlert, triggerFailedAlert } from './trigger-alerts.js';

export type TriggerResult =
  | {
      readonly outcome: 'dry-run';
      readonly correlationId: string;
      readonly collections: readonly string[];
      readonly clusterName: string;
      readonly schedule: LaunchDecision;
      readonly request: RunJobFlowRequest;
      /** The alerts the real trigger would have sent on the way to this launch (e.g. a window overridden). */
      readonly alerts: readonly Alert[];
    }
  | {
      readonly outcome: 'launched';
      readonly correlationId: string;
      readonly collections: readonly string[];
      readonly clusterName: string;
      readonly clusterId: string;
      readonly triggeredTime: number;
      readonly waitedMs: number;
      readonly request: RunJobFlowRequest;
    };

/**
 * What the schedule fires (issue 4 §1–7), for the CLI and the Lambda handler alike:
 * 1. refuse outside the schedule unless forced, and inside a maintenance window unless that is overridden by
 *    name (`overrideMaintenanceWindow`; `force` never does) (ScheduleRefusedError, exit 3);
 * 2. a new correlation id and one LAMBDA_TRIGGERED row per collection;
 * 3–5. under the launch lock: reconcile, guard; failed rows → DEFERRED + alert + FailedRunsBlockError; an active
 *    run → WAITING, poll with capped backoff until the wait ends → DEFERRED + alert + RunDeferredError;
 * 6. re-check the maintenance window at the launch instant (the wait may have drifted into one): inside one,
 *    rows DEFERRED + alert + RunDeferredError, unless overridden (then the alert says so); launch (RunJobFlow
 *    from the templates), rows EMR_LAUNCHED with the cluster id;
 * 7. any other error → rows LAMBDA_FAILED + alert + TriggerFailedError (exit 1).
 * A dry run judges the same way on the same reads, writes nothing and stops where RunJobFlow would be sent.
 */
export async function trigger(request: TriggerRequest, ports: TriggerPorts): Promise<TriggerResult> {
  const now = ports.clock.now();
  const schedule = checkSchedule(request, ports, now);
  const collections = (await ports.collections(request.collections ?? [])).map((c) => c.name);
  if (collections.length === 0) throw new ConfigError('no collections to process: the collections secret lists none and --collections named none');
  const correlationId = request.correlationId ?? newCorrelationId(now);
  const logger = ports.logger.child({ correlationId });
  // Built before anything is written: a template or setting problem is a configuration error with no trace.
  const planned = ports.planner.incremental({ correlationId, triggeredTime: now, endTime: now, collections });
  // The schedule instant of "now" as the wait goes on: `--at` moves where the clock starts, not how it runs.
  const judgedNow = (): number => (request.at ?? now) + (ports.clock.now() - now);
  if (request.dryRun) {
    const alerts: Alert[] = [];
    const dry = dryRunPorts(ports, alerts);
    try {
      await waitAndLaunch(planned, new RunRows(dry.status, correlationId, collections, now), request, dry, logger, judgedNow);
    } catch (caught) {
      if (caught instanceof BlockedError) caught.message = `dry run (nothing written, no alert sent): ${caught.message}`;
      throw caught;
    }
    return { outcome: 'dry-run', correlationId, collections, clusterName: planned.name, schedule, request: planned.request, alerts };
  }

  const rows = new RunRows(ports.status, correlationId, collections, now);
  await rows.create();
  logger.info({ collections, clusterName: planned.name }, 'run triggered');
  try {
    const clusterId = await waitAndLaunch(planned, rows, request, ports, logger, judgedNow);
    logger.info({ clusterId, clusterName: planned.name, waitedMs: ports.clock.now() - now }, 'run launched');
    return { outcome: 'launched', correlationId, collections, clusterName: planned.name, clusterId, triggeredTime: now, waitedMs: ports.clock.now() - now, request: planned.request };
  } catch (caught) {
    if (caught instanceof BlockedError) throw caught;
    const error = toError(caught);
    const clusterId = error instanceof IngestError && typeof error.context.clusterId === 'string' ? error.context.clusterId : undefined;
    logger.error({ err: error }, 'trigger failed');
    await rows.fail(`trigger failed: ${error.message}`, clusterId).catch((e: unknown) => logger.error({ err: toError(e) }, 'could not record LAMBDA_FAILED'));
    await raiseAlert(ports.alerts, triggerFailedAlert(rows, error, clusterId), logger);
    throw error instanceof TriggerFailedError ? error : new TriggerFailedError(`trigger of run ${correlationId} failed: ${error.message}`, { context: { correlationId }, cause: error });
  }
}

/**
 * DESIGN §3.7: inside a maintenance window the trigger refuses whatever fired it. `force` overrides the launch
 * slots and bank holidays; only `overrideMaintenanceWindow` (which implies `force`) overrides a window.
 */
function checkSchedule(request: TriggerRequest, ports: TriggerPorts, now: number): LaunchDecision {
  const at = request.at ?? now;
  const decision = ports.schedule(at);
  if (decision.allowed) return decision;
  const overrideWindow = request.overrideMaintenanceWindow === true;
  if (decision.window !== undefined && !overrideWindow) {
    throw new ScheduleRefusedError(
      `not launching at ${new Date(at).toISOString()}: ${decision.detail}. --force does not override a maintenance window; ` +
        'pass --override-maintenance-window (Lambda event "overrideMaintenanceWindow": true) to launch inside it anyway.',
      { context: { reason: decision.reason } },
    );
  }
  if (!request.force && !overrideWindow) {
    throw new ScheduleRefusedError(`not launching at ${new Date(at).toISOString()}: ${decision.detail}. Pass --force to launch anyway.`, {
      context: { reason: decision.reason },
    });
  }
  const by = decision.window !== undefined ? '--override-maintenance-window' : '--force';
  ports.logger.warn({ reason: decision.reason, detail: decision.detail }, `schedule refusal overridden by ${by}`);
  return decision;
}

type Attempt =
  | Exclude<Verdict, { kind: 'clear' }>
  | { readonly kind: 'busy'; readonly holder: string }
  | { readonly kind: 'fenced' }
  | { readonly kind: 'maintenance'; readonly detail: string }
  | { readonly kind: 'launched'; readonly clusterId: string };

/**
 * Steps 3–6: a loop of (lock → reconcile + guard → launch | release and wait) until launched or the wait ends.
 * In a dry run the ports write nothing, and the loop ends at the launch with an empty cluster id.
 */
async function waitAndLaunch(
  planned: PlannedLaunch, rows: RunRows, request: TriggerRequest, ports: TriggerPorts, logger: Logger, judgedNow: () => number,
): Promise<string> {
  const timing: TriggerTiming = { ...DEFAULT_TIMING, ...request.timing };
  const started = ports.clock.now();
  const deadline = started + request.waitMs;
  let backoffs = 0;
  let lastWrite = started;
  for (;;) {
    await stopIfAborted(rows, request.signal, logger);
    const attempt = await underLock(planned, rows, request, ports, timing, logger, judgedNow);
    if (attempt.kind === 'launched') return attempt.clusterId;
    if (attempt.kind === 'fenced') continue; // the lock changed hands before RunJobFlow: look again
    if (attempt.kind === 'maintenance') {
      const waited = ports.clock.now() - started;
      await rows.defer(`deferred: ${attempt.detail}`);
      await raiseAlert(ports.alerts, maintenanceDeferredAlert(rows, waited, attempt.detail), logger);
      throw new RunDeferredError(
        `deferred: the launch would fall inside a maintenance window after waiting ${Math.round(waited / 1000)} s: ${attempt.detail}`,
        { context: { correlationId: rows.correlationId } },
      );
    }
    if (attempt.kind === 'failed') {
      const failed = describeFailed(attempt.rows);
      const commands = ackCommands(attempt.rows, ports.statusTable);
      await rows.defer(`blocked by unacknowledged failed runs: ${failed}`);
      await raiseAlert(ports.alerts, blockedAlert(rows, failed, commands), logger);
      throw new FailedRunsBlockError(
        `not launching: unacknowledged failed runs block ${[...new Set(attempt.rows.map((r) => r.collection))].join(', ')}: ${failed}. ` +
          `Once they are dealt with, clear them with: ${commands.join('   or   ')}`,
        commands,
        { context: { correlationId: rows.correlationId } },
      );
    }
    const active = attempt.kind === 'active' ? describeActive(attempt) : `another trigger (run ${attempt.holder}) holds the launch lock`;
    const now = ports.clock.now();
    if (now >= deadline) {
      await rows.defer(`deferred after waiting ${Math.round((now - started) / 1000)} s: ${active}`);
      await raiseAlert(ports.alerts, deferredAlert(rows, now - started, active), logger);
      throw new RunDeferredError(`deferred: still active after waiting ${Math.round((now - started) / 1000)} s: ${active}`, {
        context: { correlationId: rows.correlationId },
      });
    }
    if (attempt.kind === 'active' && rows.state !== 'WAITING') {
      logger.info({ active }, 'another run is active: waiting');
      await rows.wait(`waiting: ${active}`);
      lastWrite = now;
    } else if (now - lastWrite >= timing.heartbeatMs) {
      await rows.heartbeat(rows.state === 'WAITING' ? `waiting: ${active}` : undefined);
      lastWrite = now;
    }
    const delay = attempt.kind === 'busy'
      ? lockPollDelay(deadline - now, timing, ports.clock.random)
      : backoffDelay(backoffs++, deadline - now, timing, ports.clock.random);
    await ports.clock.sleep(delay, request.signal).catch(() => stopIfAborted(rows, request.signal, logger));
  }
}

/** Stopped (SIGINT/SIGTERM) before launching: nothing went wrong with the run, so it is deferred, not failed. */
async function stopIfAborted(rows: RunRows, signal: AbortSignal | undefined, logger: Logger): Promise<void> {
  if (signal?.aborted !== true) return;
  const why = toError(signal.reason).message;
  logger.warn({ reason: why }, 'trigger stopped before launching');
  await rows.defer(`stopped before launching: ${why}`);
  throw new RunDeferredError(`stopped before launching (${why}); the run is deferred`, { context: { correlationId: rows.correlationId } });
}

/**
 * One attempt: take the lock (or report who has it), inspect, re-check the maintenance window at this very
 * instant, launch when clear, always release.
 */
async function underLock(
  planned: PlannedLaunch, rows: RunRows, request: TriggerRequest, ports: TriggerPorts, timing: TriggerTiming, logger: Logger, judgedNow: () => number,
): Promise<Attempt> {
  const lock = await ports.lock.acquire(rows.correlationId, ports.clock.now(), timing.leaseMs);
  if (!lock.acquired) return { kind: 'busy', holder: lock.holder };
  try {
    const verdict = await inspect({
      correlationId: rows.correlationId,
      collections: rows.collections,
      staleAfterMs: timing.staleAfterMs,
      ...(lock.lastLaunch ? { lastLaunch: lock.lastLaunch } : {}),
    }, ports);
    if (verdict.kind !== 'clear') return verdict;
    const window = ports.schedule(judgedNow());
    if (!window.allowed && window.window !== undefined) {
      if (request.overrideMaintenanceWindow !== true) return { kind: 'maintenance', detail: window.detail };
      logger.warn({ detail: window.detail }, 'launching inside a maintenance window: overridden by --override-maintenance-window');
      await raiseAlert(ports.alerts, maintenanceOverrideAlert(rows, window.detail), logger);
    }
    if (request.dryRun) return { kind: 'launched', clusterId: '' };
    const clusterId = await launchFenced(planned, rows, ports, timing.leaseMs);
    return clusterId === undefined ? { kind: 'fenced' } : { kind: 'launched', clusterId };
  } finally {
    await ports.lock.release(rows.correlationId).catch((e: unknown) => logger.warn({ err: toError(e) }, 'could not release the launch lock; its lease will expire'));
  }
}
