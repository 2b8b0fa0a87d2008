import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aesCtrDecrypt, aesCtrEncrypt } from '../../src/contracts/aes-ctr.js';
import { decryptCtrBatch } from '../../src/step/ctr-batch.js';

describe('decryptCtrBatch', () => {
  it('matches a decipher per record for every length, with 16- and 32-byte keys', () => {
    for (const key of [randomBytes(16), randomBytes(32)]) {
      const inputs = Array.from({ length: 70 }, (_, length) => {
        const iv = randomBytes(16);
        return { iv, ciphertext: aesCtrEncrypt(key, iv, randomBytes(length * 13)), length: length * 13 };
      });
      const batch = decryptCtrBatch(key, inputs);
      expect(batch.plaintexts.map((p) => p.length)).toEqual(inputs.map((i) => i.length));
      batch.plaintexts.forEach((p, i) => expect(p).toEqual(aesCtrDecrypt(key, inputs[i]!.iv, inputs[i]!.ciphertext)));
    }
  });

  it('carries the counter across words and wraps it past all ones', () => {
    const key = randomBytes(16);
    const ivs = ['000000000000000000000000fffffffd', '00000000000000000000ffffffffffff', 'ffffffffffffffffffffffffffffffff', '7fffffffffffffffffffffffffffffff'];
    const inputs = ivs.map((hex) => {
      const iv = Buffer.from(hex, 'hex');
      return { iv, ciphertext: aesCtrEncrypt(key, iv, randomBytes(100)) };
    });
    const batch = decryptCtrBatch(key, inputs);
    batch.plaintexts.forEach((p, i) => expect(p).toEqual(aesCtrDecrypt(key, inputs[i]!.iv, inputs[i]!.ciphertext)));
  });

  it('leaves the ciphertexts untouched and zeroes the plaintexts on wipe', () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const ciphertext = aesCtrEncrypt(key, iv, Buffer.from('{"secret":"value"}'));
    const copy = Buffer.from(ciphertext);
    const batch = decryptCtrBatch(key, [{ iv, ciphertext }]);
    expect(batch.plaintexts[0]!.toString()).toBe('{"secret":"value"}');
    expect(ciphertext).toEqual(copy);
    batch.wipe();
    expect(batch.plaintexts[0]!.every((b) => b === 0)).toBe(true);
  });

  it('refuses keys and IVs of the wrong length', () => {
    expect(() => decryptCtrBatch(randomBytes(24), [{ iv: randomBytes(16), ciphertext: randomBytes(4) }])).toThrow(/16 or 32 bytes/);
    expect(() => decryptCtrBatch(randomBytes(16), [{ iv: randomBytes(12), ciphertext: randomBytes(4) }])).toThrow(/16 bytes/);
  });
});

describe('decryptCtrBatch cipher reuse', () => {
  it('follows a key buffer whose bytes change (a cached cipher is never used for other key bytes)', () => {
    const key = Buffer.from(randomBytes(16));
    const iv = randomBytes(16);
    const first = aesCtrEncrypt(key, iv, Buffer.from('first'));
    expect(decryptCtrBatch(key, [{ iv, ciphertext: first }]).plaintexts[0]!.toString()).toBe('first');
    randomBytes(16).copy(key);
    const second = aesCtrEncrypt(key, iv, Buffer.from('second'));
    expect(decryptCtrBatch(key, [{ iv, ciphertext: second }]).plaintexts[0]!.toString()).toBe('second');
  });
});
