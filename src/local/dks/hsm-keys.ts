import { constants, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { decodeStrictBase64 } from '../../keys/data-key.js';
import { KeyBackendCrashed, KeyBackendUnavailable, type DataKeyBackend } from './data-keys.js';

/**
 * An emulation of the real DKS's HSM mode (CloudHSM), for tests of how clients cope with its answers
 * (DESIGN.md §3.2): key-encryption key ids are `cloudhsm:<private handle>,<public handle>`, data keys are
 * wrapped with RSA-OAEP (SHA-256) under an RSA-2048 key pair made at startup (so wraps are 256 bytes).
 * Its failures are never 400:
 * - a malformed keyId (not `cloudhsm:<digits>,<digits>`) or unknown handles → 503;
 * - a garbled (not base64) wrapped key → 500 (Spring's error);
 * - base64 that does not RSA-decrypt (corrupt ciphertext) → 503, as the HSM reports a crypto failure.
 * Owns every keyId that starts with `cloudhsm:`, so malformed ones reach it.
 */
export const HSM_KEY_ID = 'cloudhsm:7,8';

const WELL_FORMED = /^cloudhsm:\d+,\d+$/;
const OAEP = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' } as const;

export class HsmDataKeys implements DataKeyBackend {
  private readonly publicKey: KeyObject;
  private readonly privateKey: KeyObject;

  constructor(readonly keyId: string = HSM_KEY_ID) {
    if (!WELL_FORMED.test(keyId)) throw new TypeError(`an HSM key id looks like cloudhsm:<digits>,<digits>, got ${keyId}`);
    ({ publicKey: this.publicKey, privateKey: this.privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 }));
  }

  owns(keyId: string): boolean {
    return keyId.startsWith('cloudhsm:');
  }

  generate(): Promise<{ keyId: string; plaintext: Buffer; ciphertext: string }> {
    const plaintext = randomBytes(16);
    const ciphertext = publicEncrypt({ key: this.publicKey, ...OAEP }, plaintext).toString('base64');
    return Promise.resolve({ keyId: this.keyId, plaintext, ciphertext });
  }

  decrypt(keyId: string, encryptedEncryptionKey: string): Promise<Buffer> {
    if (!WELL_FORMED.test(keyId)) return Promise.reject(new KeyBackendUnavailable('malformed HSM key id (HSM mode answers 503)'));
    if (keyId !== this.keyId) return Promise.reject(new KeyBackendUnavailable('no such HSM key handles (HSM mode answers 503)'));
    const blob = decodeStrictBase64(encryptedEncryptionKey);
    if (blob === undefined) return Promise.reject(new KeyBackendCrashed('encrypted key is not base64 (HSM mode answers 500)'));
    try {
      return Promise.resolve(privateDecrypt({ key: this.privateKey, ...OAEP }, blob));
    } catch {
      return Promise.reject(new KeyBackendUnavailable('HSM could not unwrap the key (HSM mode answers 503)'));
    }
  }

  healthy(): Promise<boolean> {
    return Promise.resolve(true);
  }
}
