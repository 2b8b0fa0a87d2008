import { describe, expect, it } from 'vitest';
import { standaloneWrap } from '../../src/contracts/standalone-keys.js';
import { KeyBackendCrashed, KeyBackendUnavailable, StandaloneDataKeys } from '../../src/local/dks/data-keys.js';
import { HSM_KEY_ID, HsmDataKeys } from '../../src/local/dks/hsm-keys.js';
import { NO_FAULTS, parseFaults } from '../../src/local/dks/faults.js';

describe('local DKS STANDALONE keys', () => {
  const keys = new StandaloneDataKeys();

  it('generates 16-byte keys wrapped as their reversed bytes in base64', async () => {
    const { keyId, plaintext, ciphertext } = await keys.generate();
    expect(keyId).toBe('STANDALONE');
    expect(plaintext).toHaveLength(16);
    expect(Buffer.from(ciphertext, 'base64')).toEqual(Buffer.from(plaintext).reverse());
  });

  it('unwraps fixtures made for the real DKS, 16 or 32 bytes', async () => {
    const k32 = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
    expect(await keys.decrypt('STANDALONE', standaloneWrap(k32))).toEqual(k32);
  });

  it.each([['not base64', '***'], ['unpadded', 'AAAA'.repeat(4).slice(0, -1)], ['empty', '']])('crashes on a garbled key (%s), as the real one does (→ 500)', async (_, wrapped) => {
    await expect(keys.decrypt('STANDALONE', wrapped)).rejects.toBeInstanceOf(KeyBackendCrashed);
  });

  it.each([1, 12, 24, 100])('"unwraps" valid base64 of %i bytes to that many bytes, reversed (→ 200)', async (bytes) => {
    const wrapped = Buffer.from(Array.from({ length: bytes }, (_, i) => i));
    expect(await keys.decrypt('STANDALONE', wrapped.toString('base64'))).toEqual(Buffer.from(wrapped).reverse());
  });
});

describe('local DKS emulated HSM keys', () => {
  const hsm = new HsmDataKeys();

  it('wraps 16-byte keys with RSA-OAEP (256 bytes) under a cloudhsm: key id, and unwraps them back', async () => {
    const { keyId, plaintext, ciphertext } = await hsm.generate();
    expect(keyId).toBe(HSM_KEY_ID);
    expect(Buffer.from(ciphertext, 'base64')).toHaveLength(256);
    expect(await hsm.decrypt(keyId, ciphertext)).toEqual(plaintext);
    expect(hsm.owns('cloudhsm:junk') && !hsm.owns('STANDALONE')).toBe(true);
  });

  it('never answers 400: malformed key id → 503, garbled key → 500, corrupt ciphertext → 503', async () => {
    const { ciphertext } = await hsm.generate();
    await expect(hsm.decrypt('cloudhsm:x', ciphertext)).rejects.toBeInstanceOf(KeyBackendUnavailable);
    await expect(hsm.decrypt('cloudhsm:1,2', ciphertext)).rejects.toBeInstanceOf(KeyBackendUnavailable);
    await expect(hsm.decrypt(HSM_KEY_ID, '%%%')).rejects.toBeInstanceOf(KeyBackendCrashed);
    await expect(hsm.decrypt(HSM_KEY_ID, Buffer.alloc(256, 1).toString('base64'))).rejects.toBeInstanceOf(KeyBackendUnavailable);
  });
});

describe('local DKS fault settings', () => {
  it('fills omitted fields with "off", so each POST states the whole setting', () => {
    expect(parseFaults({ failRate: 1 })).toEqual({ ...NO_FAULTS, failRate: 1 });
    expect(parseFaults({})).toEqual(NO_FAULTS);
  });

  it.each([
    [{ failRate: 2 }, /failRate/], [{ failStatus: 200 }, /failStatus/], [{ delayMs: -1 }, /delayMs/],
    [{ rejectKeys: [1] }, /rejectKeys/], [{ failKeys: 'k' }, /failKeys/], [{ down: 'yes' }, /down/], [{ surprise: true }, /unknown fields: surprise/], [[], /object/],
  ])('refuses %j', (body, message) => {
    expect(parseFaults(body)).toMatch(message);
  });
});
