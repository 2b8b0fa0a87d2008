import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aesCtrDecrypt, aesCtrEncrypt } from '../../src/contracts/aes-ctr.js';
import { buildEnvelope, parseEnvelope, RecordError } from '../../src/contracts/envelope.js';
import { standaloneUnwrap, standaloneWrap } from '../../src/contracts/standalone-keys.js';

const key = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');
const iv = Buffer.from('f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff', 'hex');

function envelope(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const built = buildEnvelope({
    id: { declarationId: 'abc' },
    db: 'core',
    collection: 'addresses',
    lastModifiedMs: Date.UTC(2019, 6, 4, 7, 27, 35, 104),
    traceId: 't',
    unitOfWorkId: 'u',
    ciphertext: Buffer.from('secret'),
    iv,
    keyEncryptionKeyId: 'cloudhsm:12,34',
    encryptedEncryptionKey: standaloneWrap(key),
  }) as unknown as Record<string, unknown>;
  return { ...built, message: { ...(built.message as object), ...overrides } };
}

describe('AES-CTR', () => {
  it('matches the NIST SP 800-38A F.5.1 AES-128-CTR vector', () => {
    const nistKey = Buffer.from('2b7e151628aed2a6abf7158809cf4f3c', 'hex');
    const plaintext = Buffer.from('6bc1bee22e409f96e93d7e117393172a', 'hex');
    expect(aesCtrEncrypt(nistKey, iv, plaintext).toString('hex')).toBe('874d6191b620e3261bef6864990db6ce');
  });

  it('round-trips with 16- and 32-byte keys and refuses other lengths', () => {
    for (const k of [randomBytes(16), randomBytes(32)]) {
      const text = Buffer.from('{"a":"ü"}');
      expect(aesCtrDecrypt(k, iv, aesCtrEncrypt(k, iv, text)).equals(text)).toBe(true);
    }
    expect(() => aesCtrEncrypt(randomBytes(24), iv, Buffer.alloc(1))).toThrow(/16 or 32 bytes, got 24/);
    expect(() => aesCtrEncrypt(key, Buffer.alloc(8), Buffer.alloc(1))).toThrow(/16 bytes, got 8/);
  });
});

describe('STANDALONE key convention', () => {
  it('wraps a key as its bytes reversed, base64-encoded, and unwraps it back', () => {
    expect(standaloneWrap(Buffer.from([1, 2, 3]))).toBe(Buffer.from([3, 2, 1]).toString('base64'));
    expect(standaloneUnwrap(standaloneWrap(key)).equals(key)).toBe(true);
  });
});

describe('envelope', () => {
  it('is built with the ingest pipeline\'s field names and timestamp style', () => {
    const e = envelope();
    expect(e['@type']).toBe('V4');
    expect(e.timestamp).toBe('2019-07-04T07:27:35.104+0000');
    const message = e.message as Record<string, unknown>;
    expect(message._lastModifiedDateTime).toBe('2019-07-04T07:27:35.104+0000');
    expect(message.timestamp_created_from).toBe('_lastModifiedDateTime');
    expect(Object.keys(message.encryption as object)).toEqual(['keyEncryptionKeyId', 'initialisationVector', 'encryptedEncryptionKey']);
  });

  it('parses back to the fields the step needs', () => {
    const parsed = parseEnvelope(JSON.stringify(envelope()));
    expect(parsed.id).toEqual({ declarationId: 'abc' });
    expect(parsed.recordType).toBe('MONGO_UPDATE');
    expect(parsed.iv.equals(iv)).toBe(true);
    expect(parsed.ciphertext.toString()).toBe('secret');
    expect(parsed.keyEncryptionKeyId).toBe('cloudhsm:12,34');
  });

  const bad: [string, string | Buffer, string][] = [
    ['an empty cell', Buffer.alloc(0), 'empty-value'],
    ['text that is not JSON', '{"message":', 'malformed-envelope'],
    ['a missing message', '{}', 'missing-field'],
    ['a missing _id', JSON.stringify(envelope({ _id: undefined })), 'missing-field'],
    ['a missing dbObject', JSON.stringify(envelope({ dbObject: '' })), 'missing-field'],
    ['bad base64', JSON.stringify(envelope({ dbObject: 'not base64!' })), 'bad-base64'],
    ['a 12-byte IV', JSON.stringify(envelope({ encryption: { keyEncryptionKeyId: 'k', initialisationVector: Buffer.alloc(12).toString('base64'), encryptedEncryptionKey: 'AAAA' } })), 'bad-iv-length'],
  ];
  it.each(bad)('rejects %s with a specific reason', (_what, value, reason) => {
    try {
      parseEnvelope(value);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(RecordError);
      expect((error as RecordError).reason).toBe(reason);
    }
  });
});
