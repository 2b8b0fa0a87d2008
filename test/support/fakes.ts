import { KeyRejectedError } from '../../src/keys/errors.js';
import { AlreadyPublishedError } from '../../src/step/errors.js';
import type {
  Cell, HBaseSource, KeyRange, KeyService, KeyServiceStats, OpenOptions, OutputRow, PublishedRun, QuarantinedRecord,
  CollectionLease, LeaseAttempt, LeaseHolder, RecordSink, RunOutput, RunTarget, ScanRequest, SealedTaskOutput, StatusRow, StatusStore, TaskOutput, TransitionGuard, WrappedKey,
} from '../../src/step/ports.js';

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

  /** Pending manifests (written before the run's claim), by folder. */
  readonly pending_ = new Map<string, { run: PublishedRun; rows: OutputRow[]; quarantined: QuarantinedRecord[] }>();
  /** Throw right after the claim once, to simulate a crash between the commit point and the manifest. */
  failAfterClaim = false;

  open(target: RunTarget, options: OpenOptions = {}): Promise<RunOutput> {
    const rows: OutputRow[] = [];
    const quarantined: QuarantinedRecord[] = [];
    return Promise.resolve({
      write: (r) => { rows.push(...r.map(kept)); return Promise.resolve(); },
      quarantine: (q) => { quarantined.push(...q); return Promise.resolve(); },
      publish: async ({ maxTimestamp }) => {
        if (this.failNextPublish) {
          this.failNextPublish = false;
          throw new Error('crash before the manifest');
        }
        const run: PublishedRun = {
          folder: target.folder, manifestKey: `${target.folder}/_manifest.json`, correlationId: target.correlationId,
          attempt: target.attempt, collection: target.collection,
          window: target.window, maxTimestamp, files: [{ key: `${target.folder}/part-00000.parquet`, rows: rows.length, bytes: 1, sha256: '' }],
          rows: rows.length, quarantined: quarantined.length, bytesOut: 1,
        };
        if (options.claim) {
          this.pending_.set(target.folder, { run, rows, quarantined });
          try {
            await options.claim();
          } catch (e) {
            this.pending_.delete(target.folder);
            throw e;
          }
          if (this.failAfterClaim) {
            this.failAfterClaim = false;
            throw new Error('crash after the claim');
          }
          this.pending_.delete(target.folder);
        }
        const existing = this.published_.get(target.folder);
        if (existing !== undefined && existing.run.attempt !== target.attempt) throw new AlreadyPublishedError('another runner published this run folder first', {});
        this.published_.set(target.folder, { run, rows, quarantined });
        return run;
      },
      abort: () => { this.aborted += 1; return Promise.resolve(); },
    });
  }

  published(folder: string): Promise<PublishedRun | undefined> {
    return Promise.resolve(this.published_.get(folder)?.run);
  }

  publishPending(folder: string): Promise<PublishedRun | undefined> {
    const pending = this.pending_.get(folder);
    if (pending === undefined) return Promise.resolve(undefined);
    this.pending_.delete(folder);
    if (!this.published_.has(folder)) this.published_.set(folder, pending);
    return Promise.resolve(this.published_.get(folder)?.run);
  }

  ensureSuccessMarker(): Promise<void> {
    return Promise.resolve();
  }

  /** Task outputs opened, and the commits made (the spark engine's path). */
  readonly tasks: { target: RunTarget; rows: OutputRow[]; quarantined: QuarantinedRecord[] }[] = [];
  readonly commits: { target: RunTarget; winners: readonly SealedTaskOutput[]; maxTimestamp: number | null }[] = [];

  openTask(target: RunTarget): Promise<TaskOutput> {
    const task = { target, rows: [] as OutputRow[], quarantined: [] as QuarantinedRecord[] };
    this.tasks.push(task);
    return Promise.resolve({
      write: (r) => { task.rows.push(...r.map(kept)); return Promise.resolve(); },
      quarantine: (q) => { task.quarantined.push(...q); return Promise.resolve(); },
      seal: () => Promise.resolve({
        files: task.rows.length === 0 ? [] : [{ key: `${target.folder}/part-${target.attempt}-00001.parquet`, uploadId: 'u', parts: [], rows: task.rows.length, bytes: 1, sha256: '' }],
        quarantineFiles: [],
        quarantinedByReason: {},
      }),
      abort: () => { this.aborted += 1; return Promise.resolve(); },
    });
  }

  commit(target: RunTarget, winners: readonly SealedTaskOutput[], { maxTimestamp }: { maxTimestamp: number | null }): Promise<PublishedRun> {
    this.commits.push({ target, winners, maxTimestamp });
    const files = winners.flatMap((w) => w.files.map(({ key, rows, bytes, sha256 }) => ({ key, rows, bytes, sha256 })));
    const rows = files.reduce((n, f) => n + f.rows, 0);
    const run: PublishedRun = {
      folder: target.folder, manifestKey: `${target.folder}/_manifest.json`, correlationId: target.correlationId, attempt: target.attempt,
      collection: target.collection, window: target.window, maxTimestamp, files, rows,
      quarantined: winners.reduce((n, w) => n + w.quarantineFiles.reduce((m, f) => m + f.records, 0), 0), bytesOut: files.length,
    };
    this.published_.set(target.folder, { run, rows: [], quarantined: [] });
    return Promise.resolve(run);
  }

  readonly discarded: string[] = [];
  discard(folder: string): Promise<number> {
    this.discarded.push(folder);
    return Promise.resolve(0);
  }
}

