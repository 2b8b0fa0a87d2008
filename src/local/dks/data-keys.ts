import { randomBytes } from 'node:crypto';
import { STANDALONE_KEY_ID, standaloneUnwrap, standaloneWrap } from '../../contracts/standalone-keys.js';
import { DATA_KEY_LENGTHS, decodeStrictBase64 } from '../../keys/data-key.js';

/**
 * Where the local DKS gets and unwraps data keys. Failures are typed by the HTTP answer they become:
 * `KeyNotUnwrappable` → 400 (never retry), `KeyBackendUnavailable` → 503 (retry).
 */
export interface DataKeyBackend {
  /** True when this backend unwraps keys of that key-encryption key id. */
  owns(keyId: string): boolean;
  generate(): Promise<{ keyId: string; plaintext: Buffer; ciphertext: string }>;
  decrypt(keyId: string, encryptedEncryptionKey: string): Promise<Buffer>;
  healthy(): Promise<boolean>;
}

export class KeyNotUnwrappable extends Error {}
export class KeyBackendUnavailable extends Error {}

/** DKS's development convention (DESIGN.md §3.2): wrapped = base64 of the key's bytes reversed. */
export class StandaloneDataKeys implements DataKeyBackend {
  owns(keyId: string): boolean {
    return keyId === STANDALONE_KEY_ID;
  }

  generate(): Promise<{ keyId: string; plaintext: Buffer; ciphertext: string }> {
    const plaintext = randomBytes(16);
    return Promise.resolve({ keyId: STANDALONE_KEY_ID, plaintext, ciphertext: standaloneWrap(plaintext) });
  }

  decrypt(_keyId: string, encryptedEncryptionKey: string): Promise<Buffer> {
    const wrapped = decodeStrictBase64(encryptedEncryptionKey);
    if (wrapped === undefined) return Promise.reject(new KeyNotUnwrappable('encrypted key is not base64'));
    if (!DATA_KEY_LENGTHS.has(wrapped.length)) {
      return Promise.reject(new KeyNotUnwrappable(`encrypted key decodes to ${wrapped.length} bytes, not 16 or 32`));
    }
    return Promise.resolve(standaloneUnwrap(encryptedEncryptionKey));
  }

  healthy(): Promise<boolean> {
    return Promise.resolve(true);
  }
}
