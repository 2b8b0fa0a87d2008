import type { Freshness, RunBrief } from '../orchestrator/admin/index.js';
import { BLOCKING_STATUSES } from '../shared/types.js';

/** `status` on a terminal: one line per collection under column headers, then each collection's runs. */
export function statusText(list: readonly Freshness[], now: number): string {
  const header = ['COLLECTION', 'COMPLETE UP TO', 'LAG', 'LAST RUN WITH DATA', 'LATEST RUN', 'STATE', 'ACK NEEDED'];
  const rows = list.map((f) => [
    f.collection,
    iso(f.completeUpTo),
    f.lagMs === null ? '-' : age(f.lagMs),
    f.lastRunWithData === null ? '-' : `${f.lastRunWithData.correlationId} (${age(now - f.lastRunWithData.triggeredTime)} ago)`,
    f.latestRun === null ? '-' : `${f.latestRun.correlationId} ${f.latestRun.status}`,
    f.state,
    f.needsAck ? 'yes' : 'no',
  ]);
  const lines = table(header, rows);
  for (const f of list) {
    for (const r of f.failures) lines.push(`! ${f.collection} ${r.correlationId} ${r.status}: ${r.reason ?? '(no reason recorded)'}`);
    if (f.ackCommand !== null) lines.push(`  to unblock, after checking the cause: ${f.ackCommand}`);
  }
  for (const f of list) {
    lines.push('', `${f.collection} runs`);
    const shown = new Set(f.runs.map((r) => r.correlationId));
    const all = [...f.runs, ...f.blocking.filter((r) => !shown.has(r.correlationId))];
    if (all.length === 0) {
      lines.push('  (no runs)');
      continue;
    }
    const runRows = all.map((r) => [
      r.correlationId, r.status, iso(r.processedDataStart), iso(r.processedDataEnd), r.emrClusterId ?? '-', `${age(now - r.triggeredTime)} ago`,
      BLOCKING_STATUSES.has(r.status) ? 'BLOCKING' : '',
    ]);
    const runLines = table(['RUN', 'STATE', 'DATA START', 'DATA END', 'CLUSTER', 'TRIGGERED', ''], runRows).map((l) => `  ${l}`.trimEnd());
    lines.push(runLines[0] as string);
    all.forEach((r, i) => {
      lines.push(runLines[i + 1] as string);
      if (r.reason !== undefined && r.reason !== null) lines.push(`      ${r.reason}`);
    });
  }
  return lines.join('\n');
}

/** The JSON form: the same fields, times as epoch ms and ISO-8601. */
export function statusJson(list: readonly Freshness[]): unknown {
  const withIso = (r: RunBrief | null): unknown => (r === null ? null : { ...r, triggeredAt: iso(r.triggeredTime) });
  return list.map((f) => ({
    ...f,
    completeUpToIso: f.completeUpTo === null ? null : iso(f.completeUpTo),
    lastRunWithData: withIso(f.lastRunWithData),
    latestRun: withIso(f.latestRun),
  }));
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

const iso = (ms: number | null | undefined): string => (typeof ms === 'number' ? new Date(ms).toISOString() : '-');

/** 45s, 12m, 1h30m, 3d4h. */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
}
