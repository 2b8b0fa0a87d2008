import { KeyRejectedError } from '../../src/keys/errors.js';
import type {
  Cell, HBaseSource, KeyRange, KeyService, KeyServiceStats, OutputRow, PublishedRun, QuarantinedRecord,
  RecordSink, RunOutput, RunTarget, ScanRequest, StatusRow, StatusStore, WrappedKey,
} from '../../src/step/ports.js';
import type { JobStatus } from '../../src/shared/types.js';

/** In-memory fakes of the step's ports, for unit tests of the pipeline's logic. */
export class FakeHBase implements HBaseSource {
  constructor(readonly tables: Map<string, Cell[]>, private readonly batch = 3) {}

  regions(): Promise<KeyRange[]> {
    return Promise.resolve([
      { startRow: Buffer.alloc(0), endRow: Buffer.from([0x80]) },
      { startRow: Buffer.from([0x80]), endRow: Buffer.alloc(0) },
    ]);
  }

  async *scan(request: ScanRequest): AsyncIterable<Cell[]> {
    const { startRow, endRow } = request.range;
    const cells = (this.tables.get(request.table) ?? [])
      .filter((c) => c.timestamp >= request.window.start && c.timestamp < request.window.end)
      .filter((c) => Buffer.compare(c.rowKey, startRow) >= 0 && (endRow.length === 0 || Buffer.compare(c.rowKey, endRow) < 0))
      .sort((a, b) => Buffer.compare(a.rowKey, b.rowKey));
    for (let i = 0; i < cells.length; i += this.batch) yield cells.slice(i, i + this.batch);
  }
}

export class FakeKeys implements KeyService {
  calls = 0;
  constructor(private readonly keys: Map<string, Buffer>) {}

  unwrap(key: WrappedKey): Promise<Buffer> {
    this.calls += 1;
    const found = this.keys.get(key.encryptedEncryptionKey);
    return found ? Promise.resolve(found) : Promise.reject(new KeyRejectedError('DKS answered 400'));
  }

  stats(): KeyServiceStats {
    return { calls: this.calls, retries: 0, hits: 0, misses: this.calls };
  }
}

export class FakeSink implements RecordSink {
  readonly published_ = new Map<string, { run: PublishedRun; rows: OutputRow[]; quarantined: QuarantinedRecord[] }>();
  aborted = 0;
  /** Throw from publish once, to simulate a crash between upload and manifest. */
  failNextPublish = false;

  open(target: RunTarget): Promise<RunOutput> {
    const rows: OutputRow[] = [];
    const quarantined: QuarantinedRecord[] = [];
    return Promise.resolve({
      write: (r) => { rows.push(...r); return Promise.resolve(); },
      quarantine: (q) => { quarantined.push(...q); return Promise.resolve(); },
      publish: ({ maxTimestamp }) => {
        if (this.failNextPublish) {
          this.failNextPublish = false;
          return Promise.reject(new Error('crash before the manifest'));
        }
        const run: PublishedRun = {
          folder: target.folder, manifestKey: `${target.folder}/manifest.json`, correlationId: target.correlationId,
          window: target.window, maxTimestamp, files: [{ key: `${target.folder}/part-00000.parquet`, rows: rows.length, bytes: 1, sha256: '' }],
          rows: rows.length, quarantined: quarantined.length, bytesOut: 1,
        };
        this.published_.set(target.folder, { run, rows, quarantined });
        return Promise.resolve(run);
      },
      abort: () => { this.aborted += 1; return Promise.resolve(); },
    });
  }

  published(folder: string): Promise<PublishedRun | undefined> {
    return Promise.resolve(this.published_.get(folder)?.run);
  }

  ensureSuccessMarker(): Promise<void> {
    return Promise.resolve();
  }
}

export class FakeStatus implements StatusStore {
  readonly rows = new Map<string, StatusRow>();

  lastCompletedEnd(collection: string): Promise<number | undefined> {
    let end: number | undefined;
    for (const row of this.rows.values()) {
      if (row.collection === collection && row.status === 'EMR_COMPLETED' && typeof row.processedDataEnd === 'number') {
        end = Math.max(end ?? -Infinity, row.processedDataEnd);
      }
    }
    return Promise.resolve(end);
  }

  get(correlationId: string, collection: string): Promise<StatusRow | undefined> {
    return Promise.resolve(this.rows.get(`${correlationId}|${collection}`));
  }

  transition(row: StatusRow, from: readonly (JobStatus | undefined)[]): Promise<boolean> {
    const id = `${row.correlationId}|${row.collection}`;
    const current = this.rows.get(id)?.status as JobStatus | undefined;
    if (!from.includes(current)) return Promise.resolve(false);
    this.rows.set(id, row);
    return Promise.resolve(true);
  }
}
