import { describe, expect, it } from 'vitest';
import type { ClusterInfo } from '../../src/orchestrator/emr/index.js';
import { ackCommands, assess, reconcileRow } from '../../src/orchestrator/trigger/index.js';
import type { StoredStatusRow } from '../../src/status/status-item.js';

const NOW = Date.UTC(2026, 10, 25, 10, 30);
const STALE = 10 * 60_000;
const row = (status: string, extra: Partial<StoredStatusRow> = {}): StoredStatusRow =>
  ({ correlationId: 'other', collection: 'core:addresses', status: status as StoredStatusRow['status'], triggeredTime: NOW - 60_000, ...extra });
const cluster = (state: ClusterInfo['state'], extra: Partial<ClusterInfo> = {}): ClusterInfo =>
  ({ id: 'j-1', name: 'ingest-replica-incremental-x', state, tags: { Application: 'ingest-replica' }, ...extra });

describe('reconcileRow', () => {
  it('fails a launched or processing run whose cluster EMR reports terminated, with EMR\'s reason', () => {
    expect(reconcileRow(row('EMR_PROCESSING', { emrClusterId: 'j-1' }), cluster('TERMINATED_WITH_ERRORS', { stateReason: 'BOOTSTRAP_FAILURE: script exited 1' }), NOW, STALE))
      .toEqual({ to: 'EMR_FAILED', reason: 'cluster j-1 is TERMINATED_WITH_ERRORS (BOOTSTRAP_FAILURE: script exited 1) but the run was still EMR_PROCESSING' });
    expect(reconcileRow(row('EMR_LAUNCHED', { emrClusterId: 'j-1' }), cluster('TERMINATED'), NOW, STALE)?.to).toBe('EMR_FAILED');
  });

  it('fails a run whose cluster EMR does not know', () => {
    expect(reconcileRow(row('EMR_LAUNCHED', { emrClusterId: 'j-GONE' }), undefined, NOW, STALE)?.reason).toMatch(/EMR does not know cluster j-GONE/);
  });

  it('leaves a run alone while its cluster is active, TERMINATING included', () => {
    for (const state of ['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING', 'TERMINATING'] as const) {
      expect(reconcileRow(row('EMR_PROCESSING', { emrClusterId: 'j-1' }), cluster(state), NOW, STALE)).toBeUndefined();
    }
  });

  it('fails pre-launch rows whose trigger stopped updating them, judged by UpdatedAt, else TriggeredTime', () => {
    expect(reconcileRow(row('WAITING', { updatedAt: NOW - STALE - 1 }), undefined, NOW, STALE)?.to).toBe('LAMBDA_FAILED');
    expect(reconcileRow(row('WAITING', { triggeredTime: NOW - 3_600_000, updatedAt: NOW - 5_000 }), undefined, NOW, STALE)).toBeUndefined();
    expect(reconcileRow(row('LAMBDA_TRIGGERED', { triggeredTime: NOW - STALE - 1 }), undefined, NOW, STALE)?.reason).toMatch(/stopped without an outcome/);
  });

  it('never touches failed or completed rows', () => {
    for (const status of ['EMR_FAILED', 'LAMBDA_FAILED', 'EMR_COMPLETED', 'DEFERRED', '_EMR_FAILED']) {
      expect(reconcileRow(row(status, { emrClusterId: 'j-1', triggeredTime: 0 }), cluster('TERMINATED'), NOW, STALE)).toBeUndefined();
    }
  });
});

describe('assess', () => {
  it('is clear with no rows of other runs and no active cluster; ignores our own rows', () => {
    expect(assess('mine', [row('EMR_FAILED', { correlationId: 'mine' })], [])).toEqual({ kind: 'clear' });
  });

  it('blocks on failed rows before anything else: waiting cannot clear them', () => {
    const failed = row('LAMBDA_FAILED');
    expect(assess('mine', [failed, row('EMR_PROCESSING', { correlationId: 'x' })], [cluster('RUNNING')])).toEqual({ kind: 'failed', rows: [failed] });
  });

  it('waits for runs in flight and for our active clusters, whatever the table says', () => {
    const inFlight = row('EMR_LAUNCHED', { emrClusterId: 'j-1' });
    expect(assess('mine', [inFlight], [])).toEqual({ kind: 'active', rows: [inFlight], clusters: [] });
    expect(assess('mine', [], [cluster('BOOTSTRAPPING')])).toMatchObject({ kind: 'active', rows: [] });
  });

  it('is not held up by an admin cluster (cluster start), only by our other clusters and by rows', () => {
    const admin = cluster('WAITING', { id: 'j-ADMIN', name: 'ingest-replica-admin-20261125T090000Z', tags: { Application: 'ingest-replica', Purpose: 'admin' } });
    expect(assess('mine', [], [admin])).toEqual({ kind: 'clear' });
    const run = cluster('RUNNING', { tags: { Application: 'ingest-replica', Purpose: 'incremental' } });
    expect(assess('mine', [], [admin, run])).toEqual({ kind: 'active', rows: [], clusters: [run] });
    // A step an operator runs on the admin cluster writes EMR_PROCESSING rows with its id: those block.
    const onAdmin = row('EMR_PROCESSING', { emrClusterId: 'j-ADMIN' });
    expect(assess('mine', [onAdmin], [admin])).toEqual({ kind: 'active', rows: [onAdmin], clusters: [] });
  });

  it('lets fresh pre-launch rows of another trigger through: the launch lock decides between live triggers', () => {
    expect(assess('mine', [row('LAMBDA_TRIGGERED'), row('WAITING')], [])).toEqual({ kind: 'clear' });
  });
});

describe('ackCommands', () => {
  it('names the collections, and the run when one run failed, with a non-default table spelled out', () => {
    expect(ackCommands([row('EMR_FAILED', { collection: 'core:b' }), row('EMR_FAILED', { collection: 'core:a' })], 'intraday-job-status'))
      .toEqual(['ingest-replica ack core:a core:b', 'ingest-replica ack --correlation-id other']);
    expect(ackCommands([row('EMR_FAILED'), row('LAMBDA_FAILED', { correlationId: 'another' })], 'my-table'))
      .toEqual(['ingest-replica ack core:addresses --status-table my-table']);
  });
});
