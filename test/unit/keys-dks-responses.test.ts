import { describe, expect, it } from 'vitest';
import { TransientError } from '../../src/shared/errors.js';
import { KeyRejectedError, KeyServiceAccessError } from '../../src/keys/errors.js';
import { errorForNetworkFailure, errorForStatus, parseDecryptBody, parseGenerateBody } from '../../src/keys/dks-responses.js';
import { decodeDataKey, decodeStrictBase64 } from '../../src/keys/data-key.js';

const ctx = { keyEncryptionKeyId: 'STANDALONE', correlationId: 'c1' };

describe('DKS answers', () => {
  it('reads 400 as a rejection of this one key, never retried', () => {
    const e = errorForStatus(400, 'decrypt a data key', ctx);
    expect(e).toBeInstanceOf(KeyRejectedError);
    expect((e as KeyRejectedError).retryable).toBe(false);
    expect((e as KeyRejectedError).context).toMatchObject({ status: 400, keyEncryptionKeyId: 'STANDALONE', correlationId: 'c1' });
  });

  it('reads 403 as our client certificate being refused', () => {
    const e = errorForStatus(403, 'decrypt a data key', ctx);
    expect(e).toBeInstanceOf(KeyServiceAccessError);
    expect(e.message).toMatch(/client certificate.*revoked/);
  });

  it.each([500, 502, 503, 504, 429, 408])('reads %i as transient', (status) => {
    const e = errorForStatus(status, 'decrypt a data key', ctx);
    expect(e).toBeInstanceOf(TransientError);
    expect((e as TransientError).retryable).toBe(true);
  });

  it('reads an unexpected status (404) as a configuration fault, not a bad key', () => {
    expect(errorForStatus(404, 'decrypt a data key', ctx)).toBeInstanceOf(KeyServiceAccessError);
  });

  it('retries connection failures and timeouts', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const wrapped = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET', cause: reset });
    expect(errorForNetworkFailure(wrapped, 'x', ctx)).toBeInstanceOf(TransientError);
    expect((errorForNetworkFailure(wrapped, 'x', ctx) as TransientError).context.code).toBe('ECONNRESET');
    const timeout = new DOMException('timed out', 'TimeoutError');
    expect(errorForNetworkFailure(timeout as unknown as Error, 'x', ctx)).toBeInstanceOf(TransientError);
  });

  it('does not retry a TLS trust failure: a certificate will not fix itself', () => {
    for (const code of ['SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA']) {
      const e = errorForNetworkFailure(Object.assign(new Error('tls'), { code }), 'x', ctx);
      expect(e, code).toBeInstanceOf(KeyServiceAccessError);
    }
  });

  it('accepts a decrypt body only with a base64 key of 16 or 32 bytes', () => {
    const k16 = Buffer.alloc(16, 7);
    expect(parseDecryptBody({ plaintextDataKey: k16.toString('base64') }, ctx).equals(k16)).toBe(true);
    expect(parseDecryptBody({ plaintextDataKey: Buffer.alloc(32, 1).toString('base64') }, ctx)).toHaveLength(32);
    for (const bad of [{}, null, undefined, { plaintextDataKey: 'not base64!' }, { plaintextDataKey: 12 }]) {
      expect(() => parseDecryptBody(bad, ctx)).toThrow(TransientError);
    }
  });

  it.each([0, 1, 12, 24, 48])('reads a 200 whose key is %i bytes as this key being wrong (permanent), not DKS misbehaving', (bytes) => {
    const e = (() => {
      try {
        return parseDecryptBody({ plaintextDataKey: Buffer.alloc(bytes, 3).toString('base64') }, ctx);
      } catch (caught) {
        return caught;
      }
    })();
    if (bytes === 0) {
      // An empty string is no base64 key at all: a malformed answer.
      expect(e).toBeInstanceOf(TransientError);
      return;
    }
    expect(e).toBeInstanceOf(KeyRejectedError);
    expect(e).toMatchObject({ reason: 'bad-data-key', retryable: false, context: { dataKeyBytes: bytes } });
    expect((e as Error).message).toContain(`${bytes} bytes`);
  });

  it('accepts a generate body only when all three fields are there', () => {
    const body = { dataKeyEncryptionKeyId: 'STANDALONE', plaintextDataKey: Buffer.alloc(16, 3).toString('base64'), ciphertextDataKey: 'abc=' };
    expect(parseGenerateBody(body, ctx).plaintextDataKey).toHaveLength(16);
    expect(() => parseGenerateBody({ ...body, ciphertextDataKey: '' }, ctx)).toThrow(TransientError);
    expect(() => parseGenerateBody({ ...body, dataKeyEncryptionKeyId: undefined }, ctx)).toThrow(TransientError);
  });
});

describe('data key encoding', () => {
  it('decodes strict base64 only: junk that Node would skip is refused', () => {
    expect(decodeStrictBase64('AAAA')).toEqual(Buffer.alloc(3));
    for (const bad of ['', 'AAA', 'AA AA', 'AA*A', 'AAAA=', 'A===', '@@@@']) expect(decodeStrictBase64(bad), bad).toBeUndefined();
  });

  it('accepts data keys of 16 or 32 bytes only', () => {
    expect(decodeDataKey(Buffer.alloc(16).toString('base64'))).toHaveLength(16);
    expect(decodeDataKey(Buffer.alloc(15).toString('base64'))).toBeUndefined();
    expect(decodeDataKey(42)).toBeUndefined();
  });
});

describe('DKS 413 and 431 (issue 16 item 2)', () => {
  it.each([[413, 'dks-body-too-large'], [431, 'dks-headers-too-large']])('maps %i to a record refusal with its own reason, not "check the DKS URL"', (status, reason) => {
    const error = errorForStatus(status, 'decrypt a data key', {});
    expect(error).toBeInstanceOf(KeyRejectedError);
    expect(error).toMatchObject({ reason });
    expect(error.message).not.toMatch(/DKS URL/);
  });
});
