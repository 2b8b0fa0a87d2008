import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/orchestrator/alerts/index.js';
import type { ClusterInfo, ClusterListing, EmrControl, LaunchPlanner, RunJobFlowRequest } from '../../src/orchestrator/emr/index.js';
import { loadScheduleConfig } from '../../src/orchestrator/schedule/schedule-config.js';
import { launchDecision } from '../../src/orchestrator/schedule/index.js';
import {
  FailedRunsBlockError, RunDeferredError, ScheduleRefusedError, TriggerFailedError, trigger, type TriggerPorts,
} from '../../src/orchestrator/trigger/index.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { JobStatus } from '../../src/shared/types.js';
import type { LaunchLock, LockAttempt } from '../../src/status/launch-lock.js';
import type { StoredStatusRow } from '../../src/status/status-item.js';
import type { StatusRow } from '../../src/step/ports.js';

/** In-memory fakes of the trigger's ports: for the orchestration rules that moto cannot be made to break. */
class FakeStatus {
  readonly rows = new Map<string, StoredStatusRow>();
  failWrites: ((row: StatusRow) => boolean) | undefined;

  transition(row: StatusRow, from: readonly (JobStatus | undefined)[], reason?: string): Promise<boolean> {
    if (this.failWrites?.(row)) return Promise.reject(new Error('DynamoDB unreachable'));
    const key = `${row.correlationId}|${row.collection}`;
    const current = this.rows.get(key);
    if (!from.includes(current?.status as JobStatus | undefined)) return Promise.resolve(false);
    this.rows.set(key, { ...current, ...row, ...(reason ? { reason } : {}) });
    return Promise.resolve(true);
  }
  get(id: string, collection: string): Promise<StoredStatusRow | undefined> {
    return Promise.resolve(this.rows.get(`${id}|${collection}`));
  }
  blockingRows(collection: string): Promise<StoredStatusRow[]> {
    return Promise.resolve([...this.rows.values()].filter((r) => r.collection === collection && ['LAMBDA_TRIGGERED', 'WAITING', 'EMR_LAUNCHED', 'EMR_PROCESSING', 'EMR_FAILED', 'LAMBDA_FAILED'].includes(r.status)));
  }
}

class FakeEmr implements EmrControl {
  readonly launched: RunJobFlowRequest[] = [];
  readonly terminated: string[] = [];
  runJobFlow(request: RunJobFlowRequest): Promise<string> {
    this.launched.push(request);
    return Promise.resolve(`j-FAKE${this.launched.length}`);
  }
  describeCluster(_id?: string): Promise<ClusterInfo | undefined> {
    return Promise.resolve(undefined);
  }
  listClusters(): Promise<ClusterListing[]> {
    return Promise.resolve([]);
  }
  terminate(ids: readonly string[]): Promise<void> {
    this.terminated.push(...ids);
    return Promise.resolve();
  }
}

const freeLock = (overrides: Partial<LaunchLock> = {}): LaunchLock => ({
  acquire: () => Promise.resolve<LockAttempt>({ acquired: true }),
  renew: () => Promise.resolve(true),
  recordLaunch: () => Promise.resolve(true),
  release: () => Promise.resolve(true),
  peek: () => Promise.resolve<LockAttempt>({ acquired: true }),
  ...overrides,
});

const planner: LaunchPlanner = {
  clusterNamePrefix: 'ingest-replica',
  incremental: (run) => ({ name: `ingest-replica-incremental-${run.correlationId}`, request: { Name: `ingest-replica-incremental-${run.correlationId}` } }),
  admin: () => { throw new Error('not used'); },
};

function ports(status: FakeStatus, emr: FakeEmr, lock: LaunchLock, alerts: Alert[]): TriggerPorts {
  let now = Date.UTC(2026, 10, 25, 10, 30);
  return {
    schedule: () => ({ allowed: true }),
    collections: (names) => Promise.resolve(names.map((name) => ({ name, db: name.split(':')[0] as string, table: name.split(':')[1] as string, pii: true }))),
    status, statusTable: 'intraday-job-status', lock, emr, planner,
    alerts: { publish: (a) => Promise.resolve(void alerts.push(a)) },
    clock: { now: () => now, sleep: (ms) => Promise.resolve(void (now += ms)), random: () => 0.5 },
    logger: silentLogger,
  };
}

const request = { force: false, dryRun: false, waitMs: 60_000, collections: ['core:a', 'core:b'], correlationId: 'run-1' };

