import { createCipheriv, createDecipheriv } from 'node:crypto';

/**
 * AES-CTR as the ingest pipeline uses it (DESIGN.md §3.1): the 16-byte IV is the initial counter block;
 * 16-byte data keys mean AES-128-CTR, 32-byte keys AES-256-CTR. CTR is its own inverse.
 */
export function aesCtrAlgorithm(key: Uint8Array): 'aes-128-ctr' | 'aes-256-ctr' {
  if (key.length === 16) return 'aes-128-ctr';
  if (key.length === 32) return 'aes-256-ctr';
  throw new RangeError(`data key must be 16 or 32 bytes, got ${key.length}`);
}

export function aesCtrEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Buffer {
  checkIv(iv);
  const cipher = createCipheriv(aesCtrAlgorithm(key), key, iv);
  return Buffer.concat([cipher.update(plaintext), cipher.final()]);
}

export function aesCtrDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Buffer {
  checkIv(iv);
  const decipher = createDecipheriv(aesCtrAlgorithm(key), key, iv);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

function checkIv(iv: Uint8Array): void {
  if (iv.length !== 16) throw new RangeError(`initialisation vector must be 16 bytes, got ${iv.length}`);
}
