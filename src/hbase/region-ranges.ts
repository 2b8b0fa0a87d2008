import { TransientError } from '../shared/errors.js';
import type { KeyRange } from '../step/ports.js';
import type { RegionInfo } from './messages.js';

/**
 * Regions → key ranges in key order, checked to tile the whole key space: the first starts empty, the last
 * ends empty and each ends where the next starts. Identical ranges (region replicas, listed once per
 * replica) collapse into one. Anything else — a gap or an overlap, as seen while a region splits or merges —
 * is a TransientError: scanning such a list could skip or repeat rows, and asking again soon will do.
 */
export function regionRanges(regions: readonly RegionInfo[], table: string): KeyRange[] {
  const sorted = [...regions].sort((a, b) => a.startKey.compare(b.startKey) || compareEnd(a.endKey, b.endKey));
  const ranges: KeyRange[] = [];
  for (const region of sorted) {
    const previous = ranges[ranges.length - 1];
    if (previous && previous.startRow.equals(region.startKey) && previous.endRow.equals(region.endKey)) continue;
    ranges.push({ startRow: region.startKey, endRow: region.endKey });
  }
  const incoherent = (why: string): TransientError =>
    new TransientError(`HBase regions of ${table} do not cover the table (${why}); a split or merge may be in progress`, {
      context: { table, regions: regions.length },
    });
  if (ranges.length === 0) throw incoherent('no regions');
  if (ranges[0]!.startRow.length !== 0) throw incoherent('the first region does not start at the first key');
  if (ranges[ranges.length - 1]!.endRow.length !== 0) throw incoherent('the last region does not end at the last key');
  for (let i = 1; i < ranges.length; i++) {
    if (!ranges[i - 1]!.endRow.equals(ranges[i]!.startRow)) throw incoherent(`region ${i} does not start where region ${i - 1} ends`);
  }
  return ranges;
}

/** End keys sort with the empty key (the end of the table) last. */
function compareEnd(a: Buffer, b: Buffer): number {
  if (a.length === 0 || b.length === 0) return (a.length === 0 ? 1 : 0) - (b.length === 0 ? 1 : 0);
  return a.compare(b);
}