describe('trigger (orchestration rules, in-memory ports)', () => {
  it('terminates a launched cluster whose launch cannot be recorded, then fails the run with an alert', async () => {
    const status = new FakeStatus();
    const emr = new FakeEmr();
    const alerts: Alert[] = [];
    status.failWrites = (row) => row.status === 'EMR_LAUNCHED';
    const error = await trigger(request, ports(status, emr, freeLock(), alerts)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TriggerFailedError);
    expect((error as Error).message).toMatch(/cluster j-FAKE1 was launched but its launch could not be recorded, so it was terminated/);
    expect(emr.terminated).toEqual(['j-FAKE1']);
    expect([...status.rows.values()].map((r) => [r.collection, r.status, r.emrClusterId])).toEqual([
      ['core:a', 'LAMBDA_FAILED', 'j-FAKE1'], ['core:b', 'LAMBDA_FAILED', 'j-FAKE1'],
    ]);
    expect(alerts.map((a) => a.title)).toEqual(['ingest-replica: trigger failed']);
  });

  it('does not launch when the lock is lost before RunJobFlow (the fence), and launches once it is won again', async () => {
    const status = new FakeStatus();
    const emr = new FakeEmr();
    let renewals = 0;
    const lock = freeLock({ renew: () => Promise.resolve(++renewals > 1) });
    const result = await trigger(request, ports(status, emr, lock, []));
    expect(renewals).toBe(2);
    expect(emr.launched).toHaveLength(1);
    expect(result.outcome).toBe('launched');
  });

  it('accepts a row the step already moved on with this launch\'s cluster id', async () => {
    const status = new FakeStatus();
    const emr = new FakeEmr();
    const stepFirst = new FakeEmr();
    stepFirst.runJobFlow = async (req) => {
      const id = await emr.runJobFlow(req);
      // The step got to core:a before the trigger recorded the launch.
      status.rows.set('run-1|core:a', { ...(status.rows.get('run-1|core:a') as StoredStatusRow), status: 'EMR_PROCESSING', emrClusterId: id });
      return id;
    };
    const result = await trigger(request, ports(status, stepFirst, freeLock(), []));
    expect(result.outcome).toBe('launched');
    expect(status.rows.get('run-1|core:a')?.status).toBe('EMR_PROCESSING');
    expect(status.rows.get('run-1|core:b')?.status).toBe('EMR_LAUNCHED');
  });

  it('waits on a busy lock without sleeping past the deadline, then defers', async () => {
    const status = new FakeStatus();
    const emr = new FakeEmr();
    const lock = freeLock({ acquire: () => Promise.resolve<LockAttempt>({ acquired: false, holder: 'run-0', expiresAt: 0 }) });
    const alerts: Alert[] = [];
    const error = await trigger({ ...request, waitMs: 3_000 }, ports(status, emr, lock, alerts)).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/another trigger \(run run-0\) holds the launch lock/);
    expect(status.rows.get('run-1|core:a')?.status).toBe('DEFERRED');
    expect(emr.launched).toEqual([]);
    expect(alerts).toHaveLength(1);
  });
});

describe('trigger stopped by a signal while waiting', () => {
  it('defers the run (not failed, so nothing blocks later launches) and launches nothing', async () => {
    const status = new FakeStatus();
    const emr = new FakeEmr();
    const controller = new AbortController();
    const p = ports(status, emr, freeLock({ acquire: () => Promise.resolve<LockAttempt>({ acquired: false, holder: 'run-0', expiresAt: 0 }) }), []);
    const sleep = p.clock.sleep;
    const clock = { ...p.clock, sleep: (ms: number, signal?: AbortSignal) => (controller.abort(new Error('stopped by SIGINT')), signal?.aborted ? Promise.reject(signal.reason) : sleep(ms)) };
    const error = await trigger({ ...request, signal: controller.signal }, { ...p, clock }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/stopped before launching \(stopped by SIGINT\)/);
    expect([...status.rows.values()].map((r) => r.status)).toEqual(['DEFERRED', 'DEFERRED']);
    expect(emr.launched).toEqual([]);
  });
});

/** The default schedule (London, SUN 02:00-06:00 window), judged by the real rules, at the fake clock's instants. */
const schedule = loadScheduleConfig({ env: {} });
const judged = (p: TriggerPorts): TriggerPorts => ({ ...p, schedule: (at) => launchDecision(at, schedule) });
/** Sunday 29 November 2026, 01:50 London (GMT, so UTC): ten minutes before the weekly window. */
const BEFORE_WINDOW = Date.UTC(2026, 10, 29, 1, 50);
const IN_WINDOW = Date.UTC(2026, 10, 29, 2, 30);

/** Ports whose clock starts at `start` and whose EMR lists one admin-free incremental cluster of ours until `activeUntil`. */
function windowPorts(status: FakeStatus, emr: FakeEmr, alerts: Alert[], start: number, activeUntil = 0): TriggerPorts {
  let now = start;
  const other: ClusterInfo = { id: 'j-OTHER', name: 'ingest-replica-incremental-run-0', state: 'RUNNING', tags: { Application: 'ingest-replica', Purpose: 'incremental' } };
  emr.listClusters = () => Promise.resolve(now < activeUntil ? [other] : []);
  emr.describeCluster = (id?: string) => Promise.resolve(id === other.id && now < activeUntil ? other : undefined);
  return judged({
    ...ports(status, emr, freeLock(), alerts),
    clock: { now: () => now, sleep: (ms) => Promise.resolve(void (now += ms)), random: () => 0.5 },
  });
}

