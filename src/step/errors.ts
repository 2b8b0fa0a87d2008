import type { QuarantineReason } from '../contracts/envelope.js';
import { IngestError, PermanentError, type ErrorContext } from '../shared/errors.js';

/** A collection's run failed; carries the collection and correlation id for the summary and the status row. */
export class CollectionRunError extends IngestError {}

/** Too many records were quarantined: something is systematically wrong, so the run is not published. */
export class QuarantineLimitError extends IngestError {}

/** The status row changed under us (a newer state is there): this runner must not publish or overwrite it. */
export class StaleRunnerError extends IngestError {}

/** The run's commit point was refused: another runner's settle step abandoned the run while it stalled. */
export class PublicationRefusedError extends StaleRunnerError {}

/** The run folder already holds a manifest written by another attempt: this attempt must not publish. */
export class AlreadyPublishedError extends IngestError {}

/** Another runner holds the collection's lease and did not let go within the wait. */
export class CollectionBusyError extends IngestError {}

/** The Spark job failed (a task spent its attempts, or the driver died), or its results do not add up. */
export class SparkJobError extends IngestError {}

/** A run folder holds the manifest of another collection: the folder mapping or the status row is wrong. */
export class ForeignManifestError extends IngestError {}

/**
 * The key service can never unwrap this one wrapped key (in this run): the decoder quarantines every record under
 * it with `reason`. Declared here, beside the KeyService port, because the step acts on it; the key adapters
 * (src/keys) throw it.
 */
export type KeyRejectionReason = Extract<
  QuarantineReason,
  'unknown-data-key' | 'bad-data-key' | 'wrapped-key-malformed' | 'key-id-malformed' | 'key-unwrap-failed'
  | 'dks-body-too-large' | 'dks-headers-too-large'
>;

export class KeyRejectedError extends PermanentError {
  /** The quarantine reason of every record under this key; a plain DKS refusal (400) is `unknown-data-key`. */
  readonly reason: KeyRejectionReason;

  constructor(message: string, options: { context?: ErrorContext; cause?: unknown; reason?: KeyRejectionReason } = {}) {
    super(message, options);
    this.reason = options.reason ?? 'unknown-data-key';
  }
}
