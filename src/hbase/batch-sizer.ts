/**
 * How many cells to ask one HBase REST scanner response for (the `c` query parameter of `GET <scanner>`), so
 * that a response stays within a byte budget whatever the cells' sizes. HBase 2.6's REST server bounds a
 * response by cells only (docs/hbase-rest-scanner.md): the byte bound is ours to keep.
 *
 * The count starts at one cell and at most quadruples per response (a first small cell says little about the
 * next), and never exceeds what fits the budget at the largest cell size of the last response. A response that
 * passed the budget anyway (sizes jumped) was abandoned by the reader: the next count is cut to what would
 * have fitted, and it does not grow again until as many cells as that response asked for (and the row re-read
 * after it) were read — otherwise small cells before a large one could grow it straight back into the same
 * oversized response, forever. One cell is always asked for at least, so a cell larger than the budget is
 * still read, alone: the scan always moves on.
 */
export const DEFAULT_SCANNER_BATCH_BYTES = 16 * 1024 * 1024;

/** Growth per response, at most. */
const GROWTH = 4;

export interface ResponseSize {
  /** Cells in the response. */
  readonly cells: number;
  /** The whole response body. */
  readonly bytes: number;
  /** The largest cell value in it. */
  readonly largestCellBytes: number;
  /** The sum of its cell values (the rest is framing, row keys and columns). */
  readonly valueBytes: number;
}

export class BatchSizer {
  private next: number;
  /** Cells still to read before the count may grow again (after an oversized response). */
  private hold = 0;

  constructor(private readonly budgetBytes: number, private readonly maxCells: number) {
    if (!Number.isSafeInteger(budgetBytes) || budgetBytes < 1) throw new TypeError(`the scanner batch budget must be a positive number of bytes, got ${budgetBytes}`);
    if (!Number.isSafeInteger(maxCells) || maxCells < 1) throw new TypeError(`the scanner batch cell limit must be a positive integer, got ${maxCells}`);
    this.next = 1;
  }

  /** Cells to ask the next response for: 1 ≤ n ≤ maxCells. */
  cells(): number {
    return this.next;
  }

  /** A response read whole: size the next one from its largest cell (with its share of the framing). */
  observed(size: ResponseSize): void {
    if (size.cells === 0) return;
    const framing = Math.max(0, size.bytes - size.valueBytes) / size.cells;
    const perCell = Math.max(size.bytes / size.cells, size.largestCellBytes + framing, 1);
    const sized = clamp(Math.min(Math.floor(this.budgetBytes / perCell), this.next * GROWTH), this.maxCells);
    this.next = this.hold > 0 ? Math.min(sized, this.next) : sized;
    this.hold = Math.max(0, this.hold - size.cells);
  }

  /** A response of `asked` cells passed the budget (`bytesAtLeast` seen or announced) and was abandoned. */
  oversized(asked: number, bytesAtLeast: number): void {
    const fitted = Math.floor((asked * this.budgetBytes) / Math.max(bytesAtLeast, this.budgetBytes + 1));
    this.next = clamp(Math.min(fitted, Math.floor(asked / GROWTH)), this.maxCells);
    // The new scanner re-reads the row held back before the abandoned response: one cell more.
    this.hold = asked + 1;
  }

  /** The largest body a response of `asked` cells may have: the budget, or unbounded for a single cell. */
  limitFor(asked: number): number {
    return asked <= 1 ? Number.POSITIVE_INFINITY : this.budgetBytes;
  }
}

const clamp = (n: number, max: number): number => Math.max(1, Math.min(max, n));
