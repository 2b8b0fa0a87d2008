import { PermanentError } from '../shared/errors.js';
import type { KeyRange } from './ports.js';

/**
 * The key space of one collection cut into Spark tasks (DESIGN.md §3.8). Row keys start with a 4-byte CRC32
 * of the rest, so keys are spread uniformly over the 2³² prefixes: cutting a region at evenly spaced prefixes
 * gives ranges of even size without reading any data. Each region is cut in proportion to the prefixes it
 * spans (at least one range per region: a range never crosses a region, so a task scans one region server).
 * The result tiles the key space exactly: the first range starts at the first key, the last ends at the last,
 * and each starts where the one before it ends.
 */
export interface PlannedRange extends KeyRange {
  /** Position in key order: the range's id in the Spark job. */
  readonly index: number;
  /** The region it lies in (its index in the region list). */
  readonly region: number;
}

const PREFIXES = 2 ** 32;

/** The tasks for one collection: the executors' cores times the tasks per core (README, "Choosing the task count"). */
export function taskTarget(executorCores: number, tasksPerCore: number): number {
  return Math.max(1, executorCores * tasksPerCore);
}

export function planRanges(regions: readonly KeyRange[], target: number): PlannedRange[] {
  checkTiling(regions, 'regions');
  const planned: PlannedRange[] = [];
  regions.forEach((region, r) => {
    const lo = prefixOf(region.startRow);
    const hi = region.endRow.length === 0 ? PREFIXES : prefixOf(region.endRow);
    const pieces = Math.max(1, Math.round((target * (hi - lo)) / PREFIXES));
    let start = region.startRow;
    for (let j = 1; j < pieces; j++) {
      const cut = prefixKey(lo + Math.floor(((hi - lo) * j) / pieces));
      // Only cuts strictly inside the region, in increasing order (a short region may have none).
      if (cut.compare(start) <= 0 || (region.endRow.length > 0 && cut.compare(region.endRow) >= 0)) continue;
      planned.push({ index: planned.length, region: r, startRow: start, endRow: cut });
      start = cut;
    }
    planned.push({ index: planned.length, region: r, startRow: start, endRow: region.endRow });
  });
  checkTiling(planned, 'planned ranges');
  return planned;
}

/** Throws unless the ranges tile the whole key space in order: no gap, no overlap, none empty. */
export function checkTiling(ranges: readonly KeyRange[], what: string): void {
  const fail = (why: string): never => {
    throw new PermanentError(`${what} do not tile the key space: ${why}`, { context: { ranges: ranges.length } });
  };
  if (ranges.length === 0) fail('there are none');
  if (ranges[0]!.startRow.length !== 0) fail('the first does not start at the first key');
  if (ranges[ranges.length - 1]!.endRow.length !== 0) fail('the last does not end at the last key');
  ranges.forEach((range, i) => {
    if (i > 0 && !ranges[i - 1]!.endRow.equals(range.startRow)) fail(`range ${i} does not start where range ${i - 1} ends`);
    if (range.endRow.length > 0 && range.startRow.compare(range.endRow) >= 0) fail(`range ${i} is empty or reversed`);
  });
}

/** The key's first four bytes as a number (a shorter key padded with zeros; cuts are checked against the key itself). */
function prefixOf(key: Buffer): number {
  if (key.length >= 4) return key.readUInt32BE(0);
  const padded = Buffer.alloc(4);
  key.copy(padded);
  return padded.readUInt32BE(0);
}

function prefixKey(prefix: number): Buffer {
  const key = Buffer.alloc(4);
  key.writeUInt32BE(prefix);
  return key;
}
