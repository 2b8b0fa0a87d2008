import { describe, expect, it } from 'vitest';
import { KeyRejectedError } from '../../src/keys/errors.js';
import { checkWrappedKey, KEY_ID_MAX_CHARS, WRAPPED_KEY_MAX_BYTES } from '../../src/keys/wrapped-key.js';

const b64 = (bytes: number): string => Buffer.alloc(bytes, 0xa5).toString('base64');
const check = (encryptedEncryptionKey: string, keyEncryptionKeyId = 'STANDALONE') =>
  checkWrappedKey({ keyEncryptionKeyId, encryptedEncryptionKey }, { correlationId: 'c1' });

describe('checkWrappedKey (before any DKS call)', () => {
  it.each([
    ['STANDALONE 16 bytes', b64(16)], ['STANDALONE 32 bytes', b64(32)], ['a KMS CiphertextBlob', b64(184)],
    ['an RSA-2048 wrap', b64(256)], ['an RSA-4096 wrap', b64(512)], ['the upper bound', b64(WRAPPED_KEY_MAX_BYTES)],
  ])('accepts %s', (_, wrapped) => {
    expect(check(wrapped)).toBeUndefined();
  });

  it.each([
    ['empty', '', /is empty/],
    ['not base64', '%%%garbled%%%', /not standard padded base64/],
    ['base64url', Buffer.alloc(16, 0xfb).toString('base64url'), /not standard padded base64/],
    ['missing padding', b64(16).replace(/=+$/, ''), /not standard padded base64/],
    ['with whitespace', ` ${b64(16)}`, /not standard padded base64/],
    ['with a newline inside', `${b64(16).slice(0, 8)}\n${b64(16).slice(8)}`, /not standard padded base64/],
    ['8 bytes', b64(8), /decodes to 8 bytes, outside \[16, 1024\]/],
    ['1025 bytes', b64(1025), /decodes to 1025 bytes/],
    ['megabytes', 'A'.repeat(4_000_000), /over the 1024-byte bound/],
  ])('refuses a wrapped key that is %s as wrapped-key-malformed', (_, wrapped, message) => {
    const error = check(wrapped);
    expect(error).toBeInstanceOf(KeyRejectedError);
    expect(error).toMatchObject({ reason: 'wrapped-key-malformed', retryable: false, context: { correlationId: 'c1', keyEncryptionKeyId: 'STANDALONE', wrappedKeyChars: wrapped.length } });
    expect(error?.message).toMatch(message);
    expect(error?.message).toMatch(/DKS was not asked/);
  });

  it.each([
    ['empty', '', /is empty/],
    ['too long', 'k'.repeat(KEY_ID_MAX_CHARS + 1), /2049 characters, over 2048/],
    ['a lone surrogate', 'cloudhsm:1,\ud800', /lone UTF-16 surrogate/],
    ['a newline', 'STANDALONE\n', /control character/],
    ['a NUL', 'STAND\u0000ALONE', /control character/],
    ['a C1 control', 'STAND\u0085ALONE', /control character/],
  ])('refuses a keyEncryptionKeyId that is %s as key-id-malformed, before looking at the key', (_, id, message) => {
    const error = check('%%%', id);
    expect(error).toMatchObject({ reason: 'key-id-malformed', retryable: false });
    expect(error?.message).toMatch(message);
    expect(String(error?.context.keyEncryptionKeyId).length).toBeLessThanOrEqual(90);
  });

  it.each(['STANDALONE', 'cloudhsm:7,8', 'arn:aws:kms:eu-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab', 'k'.repeat(KEY_ID_MAX_CHARS), 'clé ✓ 𝄞'])('accepts the key id %s', (id) => {
    expect(check(b64(16), id)).toBeUndefined();
  });

  it('never puts the wrapped key in the message or context', () => {
    const wrapped = `${b64(12)}`;
    const error = check(wrapped)!;
    expect(JSON.stringify({ m: error.message, c: error.context })).not.toContain(wrapped);
  });
});