describe('maintenance windows hold whatever fires the trigger (DESIGN §3.7)', () => {
  it('refuses a forced trigger inside a window, writing and launching nothing, and names the override', async () => {
    const status = new FakeStatus();
    const emr = new FakeEmr();
    const alerts: Alert[] = [];
    const error = await trigger({ ...request, force: true }, windowPorts(status, emr, alerts, IN_WINDOW)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScheduleRefusedError);
    expect((error as Error).message).toMatch(/inside maintenance window SUN 02:00-06:00.*--force does not override a maintenance window; pass --override-maintenance-window/);
    expect(status.rows.size).toBe(0);
    expect(emr.launched).toEqual([]);
  });

  it('launches inside a window only with --override-maintenance-window, and the alert says so', async () => {
    const status = new FakeStatus();
    const emr = new FakeEmr();
    const alerts: Alert[] = [];
    const result = await trigger({ ...request, overrideMaintenanceWindow: true }, windowPorts(status, emr, alerts, IN_WINDOW));
    expect(result.outcome).toBe('launched');
    expect(emr.launched).toHaveLength(1);
    expect(alerts.map((a) => a.title)).toEqual(['ingest-replica: launching INSIDE a maintenance window (overridden by --override-maintenance-window)']);
    expect(alerts[0]?.details.Window).toMatch(/SUN 02:00-06:00/);
  });

  it('re-checks the window just before RunJobFlow: a wait that ends inside a window defers the run', async () => {
    const status = new FakeStatus();
    const emr = new FakeEmr();
    const alerts: Alert[] = [];
    // Forced at 01:50 (no slot then), another run's cluster is active until 02:05: the wait ends in the window.
    const error = await trigger({ ...request, force: true, waitMs: 15 * 60_000 }, windowPorts(status, emr, alerts, BEFORE_WINDOW, Date.UTC(2026, 10, 29, 2, 5)))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunDeferredError);
    expect((error as Error).message).toMatch(/the launch would fall inside a maintenance window after waiting \d+ s: .*SUN 02:00-06:00/);
    expect(emr.launched).toEqual([]);
    expect([...status.rows.values()].map((r) => r.status)).toEqual(['DEFERRED', 'DEFERRED']);
    expect(alerts.map((a) => a.title)).toEqual(['ingest-replica: run deferred, the launch would fall inside a maintenance window']);
  });

  it('judges the re-check at --at plus the time waited, not at the wall clock', async () => {
    const status = new FakeStatus();
    const emr = new FakeEmr();
    // The wall clock is a weekday noon; --at says 01:50 Sunday and the wait lasts 15 min.
    const p = windowPorts(status, emr, [], Date.UTC(2026, 10, 25, 12, 0), Date.UTC(2026, 10, 25, 12, 15));
    const error = await trigger({ ...request, force: true, at: BEFORE_WINDOW, waitMs: 20 * 60_000 }, p).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunDeferredError);
    expect(emr.launched).toEqual([]);
  });
});

describe('trigger --dry-run judges as the real trigger does and writes nothing', () => {
  /** A status store that fails the test on any write. */
  const readOnly = (status: FakeStatus): FakeStatus => Object.assign(status, { transition: () => Promise.reject(new Error('a dry run wrote a status row')) });

  it('reports blocked by failed rows (FailedRunsBlockError, exit 3) without writing or alerting', async () => {
    const status = new FakeStatus();
    status.rows.set('run-0|core:a', { correlationId: 'run-0', collection: 'core:a', status: 'EMR_FAILED', triggeredTime: 1, reason: 'boom' });
    const emr = new FakeEmr();
    const alerts: Alert[] = [];
    const lock = freeLock({ acquire: () => Promise.reject(new Error('a dry run took the lock')) });
    const error = await trigger({ ...request, dryRun: true }, ports(readOnly(status), emr, lock, alerts)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FailedRunsBlockError);
    expect((error as Error).message).toMatch(/^dry run \(nothing written, no alert sent\): not launching: unacknowledged failed runs block core:a/);
    expect(alerts).toEqual([]);
    expect(emr.launched).toEqual([]);
  });

  it('reports deferred after the wait while another run stays active, and would launch once it is clear', async () => {
    const status = new FakeStatus();
    const emr = new FakeEmr();
    const alerts: Alert[] = [];
    const p = windowPorts(readOnly(status), emr, alerts, Date.UTC(2026, 10, 25, 10, 30), Date.UTC(2026, 10, 25, 11, 0));
    const deferred = await trigger({ ...request, dryRun: true, waitMs: 60_000 }, p).catch((e: unknown) => e);
    expect(deferred).toBeInstanceOf(RunDeferredError);
    expect((deferred as Error).message).toMatch(/^dry run .*still active after waiting \d+ s: cluster j-OTHER/);
    const clear = await trigger({ ...request, dryRun: true, waitMs: 60 * 60_000 }, p);
    expect(clear.outcome).toBe('dry-run');
    expect(emr.launched).toEqual([]);
    expect(alerts).toEqual([]);
  });
});
