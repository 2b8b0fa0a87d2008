import type { CollectionConfig, CollectionName, JobStatus, Window } from '../shared/types.js';
import type { QuarantineReason } from '../contracts/envelope.js';

/**
 * Ports of the step runner. Adapters (HBase REST, DKS, S3/Parquet, DynamoDB) implement them; the pipeline
 * depends only on these, so it runs against in-memory fakes in unit tests and the real stack otherwise.
 */

// ─── HBase ────────────────────────────────────────────────────────────────────────────────────────────

/** The latest version of one row's `cf:record` cell inside the window. */
export interface Cell {
  readonly rowKey: Buffer;
  /** Cell timestamp, epoch ms. */
  readonly timestamp: number;
  readonly value: Buffer;
}

/** A row-key range; an empty buffer means open-ended on that side. `endRow` is exclusive. */
export interface KeyRange {
  readonly startRow: Buffer;
  readonly endRow: Buffer;
}

export interface ScanRequest {
  /** `ns:table`. */
  readonly table: string;
  readonly range: KeyRange;
  readonly window: Window;
  readonly signal?: AbortSignal;
  /**
   * The consumer is done with a batch's cells when it asks for the next batch, so the scan may read the next
   * response into the same memory (no fresh pages per response). Their bytes are then valid only until that
   * next request: a consumer that keeps a batch, or any `rowKey`/`value` of it, leaves this unset. Default false.
   */
  readonly reuseMemory?: boolean;
}

export interface HBaseSource {
  /** The table's regions as key ranges, in key order, covering the whole table. */
  regions(table: string, signal?: AbortSignal): Promise<KeyRange[]>;
  /**
   * Scans `cf:record`, latest version within the window, in row-key order, in batches. Survives expired
   * scanners and dropped connections by resuming after the last row seen; frees its scanner when done.
   */
  scan(request: ScanRequest): AsyncIterable<Cell[]>;
}

// ─── Keys ─────────────────────────────────────────────────────────────────────────────────────────────

export interface WrappedKey {
  readonly keyEncryptionKeyId: string;
  readonly encryptedEncryptionKey: string;
}

export interface KeyService {
  /**
   * Unwraps a data key. Throws `PermanentError` (e.g. DKS 400: the key can never be unwrapped) or, once
   * bounded retries are spent, `TransientError`.
   */
  unwrap(key: WrappedKey, correlationId: string, signal?: AbortSignal): Promise<Buffer>;
}

export interface KeyServiceStats {
  calls: number;
  retries: number;
  hits: number;
  misses: number;
}

// ─── Output ───────────────────────────────────────────────────────────────────────────────────────────

/** One output row (DESIGN.md §3.5). `record` is the decrypted text exactly as decrypted. */
export interface OutputRow {
  readonly id: string;
  readonly timestamp: number;
  readonly record: string;
  /**
   * `record`'s UTF-8 bytes when the producer has them (the decrypted plaintext): a sink may copy these
   * instead of encoding the string again. Valid only until the `write()` that received the row resolves.
   */
  readonly recordUtf8?: Uint8Array;
  readonly db: string;
  readonly collection: string;
  readonly rowKey: string;
  readonly recordType: string;
}

/** A record that can never be decrypted: kept still encrypted, with the reason. */
export interface QuarantinedRecord {
  readonly rowKey: Buffer;
  readonly timestamp: number;
  /** The cell value exactly as read (the encrypted envelope). */
  readonly value: Buffer;
  readonly reason: QuarantineReason;
  readonly detail: string;
}

/** The run folder's subfolder of quarantined records (a leading `_`: readers skip it); the engines and the sink share it. */
export const QUARANTINE_FOLDER = '_quarantine';

export interface RunTarget {
  readonly collection: CollectionName;
  readonly db: string;
  readonly table: string;
  readonly pii: boolean;
  readonly correlationId: string;
  /** This runner's attempt token: in part names, so two attempts of one run never write the same key. */
  readonly attempt: string;
  readonly triggeredTime: number;
  readonly window: Window;
  /** Key prefix of this run's folder, e.g. `incremental/core_addresses/20200805-0707_<correlation id>`. */
  readonly folder: string;
}

export interface OpenOptions {
  /**
   * Awaited before every data object the run writes (parts, quarantine); throws when this runner may no
   * longer write (its collection lease is lost, or about to expire and cannot be renewed). Best effort: it
   * keeps a stalled runner from writing on, but exactly-once rests on `claim`.
   */
  readonly fence?: () => Promise<void>;
  /**
   * The run's commit point, awaited after its parts and its pending manifest are written and before the
   * manifest: a conditional write on the run's status row (`StatusStore.claimPublication`). Throws
   * `PublicationRefusedError` when another runner's settle step abandoned this run meanwhile: then this
   * runner removes what it wrote and publishes nothing. Without it (reprocess) the manifest follows the parts.
   */
  readonly claim?: () => Promise<void>;
}

