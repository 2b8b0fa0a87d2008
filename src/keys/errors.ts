import { PermanentError, TransientError } from '../shared/errors.js';

/**
 * Errors of the key services. The class decides what the pipeline does with a record:
 * - `KeyRejectedError`: this one wrapped key can never be unwrapped → quarantine the record (and the cache
 *   remembers the refusal, so the same bad key is not asked again for every record that uses it).
 * - `KeyServiceAccessError`: no key would work (certificate revoked, TLS trust failure, wrong URL) → fail
 *   the collection; retrying or quarantining records would only hide a configuration problem.
 * - `KeyServiceUnavailableError`: retries spent on a transient failure → fail the collection, rerun later.
 */
export class KeyRejectedError extends PermanentError {}

export class KeyServiceAccessError extends PermanentError {}

export class KeyServiceUnavailableError extends TransientError {}
