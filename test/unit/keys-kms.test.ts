import type { KMSClient } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { KmsKeyService } from '../../src/keys/kms-adapter.js';
import { KeyRejectedError, KeyServiceAccessError, KeyServiceUnavailableError } from '../../src/keys/errors.js';

/** A stand-in for KMSClient.send: answers from a script and records each command's input. */
function fakeKms(answers: (input: Record<string, unknown>, n: number) => unknown): { client: KMSClient; inputs: Record<string, unknown>[] } {
  const inputs: Record<string, unknown>[] = [];
  const client = {
    send: async (command: { input: Record<string, unknown> }) => {
      inputs.push(command.input);
      const answer = answers(command.input, inputs.length);
      if (answer instanceof Error) throw answer;
      return answer;
    },
  } as unknown as KMSClient;
  return { client, inputs };
}

const named = (name: string): Error => Object.assign(new Error(name), { name });
const blob = Buffer.from('kms ciphertext blob').toString('base64');
const wrapped = { keyEncryptionKeyId: 'arn:aws:kms:eu-west-2:123456789012:key/k1', encryptedEncryptionKey: blob };
const fast = { baseDelayMs: 1, maxDelayMs: 2 };

describe('KmsKeyService', () => {
  it('decrypts the base64 CiphertextBlob under the key named by keyEncryptionKeyId', async () => {
    const key = Buffer.alloc(16, 9);
    const { client, inputs } = fakeKms(() => ({ Plaintext: new Uint8Array(key) }));
    const service = new KmsKeyService({ client, ...fast });
    expect((await service.unwrap(wrapped, 'c1')).equals(key)).toBe(true);
    expect(inputs[0]).toMatchObject({ KeyId: wrapped.keyEncryptionKeyId });
    expect(Buffer.from(inputs[0]!.CiphertextBlob as Uint8Array).toString()).toBe('kms ciphertext blob');
  });

  it.each(['InvalidCiphertextException', 'IncorrectKeyException', 'NotFoundException'])('rejects the key for good on %s, without retrying', async (name) => {
    const { client, inputs } = fakeKms(() => named(name));
    await expect(new KmsKeyService({ client, ...fast }).unwrap(wrapped, 'c1')).rejects.toBeInstanceOf(KeyRejectedError);
    expect(inputs).toHaveLength(1);
  });

  it('rejects a wrapped key that is not base64 without calling KMS', async () => {
    const { client, inputs } = fakeKms(() => ({}));
    await expect(new KmsKeyService({ client }).unwrap({ ...wrapped, encryptedEncryptionKey: '%%%' }, 'c')).rejects.toBeInstanceOf(KeyRejectedError);
    expect(inputs).toHaveLength(0);
  });

  it('reports access problems as service-wide, not as a bad key', async () => {
    const { client } = fakeKms(() => named('AccessDeniedException'));
    await expect(new KmsKeyService({ client, ...fast }).unwrap(wrapped, 'c')).rejects.toBeInstanceOf(KeyServiceAccessError);
  });

  it('retries throttling and succeeds within the bound', async () => {
    const { client, inputs } = fakeKms((_, n) => (n < 3 ? named('ThrottlingException') : { Plaintext: new Uint8Array(32) }));
    const service = new KmsKeyService({ client, ...fast });
    await expect(service.unwrap(wrapped, 'c')).resolves.toHaveLength(32);
    expect(inputs).toHaveLength(3);
    expect(service.stats()).toMatchObject({ calls: 1, retries: 2 });
  });

  it('gives up after maxAttempts with an unavailable error counting them', async () => {
    const { client, inputs } = fakeKms(() => named('KMSInternalException'));
    const error = await new KmsKeyService({ client, ...fast, maxAttempts: 3 }).unwrap(wrapped, 'c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyServiceUnavailableError);
    expect((error as KeyServiceUnavailableError).context.attempts).toBe(3);
    expect(inputs).toHaveLength(3);
  });

  it('tries 5 times by default (KMS_RETRY)', async () => {
    const { client, inputs } = fakeKms(() => named('KMSInternalException'));
    const error = await new KmsKeyService({ client, ...fast }).unwrap(wrapped, 'c').catch((e: unknown) => e);
    expect((error as Error).message).toBe('KMS failed to decrypt a data key after 5 attempts: KMS decrypt failed (KMSInternalException): KMSInternalException');
    expect(inputs).toHaveLength(5);
  });

  it('refuses a plaintext that is not a data key length', async () => {
    const { client } = fakeKms(() => ({ Plaintext: new Uint8Array(20) }));
    await expect(new KmsKeyService({ client }).unwrap(wrapped, 'c')).rejects.toThrow(/20 bytes/);
  });
});