export interface PublishedRun {
  readonly folder: string;
  /** The run that published this folder, its window and its largest cell timestamp (from the manifest). */
  readonly correlationId: string;
  readonly attempt: string;
  readonly collection: string;
  readonly window: Window;
  readonly maxTimestamp: number | null;
  readonly manifestKey: string;
  readonly files: readonly { key: string; rows: number; bytes: number; sha256: string }[];
  readonly rows: number;
  readonly quarantined: number;
  readonly bytesOut: number;
}

/** One collection's output for one run: parts are uploaded as they fill; nothing is trusted until publish. */
export interface RunOutput {
  /** Back-pressure: resolves when the rows are accepted (may wait for an upload). */
  write(rows: readonly OutputRow[]): Promise<void>;
  quarantine(records: readonly QuarantinedRecord[]): Promise<void>;
  /** Flushes, verifies row counts, writes the manifest then `_SUCCESS`. The run is published only after this. */
  publish(summary: { maxTimestamp: number | null }): Promise<PublishedRun>;
  /** Aborts in-flight uploads and removes what this run wrote without publishing. Safe to call twice. */
  abort(reason: unknown): Promise<void>;
}

/**
 * An object a task attempt wrote and nobody can see yet (an uncompleted multipart upload, see the sink's
 * `ObjectStore.stage`). Plain JSON: it travels from the Spark task's worker to the step in the task result.
 */
export interface StagedRef {
  readonly key: string;
  readonly uploadId: string;
  readonly parts: readonly { readonly partNumber: number; readonly etag: string }[];
  readonly bytes: number;
  readonly sha256: string;
}

/** What one task attempt staged: its parts and quarantine files, for the step to commit or not. */
export interface SealedTaskOutput {
  readonly files: readonly (StagedRef & { readonly rows: number })[];
  readonly quarantineFiles: readonly (StagedRef & { readonly records: number })[];
  readonly quarantinedByReason: Readonly<Record<string, number>>;
}

/** One task attempt's share of a run's output: like `RunOutput`, but it stages instead of publishing. */
export interface TaskOutput {
  write(rows: readonly OutputRow[]): Promise<void>;
  quarantine(records: readonly QuarantinedRecord[]): Promise<void>;
  /** Flushes and verifies row counts; the staged objects stay invisible until the step commits them. */
  seal(): Promise<SealedTaskOutput>;
  /** Aborts this attempt's staged objects. Safe to call twice. */
  abort(reason: unknown): Promise<void>;
}

export interface RecordSink {
  open(target: RunTarget, options?: OpenOptions): Promise<RunOutput>;
  /** A task attempt's output inside the run folder (`target.attempt` is the task attempt's token). */
  openTask(target: RunTarget): Promise<TaskOutput>;
  /**
   * Publishes a run from its winning task attempts: completes their staged objects, removes every other
   * object and upload in the folder (losers, abandoned attempts), then the manifest (conditional) and
   * `_SUCCESS`. `target.attempt` is the committing runner's attempt.
   */
  commit(target: RunTarget, winners: readonly SealedTaskOutput[], summary: { maxTimestamp: number | null }, options?: OpenOptions): Promise<PublishedRun>;
  /** Whether a run folder already holds a manifest (a rerun of a published run). */
  published(folder: string): Promise<PublishedRun | undefined>;
  /**
   * Finishes the publication of a run that passed its commit point (`claim`) and then died or stalled
   * before its manifest: writes the manifest from the run's pending manifest (conditional, so the run's own
   * late write changes nothing) and `_SUCCESS`. Undefined when the folder holds no pending manifest.
   */
  publishPending(folder: string, collection: CollectionConfig): Promise<PublishedRun | undefined>;
  /**
   * Writes the `_SUCCESS` marker of a published run folder when it is missing (a crash between the manifest
   * and the marker) and removes a pending manifest left beside the manifest, so that a rerun leaves the
   * folder as a clean run does.
   */
  ensureSuccessMarker(folder: string, collection: CollectionConfig): Promise<void>;
  /**
   * Removes every object of an abandoned run folder that holds no manifest (a runner that died before
   * publishing); refuses a published one. Returns how many objects and uploads it removed.
   */
  discard(folder: string): Promise<number>;
}

// ─── Catalog ──────────────────────────────────────────────────────────────────────────────────────────

/** Where one collection's published runs are registered for Athena: a table partitioned by run folder. */
export interface CatalogTable {
  /** The table's name in the catalog's database, e.g. `core_contract` or `core_contract_reprocess`. */
  readonly table: string;
  /** The collection's output prefix in the output bucket, e.g. `incremental/core_contract` (no trailing slash). */
  readonly prefix: string;
}