/** The collection lease in memory, on the caller's clock. */
export class FakeLease implements CollectionLease {
  readonly items = new Map<string, LeaseHolder>();

  acquire(collection: string, owner: Omit<LeaseHolder, 'expiresAt'>, now: number, leaseMs: number): Promise<LeaseAttempt> {
    const current = this.items.get(collection);
    if (current !== undefined && current.expiresAt >= now && current.attempt !== owner.attempt) return Promise.resolve({ acquired: false, holder: current });
    this.items.set(collection, { ...owner, expiresAt: now + leaseMs });
    return Promise.resolve({ acquired: true });
  }

  renew(collection: string, attempt: string, now: number, leaseMs: number): Promise<boolean> {
    const current = this.items.get(collection);
    if (current?.attempt !== attempt) return Promise.resolve(false);
    this.items.set(collection, { ...current, expiresAt: now + leaseMs });
    return Promise.resolve(true);
  }

  release(collection: string, attempt: string): Promise<boolean> {
    if (this.items.get(collection)?.attempt !== attempt) return Promise.resolve(false);
    this.items.delete(collection);
    return Promise.resolve(true);
  }

  holder(collection: string): Promise<LeaseHolder | undefined> {
    return Promise.resolve(this.items.get(collection));
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

  transition(row: StatusRow, from: readonly (StatusRow['status'] | undefined)[], guard: TransitionGuard = {}): Promise<boolean> {
    const id = `${row.correlationId}|${row.collection}`;
    const stored = this.rows.get(id);
    if (!from.includes(stored?.status)) return Promise.resolve(false);
    if (guard.owner !== undefined && stored?.owner !== guard.owner) return Promise.resolve(false);
    if (guard.unclaimed === true && stored?.publishClaim !== undefined) return Promise.resolve(false);
    // As DynamoDB's SET: undefined leaves a stored attribute alone; null removes a bookkeeping one.
    const merged: Record<string, unknown> = { ...stored };
    for (const [k, v] of Object.entries(row)) if (v !== undefined) merged[k] = v;
    for (const k of ['reason', 'owner', 'outputChecked']) if (merged[k] === null) delete merged[k];
    this.rows.set(id, merged as unknown as StatusRow);
    return Promise.resolve(true);
  }

  unsettledRows(collection: string): Promise<StatusRow[]> {
    return Promise.resolve([...this.rows.values()].filter((r) =>
      r.collection === collection && ['EMR_PROCESSING', 'EMR_FAILED', '_EMR_FAILED'].includes(r.status) && r.outputChecked === undefined));
  }

  claimPublication(correlationId: string, collection: string, owner: string): Promise<boolean> {
    const id = `${correlationId}|${collection}`;
    const row = this.rows.get(id);
    if (row?.status !== 'EMR_PROCESSING' || row.owner !== owner || row.outputChecked !== undefined) return Promise.resolve(false);
    if (row.publishClaim !== undefined && row.publishClaim !== owner) return Promise.resolve(false);
    this.rows.set(id, { ...row, publishClaim: owner });
    return Promise.resolve(true);
  }

  touch(correlationId: string, collection: string, owner: string): Promise<boolean> {
    const row = this.rows.get(`${correlationId}|${collection}`);
    return Promise.resolve(row?.status === 'EMR_PROCESSING' && row.owner === owner);
  }
}

/**
 * A row as a sink keeps it: a real sink copies the document before `write()` resolves, because the decoder
 * then zeroes the plaintext (`recordUtf8`, and the `record` decoded from it on demand).
 */
function kept(row: OutputRow): OutputRow {
  const { recordUtf8: _bytes, ...fields } = row;
  return { ...fields, record: row.record };
}
