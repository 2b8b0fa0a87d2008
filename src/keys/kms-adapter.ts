import { DecryptCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { KeyService, KeyServiceStats, WrappedKey } from '../step/ports.js';
import { TransientError, isRetryable, toError } from '../shared/errors.js';
import { retryPolicy, withRetry, type RetryPolicy } from '../shared/retry.js';
import { DATA_KEY_LENGTHS, decodeStrictBase64 } from './data-key.js';
import { KeyRejectedError, KeyServiceAccessError, KeyServiceUnavailableError } from './errors.js';
import { checkWrappedKey } from './wrapped-key.js';

/**
 * Data keys wrapped by KMS directly (deployments without DKS): `encryptedEncryptionKey` is the base64
 * CiphertextBlob and `keyEncryptionKeyId` the KMS key id or ARN it must have been made with.
 * The client is built elsewhere and injected; its own SDK retries run inside each of our attempts.
 */
export interface KmsKeyServiceOptions {
  readonly client: KMSClient;
  /** Attempts per decrypt, the first included. Default 5. */
  readonly maxAttempts?: number;
  /** Default 100 ms. */
  readonly baseDelayMs?: number;
  /** Default 5 s. */
  readonly maxDelayMs?: number;
}

/** As DKS: 5 attempts, waits of up to 100 ms doubling to 5 s, full jitter. */
export const KMS_RETRY: RetryPolicy = retryPolicy({ maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 5_000, jitter: 'full' });

/** The ciphertext or the key named cannot decrypt: no retry will change that. */
const KEY_REJECTIONS = new Set(['InvalidCiphertextException', 'IncorrectKeyException', 'NotFoundException', 'InvalidKeyUsageException']);
/** Our credentials or the key's state forbid every decrypt: an operator must act. */
const ACCESS_FAILURES = new Set(['AccessDeniedException', 'DisabledException', 'KMSInvalidStateException', 'UnrecognizedClientException', 'InvalidSignatureException']);

export function errorForKmsFailure(error: Error, context: Record<string, string | number>): Error {
  const name = error.name;
  if (KEY_REJECTIONS.has(name)) return new KeyRejectedError(`KMS refused to decrypt the data key (${name})`, { context: { ...context, kmsError: name }, cause: error });
  if (ACCESS_FAILURES.has(name)) return new KeyServiceAccessError(`KMS refused access (${name})`, { context: { ...context, kmsError: name }, cause: error });
  return new TransientError(`KMS decrypt failed (${name}): ${error.message}`, { context: { ...context, kmsError: name }, cause: error });
}

export class KmsKeyService implements KeyService {
  private readonly policy: RetryPolicy;
  private counts = { calls: 0, retries: 0 };

  constructor(private readonly options: KmsKeyServiceOptions) {
    this.policy = retryPolicy(KMS_RETRY, options);
  }

  async unwrap(key: WrappedKey, correlationId: string, signal?: AbortSignal): Promise<Buffer> {
    this.counts.calls += 1;
    const context = { keyEncryptionKeyId: key.keyEncryptionKeyId, correlationId };
    const malformed = checkWrappedKey(key, { correlationId });
    if (malformed !== undefined) throw malformed;
    const blob = decodeStrictBase64(key.encryptedEncryptionKey) as Buffer;
    const plaintext = await withRetry(this.policy, async () => {
      let answer;
      try {
        answer = await this.options.client.send(
          new DecryptCommand({ CiphertextBlob: blob, KeyId: key.keyEncryptionKeyId }),
          signal ? { abortSignal: signal } : {},
        );
      } catch (e) {
        signal?.throwIfAborted();
        throw errorForKmsFailure(toError(e), context);
      }
      return answer.Plaintext;
    }, {
      signal,
      retryable: isRetryable,
      onRetry: () => { this.counts.retries += 1; },
      exhausted: (e, attempts) => new KeyServiceUnavailableError(
        `KMS failed to decrypt a data key after ${attempts} attempts: ${toError(e).message}`,
        { context: { ...context, attempts }, cause: e },
      ),
    });
    if (plaintext === undefined || !DATA_KEY_LENGTHS.has(plaintext.length)) {
      throw new KeyRejectedError(`KMS plaintext is not a data key (${plaintext?.length ?? 0} bytes, want 16 or 32)`, { context, reason: 'bad-data-key' });
    }
    return Buffer.from(plaintext.buffer, plaintext.byteOffset, plaintext.byteLength);
  }

  stats(): KeyServiceStats {
    return { ...this.counts, hits: 0, misses: 0 };
  }
}
