import type { QuarantinedRecord } from '../step/ports.js';

/**
 * Quarantined records, still encrypted, as JSON lines. The cell value is kept byte for byte (base64): a
 * record is quarantined precisely because it may be malformed, so it is never re-serialised or decoded.
 */
export interface QuarantineLine {
  /** The HBase row key, base64. */
  readonly rowKey: string;
  /** Cell timestamp, epoch ms. */
  readonly timestamp: number;
  readonly reason: string;
  readonly detail: string;
  /** The cell value exactly as read (the encrypted envelope), base64. */
  readonly value: string;
}

export function quarantineLine(record: QuarantinedRecord): string {
  const line: QuarantineLine = {
    rowKey: record.rowKey.toString('base64'),
    timestamp: record.timestamp,
    reason: record.reason,
    detail: record.detail,
    value: record.value.toString('base64'),
  };
  return `${JSON.stringify(line)}\n`;
}

/** Lines waiting for the next quarantine object, plus the run's running counts by reason. */
export class QuarantineBuffer {
  private lines: string[] = [];
  private size = 0;
  private readonly counts = new Map<string, number>();

  get records(): number {
    return this.lines.length;
  }

  /** Approximate size of the buffered lines (they are ASCII apart from `detail`). */
  get bytes(): number {
    return this.size;
  }

  /** Counts by reason over every record ever added, flushed or not. */
  get byReason(): ReadonlyMap<string, number> {
    return this.counts;
  }

  add(record: QuarantinedRecord): void {
    const line = quarantineLine(record);
    this.lines.push(line);
    this.size += line.length;
    this.counts.set(record.reason, (this.counts.get(record.reason) ?? 0) + 1);
  }

  /** Hands over the buffered lines as one UTF-8 body and starts empty. */
  take(): { body: Buffer; records: number } {
    const taken = { body: Buffer.from(this.lines.join(''), 'utf8'), records: this.lines.length };
    this.lines = [];
    this.size = 0;
    return taken;
  }
}
