import { beforeLogWrite, isQuiet, logsArePretty } from '../shared/logger.js';
import type { ScanProgress } from '../step/collection-run.js';

/** Where the display draws: stderr on a terminal (`columns` its width). */
export interface ProgressTarget {
  write(text: string): void;
  readonly columns?: number;
}

interface Line {
  readonly started: number;
  records: number;
  done: number;
  finished: boolean;
}

/**
 * The progress display of `run` and `reprocess` on a terminal: one line, redrawn at most every `intervalMs`, per
 * collection a bar of the key space read, records, rate and ETA (from the share of the key space read: row keys
 * start with a CRC32, so it grows evenly with the work). Log lines clear it first (`clear`), and it is drawn again
 * on the next update.
 */
export class ProgressDisplay {
  private readonly lines = new Map<string, Line>();
  private lastDraw = Number.NEGATIVE_INFINITY;
  private drawn = false;

  constructor(private readonly target: ProgressTarget, private readonly now: () => number = Date.now, private readonly intervalMs = 200) {}

  update(collection: string, progress: ScanProgress): void {
    const line = this.lines.get(collection) ?? { started: this.now(), records: 0, done: 0, finished: false };
    line.records = progress.records;
    line.done = progress.done;
    this.lines.set(collection, line);
    if (this.now() - this.lastDraw >= this.intervalMs) this.draw();
  }

  /** The collection's scan ended: it leaves the line. */
  finish(collection: string): void {
    const line = this.lines.get(collection);
    if (line !== undefined) line.finished = true;
    this.draw();
  }

  /** Erases the line (before a log line, and at the end). */
  clear(): void {
    if (this.drawn) this.target.write('\r\x1b[K');
    this.drawn = false;
  }

  draw(): void {
    const now = this.now();
    this.lastDraw = now;
    const active = [...this.lines.entries()].filter(([, l]) => !l.finished);
    const text = active.map(([name, l]) => progressText(name, l.records, l.done, now - l.started)).join('  |  ');
    this.clear();
    if (text === '') return;
    // A terminal that does not say its width (0) gets 120 columns.
    const columns = this.target.columns !== undefined && this.target.columns > 0 ? this.target.columns : 120;
    const width = Math.max(20, columns - 1);
    this.target.write(text.length > width ? `${text.slice(0, width - 1)}…` : text);
    this.drawn = true;
  }
}

/** `core:addresses [########------------] 41%  12,345 records  3,210/s  ETA 37s` */
export function progressText(collection: string, records: number, done: number, elapsedMs: number): string {
  const share = Math.min(1, Math.max(0, done));
  const filled = Math.round(share * 20);
  const rate = elapsedMs > 0 ? Math.round((records * 1000) / elapsedMs) : 0;
  // Too early an estimate swings wildly: wait for 2% of the key space and a second of work.
  const eta = share >= 0.02 && elapsedMs >= 1000 ? clock((elapsedMs * (1 - share)) / share) : '…';
  return `${collection} [${'#'.repeat(filled)}${'-'.repeat(20 - filled)}] ${Math.floor(share * 100)}%  ${records.toLocaleString('en-GB')} records  ${rate.toLocaleString('en-GB')}/s  ETA ${eta}`;
}

/** 37s, 4m05s, 1h02m. */
function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The display for this process, or undefined when nobody watches: only on a terminal, with readable logs (not
 * `--log-format json`) and without `--quiet`. `stop` erases it and detaches it from the logger.
 */
export function terminalProgress(): { display: ProgressDisplay; stop(): void } | undefined {
  const stderr = process.stderr;
  if (stderr.isTTY !== true || !logsArePretty() || isQuiet()) return undefined;
  const display = new ProgressDisplay({ write: (text) => stderr.write(text), get columns() { return stderr.columns; } });
  beforeLogWrite(() => display.clear());
  return {
    display,
    stop() {
      display.clear();
      beforeLogWrite(undefined);
    },
  };
}
