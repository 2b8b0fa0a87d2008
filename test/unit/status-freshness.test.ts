import { describe, expect, it } from 'vitest';
import { freshnessOf } from '../../src/orchestrator/admin/index.js';
import { age, statusText } from '../../src/cli/status-view.js';
import type { StoredStatusRow } from '../../src/status/status-item.js';

const NOW = Date.UTC(2026, 11, 7, 12, 0);
const HOUR = 3_600_000;
const row = (correlationId: string, status: string, extra: Partial<StoredStatusRow> = {}): StoredStatusRow =>
  ({ correlationId, collection: 'core:addresses', status, triggeredTime: NOW - HOUR, ...extra }) as StoredStatusRow;
const view = (rows: { watermark?: number; withData?: StoredStatusRow; latest?: StoredStatusRow[]; blocking?: StoredStatusRow[] }) =>
  freshnessOf({ collection: 'core:addresses', watermark: rows.watermark, withData: rows.withData, latest: rows.latest ?? [], blocking: rows.blocking ?? [] }, NOW, 600_000);

describe('freshness', () => {
  it('gives the watermark as "complete up to" and its lag behind now', () => {
    const done = row('r1', 'EMR_COMPLETED', { processedDataEnd: NOW - 2 * HOUR });
    expect(view({ watermark: NOW - 2 * HOUR, withData: done, latest: [done] })).toMatchObject({
      completeUpTo: NOW - 2 * HOUR, lagMs: 2 * HOUR, state: 'ok', needsAck: false, ackCommand: null,
      lastRunWithData: { correlationId: 'r1', processedDataEnd: NOW - 2 * HOUR },
    });
  });

  it('needs an ack for a failed row and for a stale in-flight row with no cluster, not for a live run', () => {
    const failed = row('r2', 'EMR_FAILED', { reason: 'SparkJobError: range 1 killed' });
    expect(view({ latest: [failed], blocking: [failed] })).toMatchObject({
      state: 'needs-ack', needsAck: true, ackCommand: 'ingest-replica ack core:addresses', completeUpTo: null, lagMs: null,
      failures: [{ correlationId: 'r2', reason: 'SparkJobError: range 1 killed' }],
    });
    const stale = row('r3', 'EMR_PROCESSING', { updatedAt: NOW - HOUR });
    expect(view({ latest: [stale], blocking: [stale] }).failures[0]?.reason).toMatch(/the runner of run r3 stopped/);
    const live = row('r4', 'EMR_PROCESSING', { updatedAt: NOW - 60_000 });
    expect(view({ latest: [live], blocking: [live] })).toMatchObject({ state: 'running', needsAck: false });
    expect(view({})).toMatchObject({ state: 'never-run', latestRun: null, lastRunWithData: null });
  });

  it('prints column headers, one line per collection and the ack command', () => {
    const failed = row('r2', 'EMR_FAILED', { reason: 'boom' });
    const lines = statusText([view({ watermark: NOW - 90 * 60_000, latest: [failed], blocking: [failed] })], NOW).split('\n');
    expect(lines[0]).toBe('COLLECTION      COMPLETE UP TO            LAG    LAST RUN WITH DATA  LATEST RUN     STATE      ACK NEEDED');
    expect(lines[1]).toBe('core:addresses  2026-12-07T10:30:00.000Z  1h30m  -                   r2 EMR_FAILED  needs-ack  yes');
    expect(lines[2]).toBe('! core:addresses r2 EMR_FAILED: boom');
    expect(lines[3]).toBe('  to unblock, after checking the cause: ingest-replica ack core:addresses');
    expect([age(45_000), age(12 * 60_000), age(49 * HOUR)]).toEqual(['45s', '12m', '2d1h']);
  });
});
