/**
 * Glossary — the words this codebase is written in.
 *
 * - **collection**: one HBase table of the ingest cluster, named `ns:table` (e.g. `core:addresses`).
 * - **record**: the latest version of a row's `cf:record` cell: a JSON envelope whose `dbObject` is encrypted.
 * - **data key**: the AES key that encrypts one record; stored wrapped (`encryptedEncryptionKey`) and unwrapped
 *   by the Data Key Service (DKS) under a key-encryption key (`keyEncryptionKeyId`).
 * - **window**: the half-open range `[start, end)` of cell timestamps (epoch ms) one run reads for a collection.
 * - **watermark**: the last `ProcessedDataEnd` of a collection's `EMR_COMPLETED` run; the next window starts
 *   just after it.
 * - **run**: one launch of the pipeline, identified by its **correlation id**; it has one status row per
 *   collection in the job status table.
 * - **replica**: the transient EMR cluster that reads the primary HBase's S3 root read-only.
 * - **quarantine**: where a record that can never be decrypted goes, still encrypted, with the reason.
 */

/** A collection name as HBase and the status table spell it: `ns:table`. */
export type CollectionName = string;

export interface Window {
  /** Inclusive start, epoch ms. */
  readonly start: number;
  /** Exclusive end, epoch ms. */
  readonly end: number;
}

export type JobStatus =
  | 'LAMBDA_TRIGGERED'
  | 'WAITING'
  | 'DEFERRED'
  | 'EMR_LAUNCHED'
  | 'EMR_PROCESSING'
  | 'EMR_COMPLETED'
  | 'EMR_FAILED'
  | 'LAMBDA_FAILED';

/** A status that still blocks later launches of the same collection (DESIGN.md §3.3). */
export const BLOCKING_STATUSES: ReadonlySet<string> = new Set<JobStatus>([
  'LAMBDA_TRIGGERED',
  'WAITING',
  'EMR_LAUNCHED',
  'EMR_PROCESSING',
  'EMR_FAILED',
  'LAMBDA_FAILED',
]);

/** One collection of the collections configuration (DESIGN.md §3.4). */
export interface CollectionConfig {
  readonly name: CollectionName;
  readonly db: string;
  readonly table: string;
  readonly pii: boolean;
  /** false: named on the command line but not listed in the collections secret (an operator's choice). */
  readonly configured?: boolean;
}