export interface PartitionCatalog {
  /**
   * Registers every published run folder (one holding the manifest) under the table's prefix that the catalog
   * does not list yet, creating the database and table when missing. Idempotent: runs already registered
   * are left alone, so a registration that failed before is retried by the next call. Returns the run
   * folder names it added.
   */
  registerPublished(table: CatalogTable): Promise<readonly string[]>;
}

// ─── Status ───────────────────────────────────────────────────────────────────────────────────────────

export interface StatusRow {
  readonly correlationId: string;
  readonly collection: CollectionName;
  readonly status: JobStatus | `_${JobStatus}`;
  readonly triggeredTime: number;
  readonly processedDataStart?: number | null;
  readonly processedDataEnd?: number | null;
  readonly emrClusterId?: string;
  readonly emrReadyTime?: number;
  /** Why the row is in its state (`StatusReason`); null removes an earlier one. */
  readonly reason?: string | null;
  /** The attempt token of the runner working on the row (`Owner`); null removes it. */
  readonly owner?: string | null;
  /** The run's output folder (`OutputFolder`). */
  readonly outputFolder?: string;
  /** When a settle step found the dead run's folder unpublished (`OutputChecked`); null removes it. */
  readonly outputChecked?: number | null;
  /** The attempt that passed the run's commit point (`PublishClaim`, see `claimPublication`); read only. */
  readonly publishClaim?: string;
}

/** Extra conditions of a transition besides the current status. */
export interface TransitionGuard {
  /** Only when the row's `Owner` is this attempt (a runner that lost its lease must not move the row on). */
  readonly owner?: string;
  /** Only when no runner has claimed the row's publication (a claimed run is completed, never taken over or abandoned). */
  readonly unclaimed?: boolean;
}

export interface StatusStore {
  /** The watermark: the latest `EMR_COMPLETED` run's `ProcessedDataEnd` (paginated GSI query), if any. */
  lastCompletedEnd(collection: CollectionName): Promise<number | undefined>;
  get(correlationId: string, collection: CollectionName): Promise<StatusRow | undefined>;
  /**
   * Conditional transition: succeeds only when the row's current status is one of `from` (or absent when
   * `from` includes `undefined`), and when the `guard` holds. Returns false when the condition failed (a
   * newer state is there, another runner owns the row, or its publication is claimed).
   */
  transition(
    row: StatusRow,
    from: readonly (JobStatus | `_${JobStatus}` | undefined)[],
    guard?: TransitionGuard,
  ): Promise<boolean>;
  /**
   * A run's commit point: sets `PublishClaim` to `owner` when the row is `EMR_PROCESSING`, owned by `owner`,
   * not marked `OutputChecked` by a settle step, and unclaimed (or already claimed by `owner`: a retried
   * claim). False otherwise. A settle step abandons a dead run's row only while it is unclaimed, so of a
   * stalled runner's claim and another runner's settle exactly one wins: the run publishes, or nothing of it
   * is trusted.
   */
  claimPublication(correlationId: string, collection: CollectionName, owner: string): Promise<boolean>;
  /**
   * Rows of the collection whose runner may have died with its output unsettled: `EMR_PROCESSING`,
   * `EMR_FAILED` or `_EMR_FAILED`, not yet marked `OutputChecked`. Full rows, newest first.
   */
  unsettledRows(collection: CollectionName): Promise<StatusRow[]>;
  /** Heartbeat: sets `UpdatedAt` if the row is still `EMR_PROCESSING` and owned by `owner`; false otherwise. */
  touch(correlationId: string, collection: CollectionName, owner: string): Promise<boolean>;
}

// ─── Collection lease ─────────────────────────────────────────────────────────────────────────────────

export interface LeaseHolder {
  readonly attempt: string;
  readonly correlationId: string;
  readonly expiresAt: number;
}

export type LeaseAttempt = { readonly acquired: true } | { readonly acquired: false; readonly holder: LeaseHolder };

/**
 * One runner at a time per collection, whatever its correlation id: a lease (owner token + expiry) that a
 * runner renews while it works and that frees itself when the runner dies. Every write is conditional.
 */
export interface CollectionLease {
  /** Takes the lease when free, expired, or already this attempt's. */
  acquire(collection: CollectionName, owner: Omit<LeaseHolder, 'expiresAt'>, now: number, leaseMs: number): Promise<LeaseAttempt>;
  /** Extends the lease; false when it is no longer this attempt's. */
  renew(collection: CollectionName, attempt: string, now: number, leaseMs: number): Promise<boolean>;
  /** Frees the lease if it is this attempt's. */
  release(collection: CollectionName, attempt: string): Promise<boolean>;
  /** The current holder, expired or not, if any. */
  holder(collection: CollectionName): Promise<LeaseHolder | undefined>;
}
