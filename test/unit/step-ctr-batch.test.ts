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

  it('matches a decipher per record across the XOR regions: runs of records over 256 KiB, records larger than one, unaligned ciphertexts', () => {
    const key = randomBytes(16);
    // ~1.5 KB records (a run fills a region after ~170), a 300 KB record between them, and views at odd offsets.
    const lengths = [...Array.from({ length: 400 }, (_, k) => 1000 + ((k * 7919) % 1100)), 300_000, 5, 0, 1536, 300_017, ...Array.from({ length: 200 }, (_, k) => 1 + k * 3)];
    const inputs = lengths.map((length, k) => {
      const iv = randomBytes(16);
      const sealed = aesCtrEncrypt(key, iv, randomBytes(length));
      const host = Buffer.alloc(length + 3);
      sealed.copy(host, k % 4);
      return { iv, ciphertext: host.subarray(k % 4, (k % 4) + length) };
    });
    const batch = decryptCtrBatch(key, inputs);
    batch.plaintexts.forEach((p, i) => expect(p.equals(aesCtrDecrypt(key, inputs[i]!.iv, inputs[i]!.ciphertext)), `record ${i}`).toBe(true));
    batch.wipe();
    expect(batch.plaintexts.every((p) => p.every((b) => b === 0))).toBe(true);
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
