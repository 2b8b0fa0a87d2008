import type { CollectionConfig } from '../shared/types.js';
import type { CollectionSummary } from './run-step.js';

export const NOT_CONFIGURED_NOTE = 'not a configured collection: not in the collections secret';

/** Adds the "not configured" note to the summaries of collections an operator named outside the secret. */
export function noteUnconfigured(summaries: readonly CollectionSummary[], collections: readonly CollectionConfig[]): CollectionSummary[] {
  const unconfigured = new Set(collections.filter((c) => c.configured === false).map((c) => c.name));
  return summaries.map((s) => (unconfigured.has(s.collection)
    ? { ...s, note: s.note ? `${s.note}; ${NOT_CONFIGURED_NOTE}` : NOT_CONFIGURED_NOTE }
    : s));
}

/** One line per collection for logs, and a table for a terminal. */
export function summaryFields(s: CollectionSummary): Record<string, unknown> {
  const seconds = s.durationMs / 1000;
  return {
    collection: s.collection,
    outcome: s.outcome,
    ...(s.note ? { note: s.note } : {}),
    ...(s.window ? { windowStart: s.window.start, windowEnd: s.window.end } : {}),
    records: s.records,
    quarantined: s.quarantined,
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
    dksCalls: s.keys.calls,
    dksRetries: s.keys.retries,
    cacheHitRate: s.keyLookups === 0 ? null : Number((1 - s.keys.calls / s.keyLookups).toFixed(4)),
    durationMs: s.durationMs,
    recordsPerSecond: seconds > 0 ? Math.round(s.records / seconds) : s.records,
    ...(s.maxTimestamp !== undefined ? { processedDataEnd: s.maxTimestamp } : {}),
    ...(s.sparkTasks !== undefined ? { sparkTasks: s.sparkTasks } : {}),
  };
}

export function summaryTable(summaries: readonly CollectionSummary[]): string {
  const header = ['collection', 'outcome', 'records', 'quarantined', 'MB in', 'MB out', 'DKS calls', 'hit rate', 'seconds', 'records/s'];
  const rows = summaries.map((s) => {
    const f = summaryFields(s);
    return [
      s.collection,
      s.outcome + (s.note ? ` (${s.note})` : ''),
      String(s.records),
      String(s.quarantined),
      (s.bytesIn / 1e6).toFixed(1),
      (s.bytesOut / 1e6).toFixed(1),
      String(s.keys.calls),
      f.cacheHitRate === null ? '-' : `${((f.cacheHitRate as number) * 100).toFixed(1)}%`,
      (s.durationMs / 1000).toFixed(1),
      String(f.recordsPerSecond),
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
