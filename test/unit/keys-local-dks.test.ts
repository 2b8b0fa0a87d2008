import { describe, expect, it } from 'vitest';
import { standaloneWrap } from '../../src/contracts/standalone-keys.js';
import { KeyNotUnwrappable, StandaloneDataKeys } from '../../src/local/dks/data-keys.js';
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

  it.each([['not base64', '***'], ['too short', Buffer.alloc(12).toString('base64')], ['empty', '']])('refuses a garbled key (%s)', async (_, wrapped) => {
    await expect(keys.decrypt('STANDALONE', wrapped)).rejects.toBeInstanceOf(KeyNotUnwrappable);
  });
});

describe('local DKS fault settings', () => {
  it('fills omitted fields with "off", so each POST states the whole setting', () => {
    expect(parseFaults({ failRate: 1 })).toEqual({ ...NO_FAULTS, failRate: 1 });
    expect(parseFaults({})).toEqual(NO_FAULTS);
  });

  it.each([
    [{ failRate: 2 }, /failRate/], [{ failStatus: 200 }, /failStatus/], [{ delayMs: -1 }, /delayMs/],
    [{ rejectKeys: [1] }, /rejectKeys/], [{ down: 'yes' }, /down/], [{ surprise: true }, /unknown fields: surprise/], [[], /object/],
  ])('refuses %j', (body, message) => {
    expect(parseFaults(body)).toMatch(message);
  });
});
