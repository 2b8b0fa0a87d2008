import type { QuarantineReason } from '../contracts/envelope.js';
import { PermanentError, TransientError, type ErrorContext } from '../shared/errors.js';

/**
 * Errors of the key services. The class decides what the pipeline does with a record:
 * - `KeyRejectedError`: this one wrapped key can never be unwrapped (in this run) → quarantine the record
 *   with the error's `reason` (and the cache remembers the refusal, so the same bad key is not asked again
 *   for every record that uses it).
 * - `KeyServiceAccessError`: no key would work (certificate revoked, TLS trust failure, wrong URL) → fail
 *   the collection; retrying or quarantining records would only hide a configuration problem.
 * - `KeyServiceUnavailableError`: retries spent on a transient failure → fail the collection, rerun later.
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

export class KeyServiceAccessError extends PermanentError {}

export class KeyServiceUnavailableError extends TransientError {}
