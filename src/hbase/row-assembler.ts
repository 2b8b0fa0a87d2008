import type { Cell } from '../step/ports.js';
import type { RestRow } from './messages.js';

const ZERO = Buffer.from([0]);

/** A copy of the bytes, in memory of its own. */
const owned = (bytes: Buffer): Buffer => Buffer.from(bytes);

/**
 * Turns scanner responses into finished rows: one cell per row (the newest), each row emitted once, in key
 * order. A scanner's `batch` counts cells, so a row can straddle two responses: the last row of a response
 * is held back (pending) until the next response starts another row or the scan ends.
 *
 * It also says where a replacement scanner must start after the previous one was lost: at the pending row
 * itself (re-read in full and merged), else just after the last emitted row (`key + 0x00`, the smallest key
 * greater than it). Rows at or before the last emitted row are dropped, so resuming never repeats a row.
 *
 * What it keeps past `accept` (the pending row, the last emitted key) it copies: the response's memory may be
 * reused for the next response (`ScanRequest.reuseMemory`). One small copy per response.
 */
export class RowAssembler {
  private pending: Cell | undefined;
  private lastEmitted: Buffer | undefined;
  /** Set after a resume: the new scanner's first rows may repeat what we already emitted. */
  private checkOrder = false;
  private emitted = 0;

  constructor(private readonly startRow: Buffer) {}

  /** The start row for a (new) scanner so that nothing is lost or repeated. */
  resumeRow(): Buffer {
    this.checkOrder = this.lastEmitted !== undefined;
    if (this.pending !== undefined) return this.pending.rowKey;
    if (this.lastEmitted !== undefined) return Buffer.concat([this.lastEmitted, ZERO]);
    return this.startRow;
  }

  /** Rows emitted so far. */
  get rows(): number {
    return this.emitted;
  }

  /** Takes one response's rows; returns the rows now known to be complete. */
  accept(rows: readonly RestRow[]): Cell[] {
    const out: Cell[] = [];
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const cells = row.cells;
      if (cells.length === 0) continue;
      if (this.checkOrder) {
        if (row.key.compare(this.lastEmitted!) <= 0) continue;
        // Responses are in key order: once past the last emitted row, every later row is too.
        this.checkOrder = false;
      }
      let newest = cells[0]!;
      for (let c = 1; c < cells.length; c++) if (cells[c]!.timestamp > newest.timestamp) newest = cells[c]!;
      const pending = this.pending;
      if (pending !== undefined) {
        if (pending.rowKey.equals(row.key)) {
          if (newest.timestamp > pending.timestamp) this.pending = { rowKey: pending.rowKey, timestamp: newest.timestamp, value: newest.data };
          continue;
        }
        out.push(pending);
        this.lastEmitted = pending.rowKey;
      }
      this.pending = { rowKey: row.key, timestamp: newest.timestamp, value: newest.data };
    }
    const held = this.pending;
    if (held !== undefined) this.pending = { rowKey: owned(held.rowKey), timestamp: held.timestamp, value: owned(held.value) };
    if (this.lastEmitted !== undefined) this.lastEmitted = owned(this.lastEmitted);
    this.emitted += out.length;
    return out;
  }

  /** The scan ended: the held-back row is complete. */
  finish(): Cell[] {
    const pending = this.pending;
    if (pending === undefined) return [];
    this.pending = undefined;
    this.lastEmitted = pending.rowKey;
    this.emitted += 1;
    return [pending];
  }
}
