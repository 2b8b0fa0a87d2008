import { describe, expect, it } from 'vitest';
import { progressText, ProgressDisplay, terminalProgress } from '../../src/cli/progress-display.js';
import { beforeLogWrite, configureLogging, writeForwardedLogLine } from '../../src/shared/logger.js';
import { seededRecords } from '../../src/local/seeder/documents.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { CollectionConfig } from '../../src/shared/types.js';
import type { ScanProgress } from '../../src/step/collection-run.js';
import { runStep } from '../../src/step/run-step.js';
import { FakeHBase, FakeKeys, FakeLease, FakeSink, FakeStatus } from '../support/fakes.js';

const collection: CollectionConfig = { name: 'core:addresses', db: 'core', table: 'addresses', pii: true };

describe('scan progress', () => {
  it('reports the share of the key space read, which tracks the cells read, and ends at 1', async () => {
    const records = [...seededRecords({ seed: 'progress', collection: collection.name, from: Date.UTC(2025, 0, 1), until: Date.UTC(2025, 1, 1) }, 600)];
    // The cells need not decrypt for the scan to progress: undecryptable ones are quarantined, and counted.
    const hbase = new FakeHBase(new Map([[collection.name, records.map((r) => ({ rowKey: r.rowKey, timestamp: r.timestamp, value: Buffer.from('{}') }))]]));
    const keys = new FakeKeys(new Map());
    const seen: ScanProgress[] = [];
    const [summary] = await runStep(() => ({ hbase, keys, sink: new FakeSink(), status: new FakeStatus(), lease: new FakeLease(), keyStats: () => keys.stats() }), {
      correlationId: 'p1', triggeredTime: Date.UTC(2025, 2, 1), endTime: Date.UTC(2025, 2, 1), collections: [collection], concurrency: 1, scanConcurrency: 2,
      visibilityLagMs: 0, maxQuarantined: 10_000, outputPrefix: 'incremental', logger: silentLogger, lease: { leaseMs: 60_000, waitMs: 0 },
      onProgress: (name, p) => {
        expect(name).toBe(collection.name);
        seen.push(p);
      },
    });
    expect(summary?.quarantined).toBe(600);
    expect(seen.length).toBeGreaterThan(100);
    expect(seen.at(-1)?.done).toBe(1);
    for (let i = 1; i < seen.length; i += 1) expect(seen[i]!.done).toBeGreaterThanOrEqual(seen[i - 1]!.done);
    // The fake answers 3 cells a time: after n answers, 3n of the 600 cells were read. CRC32 keys spread evenly.
    const far = seen.slice(0, -2).filter((p, i) => Math.abs(p.done - (3 * (i + 1)) / 600) > 0.1);
    expect(far).toEqual([]);
  });
});


describe('the progress display', () => {
  it('draws a bar, records, rate and ETA from the share of the key space read', () => {
    expect(progressText('core:addresses', 12_345, 0.41, 4000)).toBe('core:addresses [########------------] 41%  12,345 records  3,086/s  ETA 6s');
    expect(progressText('core:addresses', 10, 0.01, 4000)).toMatch(/ETA …$/);
    expect(progressText('core:addresses', 500_000, 0.25, 600_000)).toMatch(/ETA 30m00s$/);
  });

  it('redraws one line at most every interval, erases it on clear, and drops finished collections', () => {
    let now = 0;
    const out: string[] = [];
    const display = new ProgressDisplay({ write: (t) => out.push(t), columns: 200 }, () => now, 200);
    display.update('a:b', { records: 10, done: 0.1 });
    now = 100;
    display.update('a:b', { records: 20, done: 0.2 });
    expect(out.filter((t) => t.startsWith('a:b'))).toHaveLength(1);
    now = 300;
    display.update('c:d', { records: 5, done: 0.5 });
    expect(out.at(-1)).toMatch(/^a:b \[####-+\] 20% .* \| {2}c:d \[#{10}-{10}\] 50%/);
    display.finish('a:b');
    expect(out.at(-1)).toMatch(/^c:d /);
    display.clear();
    expect(out.at(-1)).toBe('\r\x1b[K');
  });

  it('is shown on a terminal only, with readable logs and without --quiet', () => {
    const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    try {
      Object.defineProperty(process.stderr, 'isTTY', { value: false, configurable: true });
      expect(terminalProgress()).toBeUndefined();
      Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
      const shown = terminalProgress();
      expect(shown).toBeDefined();
      shown?.stop();
      configureLogging({ format: 'json' });
      expect(terminalProgress()).toBeUndefined();
      configureLogging({ format: 'auto', quiet: true });
      expect(terminalProgress()).toBeUndefined();
    } finally {
      configureLogging({ format: 'auto', quiet: false });
      if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
  });
});

describe('a forwarded worker log line (a Spark worker, through the driver)', () => {
  const line = JSON.stringify({ level: 30, time: '2026-12-07T10:00:00.123Z', msg: 'range worker finished', range: 3, records: 1200 });

  it('erases the progress line first and is written readable, when logs are for a person', () => {
    const written: string[] = [];
    const display = new ProgressDisplay({ write: (t) => written.push(t) }, () => 0, 0);
    display.update(collection.name, { records: 10, done: 0.5 });
    beforeLogWrite(() => display.clear());
    try {
      writeForwardedLogLine(line, { format: 'pretty', write: (t) => written.push(t) });
    } finally {
      beforeLogWrite(undefined);
    }
    expect(written.at(-2)).toBe('\r\x1b[K');
    expect(written.at(-1)).toBe('10:00:00.123  INFO   range worker finished  range=3  records=1200\n');
  });

  it('passes through as the JSON line it was, when logs are JSON', () => {
    const written: string[] = [];
    writeForwardedLogLine(line, { format: 'json', write: (t) => written.push(t) });
    expect(written).toEqual([`${line}\n`]);
  });
});
