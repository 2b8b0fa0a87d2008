import { randomBytes } from 'node:crypto';
import { STANDALONE_KEY_ID, standaloneUnwrap, standaloneWrap } from '../../contracts/standalone-keys.js';
import { decodeStrictBase64 } from '../../keys/data-key.js';

/**
 * Where the local DKS gets and unwraps data keys. Failures are typed by the HTTP answer they become, as the
 * real DKS gives them per mode (DESIGN.md §3.2): `KeyNotUnwrappable` → 400 (KMS mode's refusal),
 * `KeyBackendCrashed` → 500 with Spring's error JSON and the connection closed (STANDALONE and HSM modes on a
 * garbled key), `KeyBackendUnavailable` → 503.
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
/** An exception inside the real DKS that Spring turns into a bare 500 (e.g. a base64 decoder throwing). */
export class KeyBackendCrashed extends Error {}

/** DKS's development convention (DESIGN.md §3.2): wrapped = base64 of the key's bytes reversed. */
export class StandaloneDataKeys implements DataKeyBackend {
  owns(keyId: string): boolean {
    return keyId === STANDALONE_KEY_ID;
  }

  generate(): Promise<{ keyId: string; plaintext: Buffer; ciphertext: string }> {
    const plaintext = randomBytes(16);
    return Promise.resolve({ keyId: STANDALONE_KEY_ID, plaintext, ciphertext: standaloneWrap(plaintext) });
  }

  /**
   * As the real STANDALONE mode: garbled base64 makes its decoder throw (→ 500); valid base64 of any length
   * is "unwrapped" to that many bytes, reversed (→ 200), so clients must check the length they get back.
   */
  decrypt(_keyId: string, encryptedEncryptionKey: string): Promise<Buffer> {
    if (decodeStrictBase64(encryptedEncryptionKey) === undefined) {
      return Promise.reject(new KeyBackendCrashed('encrypted key is not base64 (STANDALONE answers 500)'));
    }
    return Promise.resolve(standaloneUnwrap(encryptedEncryptionKey));
  }

  healthy(): Promise<boolean> {
    return Promise.resolve(true);
  }
}
