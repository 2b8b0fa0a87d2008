import {
  DecryptCommand, DescribeKeyCommand, GenerateDataKeyCommand, KMSClient, type KMSClientConfig,
} from '@aws-sdk/client-kms';
import { toError } from '../../shared/errors.js';
import { decodeStrictBase64 } from '../../keys/data-key.js';
import { KeyBackendUnavailable, KeyNotUnwrappable, type DataKeyBackend } from './data-keys.js';

/**
 * The local DKS's KMS-backed mode: data keys from KMS GenerateDataKey (AES_128), wrapped key = base64 of
 * the CiphertextBlob, key-encryption key id = the KMS key's ARN (its plain id is accepted on decrypt too).
 */
export function createKmsClient(options: { endpoint?: string; region: string; credentials?: KMSClientConfig['credentials'] }): KMSClient {
  return new KMSClient({
    region: options.region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    maxAttempts: 2,
  });
}

/** The ciphertext can never be decrypted under the key named. */
const REJECTIONS = new Set(['InvalidCiphertextException', 'IncorrectKeyException', 'NotFoundException', 'InvalidKeyUsageException']);

export class KmsDataKeys implements DataKeyBackend {
  private ids = new Set<string>();
  private arn: string;

  private constructor(private readonly client: KMSClient, keyId: string) {
    this.arn = keyId;
    this.ids.add(keyId);
  }

  /** Resolves the key once, so a wrong id fails at startup rather than on the first request. */
  static async open(client: KMSClient, keyId: string): Promise<KmsDataKeys> {
    const keys = new KmsDataKeys(client, keyId);
    const described = await client.send(new DescribeKeyCommand({ KeyId: keyId }));
    const meta = described.KeyMetadata;
    if (meta?.Arn) keys.arn = meta.Arn;
    for (const id of [meta?.Arn, meta?.KeyId]) if (id) keys.ids.add(id);
    return keys;
  }

  get keyArn(): string {
    return this.arn;
  }

  owns(keyId: string): boolean {
    return this.ids.has(keyId);
  }

  async generate(): Promise<{ keyId: string; plaintext: Buffer; ciphertext: string }> {
    let answer;
    try {
      answer = await this.client.send(new GenerateDataKeyCommand({ KeyId: this.arn, KeySpec: 'AES_128' }));
    } catch (e) {
      throw new KeyBackendUnavailable(`KMS GenerateDataKey failed: ${toError(e).name}`, { cause: e });
    }
    if (!answer.Plaintext || !answer.CiphertextBlob) throw new KeyBackendUnavailable('KMS GenerateDataKey returned no key');
    return {
      keyId: answer.KeyId ?? this.arn,
      plaintext: Buffer.from(answer.Plaintext),
      ciphertext: Buffer.from(answer.CiphertextBlob).toString('base64'),
    };
  }

  async decrypt(keyId: string, encryptedEncryptionKey: string): Promise<Buffer> {
    const blob = decodeStrictBase64(encryptedEncryptionKey);
    if (blob === undefined) throw new KeyNotUnwrappable('encrypted key is not base64');
    try {
      const answer = await this.client.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: keyId }));
      if (!answer.Plaintext) throw new KeyBackendUnavailable('KMS Decrypt returned no plaintext');
      return Buffer.from(answer.Plaintext);
    } catch (e) {
      const error = toError(e);
      if (error instanceof KeyBackendUnavailable) throw error;
      if (REJECTIONS.has(error.name)) throw new KeyNotUnwrappable(`KMS refused the key: ${error.name}`, { cause: e });
      throw new KeyBackendUnavailable(`KMS Decrypt failed: ${error.name}`, { cause: e });
    }
  }

  async healthy(): Promise<boolean> {
    try {
      await this.client.send(new DescribeKeyCommand({ KeyId: this.arn }), { abortSignal: AbortSignal.timeout(2_000) });
      return true;
    } catch {
      return false;
    }
  }
}
