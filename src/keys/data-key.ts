/**
 * Pure checks shared by the key services: what a wrapped key and an unwrapped data key may look like.
 * Data keys are 16 bytes in practice (AES-128-CTR); 32 (AES-256-CTR) is accepted too (DESIGN.md §3.1).
 */
export const DATA_KEY_LENGTHS: ReadonlySet<number> = new Set([16, 32]);

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict standard base64 (padding required): Node's decoder silently skips junk, which would hide garbling. */
export function decodeStrictBase64(text: string): Buffer | undefined {
  if (text.length === 0 || !BASE64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

/** A base64 data key of an allowed length, or undefined. */
export function decodeDataKey(text: unknown): Buffer | undefined {
  if (typeof text !== 'string') return undefined;
  const key = decodeStrictBase64(text);
  return key !== undefined && DATA_KEY_LENGTHS.has(key.length) ? key : undefined;
}

/** The cache key of a wrapped key: the pair (keyEncryptionKeyId, encryptedEncryptionKey), DESIGN.md §3.2. */
export function wrappedKeyId(key: { keyEncryptionKeyId: string; encryptedEncryptionKey: string }): string {
  return `${key.keyEncryptionKeyId}\u0000${key.encryptedEncryptionKey}`;
}
