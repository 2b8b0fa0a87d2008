/**
 * DKS's development convention ("STANDALONE", DESIGN.md §3.2): the wrapped key is the plaintext key's bytes
 * reversed, base64-encoded, under the key-encryption key id `STANDALONE`.
 */
export const STANDALONE_KEY_ID = 'STANDALONE';

export function standaloneWrap(dataKey: Uint8Array): string {
  return Buffer.from(dataKey).reverse().toString('base64');
}

export function standaloneUnwrap(encryptedEncryptionKey: string): Buffer {
  return Buffer.from(encryptedEncryptionKey, 'base64').reverse();
}
