import { PermanentError, TransientError } from '../shared/errors.js';

/**
 * Errors of the key services. The class decides what the pipeline does with a record:
 * - `KeyRejectedError`: this one wrapped key can never be unwrapped (in this run) → quarantine the record
 *   with the error's `reason` (and the cache remembers the refusal, so the same bad key is not asked again
 *   for every record that uses it).
 * - `KeyServiceAccessError`: no key would work (certificate revoked, TLS trust failure, wrong URL) → fail
 *   the collection; retrying or quarantining records would only hide a configuration problem.
 * - `KeyServiceUnavailableError`: retries spent on a transient failure → fail the collection, rerun later.
 */
// Declared by the step, which quarantines a record on it (step/errors.ts); handed on here with its siblings.
export { KeyRejectedError, type KeyRejectionReason } from '../step/errors.js';

export class KeyServiceAccessError extends PermanentError {}

export class KeyServiceUnavailableError extends TransientError {}
