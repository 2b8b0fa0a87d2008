import { crashPoint } from '../shared/crash-points.js';
import { createHash } from 'node:crypto';
import { IngestError, PermanentError, toError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { QUARANTINE_FOLDER, type OutputRow, type PublishedRun, type QuarantinedRecord, type RunOutput, type RunTarget, type SealedTaskOutput, type StagedRef, type TaskOutput } from '../step/ports.js';
import type { PartEncoder } from './encoder-pool.js';
import { buildManifest, pendingManifestKeyOf, publishedRunOf, type ManifestFile, type QuarantineFile } from './manifest.js';
import type { ObjectStore, PutOptions, StagedObject } from './object-store.js';
import { PartBuffer, type ColumnarPart, type PartLimits } from './part-buffer.js';
import { keptOnceClaimed, publishManifest, tagsOf } from './publish.js';
import { QuarantineBuffer } from './quarantine-buffer.js';

export interface RunOutputSettings extends PartLimits {
  /** Parts sealed but not yet uploaded (encoding or uploading); `write()` waits while this many are. */
  readonly maxPartsInFlight: number;
  /** Quarantine lines are written out as an object once this many bytes are buffered. */
  readonly quarantineMaxBytes: number;
}

export interface RunOutputDeps {
  readonly store: ObjectStore;
  readonly encoder: PartEncoder;
  readonly target: RunTarget;
  readonly settings: RunOutputSettings;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Throws when this runner may no longer write (see `OpenOptions.fence`); awaited before every object. */
  readonly fence?: () => Promise<void>;
  /** The run's commit point before its manifest (see `OpenOptions.claim`). */
  readonly claim?: () => Promise<void>;
  /**
   * A Spark task attempt's output: every object is staged (an uncompleted multipart upload, invisible to
   * listings), `seal()` replaces `publish()`, and the step commits the winners' objects.
   */
  readonly staged?: boolean;
}

type State = 'open' | 'publishing' | 'published' | 'sealed' | 'failed' | 'aborted';

const PARQUET = 'application/vnd.apache.parquet';
const pad = (n: number): string => String(n).padStart(5, '0');

/**
 * One collection's output for one run, in S3: parts are encoded and uploaded while the next one fills, at
 * most `maxPartsInFlight` at a time, so memory stays bounded whatever the collection's size. Nothing is
 * trusted until `publish()` writes the manifest, and `abort()` removes whatever the run wrote.
 */
export class S3RunOutput implements RunOutput, TaskOutput {
  private readonly deps: RunOutputDeps;
  private readonly part: PartBuffer;
  private readonly quarantined = new QuarantineBuffer();
  private readonly tags: Record<string, string>;
  private readonly controller = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  /** Every key this run tried to write: what `abort()` deletes. */
  private readonly attempted = new Set<string>();
  /** Staged mode: every object staged so far, what `abort()` aborts. */
  private readonly stagedObjects = new Map<string, StagedObject>();
  private readonly files: ManifestFile[] = [];
  private readonly quarantineFiles: QuarantineFile[] = [];
  private readonly log: Logger;
  private readonly startedAt: number;
  private state: State = 'open';
  private failure: Error | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private aborting: Promise<void> | undefined;
  /** The manifest write's outcome is unknown: its parts must stay until someone reads S3 again. */
  private manifestUncertain = false;
  /** The run's claim succeeded, or its answer was lost: parts and pending manifest stay, for a settle step to finish the run. */
  private claimKept = false;
  private accepted = 0;
  private sealed = 0;
  private partCount = 0;
  private encodeMs = 0;

  constructor(deps: RunOutputDeps) {
    this.deps = deps;
    this.part = new PartBuffer(deps.settings);
    const { target } = deps;
    this.tags = tagsOf(target);
    this.log = deps.logger.child({ correlationId: target.correlationId, collection: target.collection, folder: target.folder });
    this.startedAt = this.now();
  }

  // Calls are serialised: a write waiting for an upload slot must not interleave with another write.
  write(rows: readonly OutputRow[]): Promise<void> {
    return this.serialised(() => this.writeRows(rows));
  }

  quarantine(records: readonly QuarantinedRecord[]): Promise<void> {
    return this.serialised(() => this.addQuarantined(records));
  }

  publish(summary: { maxTimestamp: number | null }): Promise<PublishedRun> {
    return this.serialised(() => this.publishRun(summary.maxTimestamp));
  }

  seal(): Promise<SealedTaskOutput> {
    return this.serialised(() => this.sealTask());
  }

  abort(reason: unknown): Promise<void> {
    if (this.state === 'published') {
      this.log.warn('abort of a published run ignored');
      return Promise.resolve();
    }
    // A second call joins the first; after a failed cleanup it tries again.
    this.aborting ??= this.abortRun(reason).catch((e: unknown) => {
      this.aborting = undefined;
      throw e;
    });
    return this.aborting;
  }

  private serialised<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.tail.then(operation);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async writeRows(rows: readonly OutputRow[]): Promise<void> {
    this.assertOpen();
    for (const row of rows) {
      this.part.append(row);
      this.accepted += 1;
      if (this.part.isFull) await this.sealPart();
    }
  }

  private async addQuarantined(records: readonly QuarantinedRecord[]): Promise<void> {
    this.assertOpen();
    for (const record of records) this.quarantined.add(record);
    if (this.quarantined.bytes >= this.deps.settings.quarantineMaxBytes) await this.flushQuarantine();
  }

  /** Hands the filled part to the encoder and uploader; waits first while too many parts are in flight. */
  private async sealPart(): Promise<void> {
    while (this.inFlight.size >= this.deps.settings.maxPartsInFlight) await Promise.race(this.inFlight);
    this.assertLive();
    const columns = this.part.take();
    this.sealed += columns.rows;
    this.partCount += 1;
    const task = this.ship(columns, `${this.deps.target.folder}/part-${this.deps.target.attempt}-${pad(this.partCount)}.parquet`);
    this.inFlight.add(task);
    task.then(
      () => this.inFlight.delete(task),
      (e: unknown) => {
        this.inFlight.delete(task);
        this.failure ??= toError(e);
      },
    );
  }

  private async ship(columns: ColumnarPart, key: string): Promise<void> {
    const rows = columns.rows;
    const encoded = await this.deps.encoder.encode(columns);
    if (encoded.rows !== rows) {
      throw new PermanentError('encoded part row count differs from rows sealed', { context: { key, rows, encoded: encoded.rows } });
    }
    this.encodeMs += encoded.encodeMs;
    if (encoded.spent !== undefined) this.part.recycle(encoded.spent);
    this.assertLive();
    await this.writeObject(key, encoded.bytes, PARQUET);
    this.files.push({ key, rows, bytes: encoded.bytes.byteLength, sha256: encoded.sha256 });
    this.log.debug({ key, rows, bytes: encoded.bytes.byteLength, encodeMs: Math.round(encoded.encodeMs) }, 'part uploaded');
    crashPoint('after-part-upload');
  }

  private async flushQuarantine(): Promise<void> {
    if (this.quarantined.records === 0) return;
    const { body, records } = this.quarantined.take();
    const key = `${this.deps.target.folder}/${QUARANTINE_FOLDER}/${this.deps.target.attempt}-${pad(this.quarantineFiles.length + 1)}.jsonl`;
    await this.writeObject(key, body, 'application/x-ndjson');
    const sha256 = createHash('sha256').update(body).digest('hex');
    this.quarantineFiles.push({ key, records, bytes: body.byteLength, sha256 });
  }

  /** A data object: put, or staged in staged mode. Fenced and recorded first, so `abort()` finds it. */
  private async writeObject(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.deps.fence?.();
    const options: PutOptions = { contentType, tags: this.tags, signal: this.controller.signal };
    if (this.deps.staged !== true) {
      this.attempted.add(key);
      await this.deps.store.put(key, body, options);
      return;
    }
    const staged = await this.deps.store.stage(key, body, options);
    this.stagedObjects.set(key, staged);
    if (this.state === 'aborted') await this.deps.store.abortStaged([staged]);
  }

  /** Every part and the quarantine lines written out, counts checked. */
  private async flushAll(): Promise<void> {
    if (this.part.rows > 0) await this.sealPart();
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    this.assertLive();
    await this.flushQuarantine();
    this.verifyCounts();
  }

  private async sealTask(): Promise<SealedTaskOutput> {
    this.assertOpen();
    if (this.deps.staged !== true) throw new PermanentError('seal() is for staged task outputs; a run output publishes', { context: this.context() });
    this.state = 'publishing';
    try {
      await this.flushAll();
      this.state = 'sealed';
      const ref = (key: string, bytes: number, sha256: string): StagedRef => {
        const staged = this.stagedObjects.get(key);
        if (staged === undefined) throw new PermanentError('a sealed object was not staged', { context: { ...this.context(), key } });
        return { key, uploadId: staged.uploadId, parts: staged.parts, bytes, sha256 };
      };
      return {
        files: this.files.map((f) => ({ ...ref(f.key, f.bytes, f.sha256), rows: f.rows })),
        quarantineFiles: this.quarantineFiles.map((f) => ({ ...ref(f.key, f.bytes, f.sha256), records: f.records })),
        quarantinedByReason: Object.fromEntries(this.quarantined.byReason),
      };
    } catch (e) {
      if ((this.state as State) !== 'aborted') this.state = 'failed';
      this.failure ??= toError(e);
      throw e;
    }
  }

  private async publishRun(maxTimestamp: number | null): Promise<PublishedRun> {
    this.assertOpen();
    if (this.deps.staged === true) throw new PermanentError('a staged task output is sealed, and the step commits it', { context: this.context() });
    this.state = 'publishing';
    try {
      await this.flushAll();
      const manifest = buildManifest({
        target: this.deps.target,
        maxTimestamp,
        files: this.files,
        quarantineFiles: this.quarantineFiles,
        quarantinedByReason: this.quarantined.byReason,
        writtenAt: this.now(),
      });
      crashPoint('before-manifest');
      // The manifest is written only after every part it lists is complete; `_SUCCESS` after the manifest.
      // Of two runners that reach this point for one folder, exactly one publishes. The other never deletes
      // the winner's manifest (it is not in `attempted`), only its own parts.
      // The pending manifest is this attempt's until the manifest is written: `abort()` removes it.
      const claim = this.deps.claim;
      if (claim) this.attempted.add(pendingManifestKeyOf(this.deps.target.folder));
      await publishManifest(this.deps.store, this.deps.target, manifest, this.log, {
        signal: this.controller.signal,
        ...(claim ? { claim: () => keptOnceClaimed(claim, (kept) => { this.claimKept = kept; }) } : {}),
        uncertain: (uncertain) => { this.manifestUncertain = uncertain; },
        // The manifest makes the run published: from here on nothing deletes it, whatever fails next.
        onPublished: () => { this.state = 'published'; },
        discarded: 'this attempt',
      });
      this.logSummary(manifest.rows, manifest.bytesOut, manifest.quarantined);
      return publishedRunOf(manifest);
    } catch (e) {
      // abort() may have run meanwhile: it decides the final state.
      if ((this.state as State) !== 'aborted') this.state = 'failed';
      this.failure ??= toError(e);
      throw e;
    }
  }

  /** Rows accepted, rows sealed into parts and rows the part footers declare must all agree. */
  private verifyCounts(): void {
    const inFiles = this.files.reduce((sum, f) => sum + f.rows, 0);
    if (this.accepted !== this.sealed || this.sealed !== inFiles || this.files.length !== this.partCount) {
      throw new PermanentError('row counts disagree: refusing to publish', {
        context: { ...this.context(), accepted: this.accepted, sealed: this.sealed, inFiles, parts: this.partCount, uploaded: this.files.length },
      });
    }
  }

  private async abortRun(reason: unknown): Promise<void> {
    this.state = 'aborted';
    this.controller.abort(toError(reason));
    await Promise.allSettled([...this.inFlight]);
    await this.tail;
    if (this.deps.staged === true) {
      // Only this attempt's uploads: the folder holds other task attempts' staged objects too.
      await this.deps.store.abortStaged([...this.stagedObjects.values()]);
      this.log.warn({ reason: toError(reason).message, aborted: this.stagedObjects.size }, 'task output aborted');
      return;
    }
    // Only this attempt's uploads: another attempt of the same run may be writing into the folder (a runner
    // that took the collection over from this one, stalled past its lease).
    const { folder, attempt } = this.deps.target;
    const uploadsAborted = (await this.deps.store.abortUploads(`${folder}/part-${attempt}-`))
      + (await this.deps.store.abortUploads(`${folder}/${QUARANTINE_FOLDER}/${attempt}-`));
    if (this.manifestUncertain || this.claimKept) {
      this.log.warn({ reason: toError(reason).message }, 'run output aborted; parts kept: the run may have claimed its publication or written its manifest');
      return;
    }
    const keys = [...this.attempted];
    await this.deps.store.delete(keys);
    this.log.warn({ reason: toError(reason).message, deleted: keys.length, uploadsAborted }, 'run output aborted');
  }

  private logSummary(rows: number, bytesOut: number, quarantined: number): void {
    const durationMs = this.now() - this.startedAt;
    this.log.info({
      rows, parts: this.files.length, bytesOut, quarantined, durationMs, encodeMs: Math.round(this.encodeMs),
      rowsPerSecond: durationMs > 0 ? Math.round((rows * 1000) / durationMs) : undefined,
    }, 'run output published');
  }

  private assertOpen(): void {
    this.assertLive();
    if (this.state !== 'open') throw new PermanentError(`run output is ${this.state}`, { context: this.context() });
  }

  /** Fails fast once the run is aborted or a part has failed: the run can no longer be published. */
  private assertLive(): void {
    if (this.state === 'aborted') throw new PermanentError('run output was aborted', { context: this.context() });
    if (this.failure !== undefined) {
      if (this.failure instanceof IngestError) throw this.failure;
      throw new PermanentError('run output failed', { context: this.context(), cause: this.failure });
    }
  }

  private context(): Record<string, string> {
    const { target } = this.deps;
    return { collection: target.collection, correlationId: target.correlationId, folder: target.folder };
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }
}
