import { PermanentError } from '../shared/errors.js';
import type { PublishedRun, RunTarget } from '../step/ports.js';

/**
 * The manifest: written last in a run folder, it is what makes the folder trustworthy. It lists every data
 * object with its size and SHA-256 so a reader can check what it downloads, and says what the run covered.
 */

export const MANIFEST_SCHEMA_VERSION = 1;
/** Names readers skip (leading `_`): Hive, Athena, Spark and pyarrow list only the parts (DESIGN.md §3.5). */
export const MANIFEST_NAME = '_manifest.json';
export const SUCCESS_NAME = '_SUCCESS';
/**
 * The manifest as written before the run's commit point (see `publishManifest`): trusted by nobody, read
 * only by a settle step that finishes a run which claimed its publication and then died.
 */
export const PENDING_MANIFEST_NAME = '_manifest.pending.json';

/** The Parquet schema of every part, as readers should declare it (e.g. in Athena DDL). */
export const OUTPUT_COLUMNS = [
  { name: 'id', type: 'string' },
  { name: 'timestamp', type: 'timestamp(millis, UTC)' },
  { name: 'record', type: 'string' },
  { name: 'db', type: 'string' },
  { name: 'collection', type: 'string' },
  { name: 'row_key', type: 'string' },
  { name: 'record_type', type: 'string' },
] as const;

export interface ManifestFile {
  readonly key: string;
  readonly rows: number;
  readonly bytes: number;
  readonly sha256: string;
}

export interface QuarantineFile {
  readonly key: string;
  readonly records: number;
  readonly bytes: number;
  readonly sha256: string;
}

export interface Manifest {
  readonly schemaVersion: typeof MANIFEST_SCHEMA_VERSION;
  readonly collection: string;
  readonly db: string;
  readonly table: string;
  readonly correlationId: string;
  /** The attempt of the run that wrote the parts (a run retried on the same correlation id has several). */
  readonly attempt: string;
  readonly triggeredTime: number;
  readonly window: { readonly start: number; readonly end: number };
  /** Latest cell timestamp among the rows written; null when the run found nothing. */
  readonly maxTimestamp: number | null;
  readonly folder: string;
  readonly format: 'parquet';
  readonly columns: typeof OUTPUT_COLUMNS;
  readonly rows: number;
  /** Sum of the Parquet files' sizes. */
  readonly bytesOut: number;
  readonly files: readonly ManifestFile[];
  readonly quarantined: number;
  readonly quarantinedByReason: Readonly<Record<string, number>>;
  /** JSON lines `{rowKey, timestamp, reason, detail, value}`; rowKey and value (the cell as read) in base64. */
  readonly quarantineFiles: readonly QuarantineFile[];
  readonly writtenAt: string;
}

export interface ManifestInput {
  readonly target: RunTarget;
  readonly maxTimestamp: number | null;
  readonly files: readonly ManifestFile[];
  readonly quarantineFiles: readonly QuarantineFile[];
  readonly quarantinedByReason: ReadonlyMap<string, number>;
  readonly writtenAt: number;
}

const byKey = <T extends { key: string }>(a: T, b: T): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

export function buildManifest(input: ManifestInput): Manifest {
  const { target } = input;
  const quarantinedByReason = Object.fromEntries([...input.quarantinedByReason].sort(([a], [b]) => (a < b ? -1 : 1)));
  const quarantined = sum(Object.values(quarantinedByReason));
  const inFiles = sum(input.quarantineFiles.map((f) => f.records));
  // Every quarantined record counted must be in a quarantine object, and the other way round.
  if (quarantined !== inFiles) {
    throw new PermanentError('quarantine counts disagree with quarantine objects', {
      context: { collection: target.collection, correlationId: target.correlationId, quarantined, inFiles },
    });
  }
  return {
    schemaVersion: MANIFEST_SCHEMA_VERSION,
    collection: target.collection,
    db: target.db,
    table: target.table,
    correlationId: target.correlationId,
    attempt: target.attempt,
    triggeredTime: target.triggeredTime,
    window: { start: target.window.start, end: target.window.end },
    maxTimestamp: input.maxTimestamp,
    folder: target.folder,
    format: 'parquet',
    columns: OUTPUT_COLUMNS,
    rows: sum(input.files.map((f) => f.rows)),
    bytesOut: sum(input.files.map((f) => f.bytes)),
    files: [...input.files].sort(byKey),
    quarantined,
    quarantinedByReason,
    quarantineFiles: [...input.quarantineFiles].sort(byKey),
    writtenAt: new Date(input.writtenAt).toISOString(),
  };
}

export const manifestKeyOf = (folder: string): string => `${folder}/${MANIFEST_NAME}`;
export const pendingManifestKeyOf = (folder: string): string => `${folder}/${PENDING_MANIFEST_NAME}`;

export function publishedRunOf(manifest: Manifest): PublishedRun {
  return {
    folder: manifest.folder,
    correlationId: manifest.correlationId,
    attempt: manifest.attempt,
    collection: manifest.collection,
    window: { start: manifest.window.start, end: manifest.window.end },
    maxTimestamp: manifest.maxTimestamp,
    manifestKey: manifestKeyOf(manifest.folder),
    files: manifest.files.map(({ key, rows, bytes, sha256 }) => ({ key, rows, bytes, sha256 })),
    rows: manifest.rows,
    quarantined: manifest.quarantined,
    bytesOut: manifest.bytesOut,
  };
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function isWindow(v: unknown): boolean {
  const w = v as { start?: unknown; end?: unknown } | null;
  return typeof w?.start === 'number' && typeof w.end === 'number';
}

function isFileList(v: unknown, count: 'rows' | 'records'): boolean {
  return Array.isArray(v) && v.every((f: Record<string, unknown>) =>
    typeof f?.key === 'string' && isCount(f[count]) && isCount(f.bytes) && typeof f.sha256 === 'string' && /^[0-9a-f]{64}$/.test(f.sha256));
}

/** Parses a manifest read back from S3; anything malformed or self-inconsistent is a permanent error. */
export function parseManifest(text: string, key: string): Manifest {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new PermanentError('manifest is not JSON', { context: { key }, cause: e });
  }
  const problem =
    value?.schemaVersion !== MANIFEST_SCHEMA_VERSION ? `unsupported schemaVersion ${String(value?.schemaVersion)}`
    : typeof value.folder !== 'string' || typeof value.correlationId !== 'string' ? 'folder or correlationId missing'
    : !isWindow(value.window) ? 'window malformed'
    : value.maxTimestamp !== null && typeof value.maxTimestamp !== 'number' ? 'maxTimestamp malformed'
    : !isCount(value.rows) || !isCount(value.quarantined) || !isCount(value.bytesOut) ? 'counts missing'
    : !isFileList(value.files, 'rows') || !isFileList(value.quarantineFiles, 'records') ? 'file lists malformed'
    : undefined;
  if (problem !== undefined) throw new PermanentError('manifest is malformed', { context: { key, problem } });
  const manifest = value as unknown as Manifest;
  if (sum(manifest.files.map((f) => f.rows)) !== manifest.rows) {
    throw new PermanentError('manifest rows disagree with its files', { context: { key, rows: manifest.rows } });
  }
  return manifest;
}
