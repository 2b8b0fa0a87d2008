import type { ErrorContext } from '../shared/errors.js';
import type { WrappedKey } from '../step/ports.js';
import { decodeStrictBase64 } from './data-key.js';
import { KeyRejectedError } from './errors.js';

/**
 * Checks a record's wrapped key before any call to DKS (DESIGN.md §3.2). The real DKS does not answer 400
 * to a garbled key: STANDALONE mode answers 500, HSM mode 500 or 503, so a corrupt `encryptedEncryptionKey`
 * would be retried as transient and fail the collection on every run. What we can tell locally, we tell here,
 * as a permanent refusal of that one key (its records are quarantined, still encrypted).
 *
 * Decoded length bounds, [16, 1024] bytes:
 * - 16 is the floor: no wrap of a 128-bit data key is shorter (STANDALONE wraps are the key itself, 16 or
 *   32 bytes, reversed);
 * - KMS CiphertextBlobs of a 16/32-byte data key are ~150–250 bytes, CloudHSM RSA-OAEP wraps are the
 *   modulus size (256 bytes for RSA-2048, 512 for RSA-4096), so 1024 leaves room for RSA-8192 and still
 *   refuses a body that is clearly not one key.
 * keyEncryptionKeyId: non-empty, at most 2048 characters (a KMS ARN is ~75, `cloudhsm:<h>,<h>` ~20; KMS caps
 * key ids at 2048), well-formed UTF-16 (no lone surrogates, which cannot be URL-encoded) and no control
 * characters (a newline in a query string or log line is corruption, never a key id).
 */
export const WRAPPED_KEY_MIN_BYTES = 16;
export const WRAPPED_KEY_MAX_BYTES = 1024;
export const KEY_ID_MAX_CHARS = 2048;

/** Base64 of WRAPPED_KEY_MAX_BYTES is at most this long: anything longer is refused before the regex runs. */
const MAX_WRAPPED_CHARS = 4 * Math.ceil(WRAPPED_KEY_MAX_BYTES / 3);
// C0 controls, DEL and C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The refusal of `key`, or undefined when it may be sent to DKS. Never puts key material in the message. */
export function checkWrappedKey(key: WrappedKey, context: ErrorContext = {}): KeyRejectedError | undefined {
  const id = key.keyEncryptionKeyId;
  const idProblem = keyIdProblem(id);
  if (idProblem !== undefined) {
    return new KeyRejectedError(
      `keyEncryptionKeyId ${idProblem}: the record's encryption metadata is corrupt, so DKS was not asked`,
      { reason: 'key-id-malformed', context: { ...context, keyEncryptionKeyId: printableId(id), keyIdLength: id.length } },
    );
  }
  const text = key.encryptedEncryptionKey;
  const problem = wrappedProblem(text);
  if (problem === undefined) return undefined;
  return new KeyRejectedError(
    `encryptedEncryptionKey ${problem}: the record's wrapped data key is corrupt, so DKS was not asked`,
    { reason: 'wrapped-key-malformed', context: { ...context, keyEncryptionKeyId: id, wrappedKeyChars: text.length } },
  );
}

function keyIdProblem(id: string): string | undefined {
  if (typeof id !== 'string' || id.length === 0) return 'is empty';
  if (id.length > KEY_ID_MAX_CHARS) return `is ${id.length} characters, over ${KEY_ID_MAX_CHARS}`;
  if (!id.isWellFormed()) return 'holds a lone UTF-16 surrogate';
  if (CONTROL.test(id)) return 'holds a control character';
  return undefined;
}

function wrappedProblem(text: string): string | undefined {
  if (typeof text !== 'string' || text.length === 0) return 'is empty';
  if (text.length > MAX_WRAPPED_CHARS) return `is ${text.length} characters, over the ${WRAPPED_KEY_MAX_BYTES}-byte bound`;
  const bytes = decodeStrictBase64(text);
  if (bytes === undefined) return 'is not standard padded base64';
  if (bytes.length < WRAPPED_KEY_MIN_BYTES || bytes.length > WRAPPED_KEY_MAX_BYTES) {
    return `decodes to ${bytes.length} bytes, outside [${WRAPPED_KEY_MIN_BYTES}, ${WRAPPED_KEY_MAX_BYTES}]`;
  }
  return undefined;
}

/** A bounded, escaped rendering of a bad key id for error context (ids are not secret; control chars are noise). */
function printableId(id: string): string {
  return JSON.stringify(typeof id === 'string' ? id.slice(0, 80) : String(id)).replace(/\\ud[89a-f][0-9a-f]{2}/gi, '?');
}
