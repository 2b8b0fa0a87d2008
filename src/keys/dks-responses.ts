import { TransientError, type ErrorContext } from '../shared/errors.js';
import { DATA_KEY_LENGTHS, decodeDataKey, decodeStrictBase64 } from './data-key.js';
import { KeyRejectedError, KeyServiceAccessError } from './errors.js';

/**
 * What DKS answers mean (DESIGN.md §3.2), kept free of any HTTP library so it can be tested on its own:
 * 400 → this key can never be unwrapped; 413/431 → this record's wrapped key / key id is too large; 403 → our client certificate is refused; 408/429/5xx and network
 * failures → transient; TLS trust failures → access error (retrying cannot fix a certificate).
 */
export function errorForStatus(status: number, what: string, context: ErrorContext): Error {
  const ctx = { ...context, status };
  if (status === 400) return new KeyRejectedError(`DKS refused to ${what} (400): the key can never be unwrapped`, { context: ctx });
  // The request carries the record's own keyId (query string) and wrapped key (body): when DKS finds either too
  // large, that record is bad input, not a DKS that is misconfigured (wrapped-key.ts bounds both before a call).
  if (status === 413) {
    return new KeyRejectedError(`DKS refused to ${what} (413): the record's encryptedEncryptionKey is too large for DKS`, { reason: 'dks-body-too-large', context: ctx });
  }
  if (status === 431) {
    return new KeyRejectedError(`DKS refused to ${what} (431): the record's keyEncryptionKeyId is too large for DKS's request headers`, { reason: 'dks-headers-too-large', context: ctx });
  }
  if (status === 401 || status === 403) {
    return new KeyServiceAccessError(
      `DKS refused our client certificate (${status}): it is revoked, expired or not issued by a CA DKS trusts`,
      { context: ctx },
    );
  }
  if (status === 408 || status === 429 || status >= 500) return new TransientError(`DKS answered ${status} to ${what}`, { context: ctx });
  return new KeyServiceAccessError(`DKS answered an unexpected ${status} to ${what}: check the DKS URL (a 404 or 405 means it does not point at the DKS API)`, { context: ctx });
}

/** Certificate problems on either side of the handshake: a configuration fault, never worth a retry. */
const TLS_TRUST_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_REVOKED', 'ERR_TLS_CERT_ALTNAME_INVALID',
  'INVALID_CA', 'ERR_OSSL_PEM_NO_START_LINE', 'ERR_OSSL_X509_KEY_VALUES_MISMATCH',
]);
const TLS_ALERT = /ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_REVOKED|CERTIFICATE_EXPIRED|CERTIFICATE_REQUIRED|CERTIFICATE_UNKNOWN|ACCESS_DENIED|UNSUPPORTED_CERTIFICATE)/;

/** The first error code found on an error or its causes (undici nests the socket's error). */
export function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET' && code !== 'UND_ERR_CONNECT') return code;
    current = current.cause;
  }
  return undefined;
}

export function errorForNetworkFailure(error: Error, what: string, context: ErrorContext): Error {
  const code = errorCode(error) ?? (error.name === 'TimeoutError' ? 'TIMEOUT' : undefined);
  const ctx = { ...context, code };
  if (code !== undefined && (TLS_TRUST_CODES.has(code) || TLS_ALERT.test(code))) {
    return new KeyServiceAccessError(`TLS with DKS failed (${code}): check the CA, client certificate and key`, { context: ctx, cause: error });
  }
  return new TransientError(`cannot reach DKS to ${what}: ${code ?? error.message}`, { context: ctx, cause: error });
}

/**
 * The 200 body of a decrypt. A body without a base64 `plaintextDataKey` is DKS (or a proxy) misbehaving:
 * transient. A well-formed key of the wrong length is not: the real DKS answers 200 with as many bytes as the
 * wrapped key had (STANDALONE mode), so it is this record's key that is wrong, every time → permanent.
 */
export function parseDecryptBody(body: unknown, context: ErrorContext): Buffer {
  const text = (body as { plaintextDataKey?: unknown } | null)?.plaintextDataKey;
  const key = typeof text === 'string' ? decodeStrictBase64(text) : undefined;
  if (key === undefined) {
    throw new TransientError('DKS decrypt answer has no valid plaintextDataKey (base64 of 16 or 32 bytes)', { context });
  }
  if (!DATA_KEY_LENGTHS.has(key.length)) {
    key.fill(0);
    throw new KeyRejectedError(
      `DKS unwrapped the data key to ${key.length} bytes, not 16 or 32: the wrapped key in the record is wrong`,
      { reason: 'bad-data-key', context: { ...context, dataKeyBytes: key.length } },
    );
  }
  return key;
}

export interface GeneratedDataKey {
  readonly dataKeyEncryptionKeyId: string;
  /** Memory only: never log or persist. */
  readonly plaintextDataKey: Buffer;
  readonly ciphertextDataKey: string;
}

export function parseGenerateBody(body: unknown, context: ErrorContext): GeneratedDataKey {
  const fields = (body ?? {}) as Record<string, unknown>;
  const plaintextDataKey = decodeDataKey(fields.plaintextDataKey);
  const { dataKeyEncryptionKeyId, ciphertextDataKey } = fields;
  if (plaintextDataKey === undefined || typeof dataKeyEncryptionKeyId !== 'string' || dataKeyEncryptionKeyId === ''
    || typeof ciphertextDataKey !== 'string' || ciphertextDataKey === '') {
    throw new TransientError('DKS datakey answer lacks dataKeyEncryptionKeyId, plaintextDataKey or ciphertextDataKey', { context });
  }
  return { dataKeyEncryptionKeyId, plaintextDataKey, ciphertextDataKey };
}
