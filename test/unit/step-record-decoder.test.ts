import { describe, expect, it } from 'vitest';
import { aesCtrEncrypt } from '../../src/contracts/aes-ctr.js';
import { buildEnvelope, type QuarantineReason } from '../../src/contracts/envelope.js';
import { idJsonOf, printableRowKey, rowKeyOf } from '../../src/contracts/row-key.js';
import { KeyRejectedError, KeyServiceUnavailableError } from '../../src/keys/errors.js';
import { CachingKeyService } from '../../src/keys/key-cache.js';
import { checkWrappedKey } from '../../src/keys/wrapped-key.js';
import type { Cell, KeyService, WrappedKey } from '../../src/step/ports.js';
import { decodeBatch } from '../../src/step/record-decoder.js';

const KEY16 = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const KEY32 = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const WRAPPED: Record<string, Buffer> = { k16: KEY16, k32: KEY32, k24: Buffer.alloc(24, 7) };

/** Answers from a table; counts calls; `down` makes every call a service-wide failure. */
class TableKeys implements KeyService {
  calls: string[] = [];
  down = false;
  unwrap(key: WrappedKey): Promise<Buffer> {
    this.calls.push(key.encryptedEncryptionKey);
    if (this.down) return Promise.reject(new KeyServiceUnavailableError('DKS unavailable after retries'));
    const found = WRAPPED[key.encryptedEncryptionKey];
    return found ? Promise.resolve(found) : Promise.reject(new KeyRejectedError('DKS answered 400'));
  }
}

interface CellSpec {
  id?: unknown;
  plaintext?: string | Buffer;
  key?: Buffer;
  wrapped?: string;
  iv?: Buffer;
  timestamp?: number;
  rowKey?: Buffer;
  edit?: (envelope: Record<string, unknown> & { message: Record<string, unknown> }) => void;
  value?: Buffer;
}

let n = 0;
function cell(spec: CellSpec = {}): Cell {
  n += 1;
  const id = spec.id ?? { declarationId: `d-${n}`, sequence: n };
  const iv = spec.iv ?? Buffer.alloc(16, n % 251);
  const plaintext = spec.plaintext ?? JSON.stringify({ _id: id, n, text: 'Zoë — “ok” ✓'.repeat(1 + (n % 50)) });
  const envelope = buildEnvelope({
    id, db: 'core', collection: 'addresses', lastModifiedMs: spec.timestamp ?? 1_700_000_000_000 + n, traceId: 't', unitOfWorkId: 'u',
    ciphertext: aesCtrEncrypt(spec.key ?? KEY16, iv, typeof plaintext === 'string' ? Buffer.from(plaintext) : plaintext), iv,
    keyEncryptionKeyId: 'cloudhsm:1,2', encryptedEncryptionKey: spec.wrapped ?? 'k16',
  }) as unknown as Record<string, unknown> & { message: Record<string, unknown> };
  spec.edit?.(envelope);
  return {
    rowKey: spec.rowKey ?? rowKeyOf(idJsonOf(id)),
    timestamp: spec.timestamp ?? 1_700_000_000_000 + n,
    value: spec.value ?? Buffer.from(JSON.stringify(envelope)),
  };
}

const context = (keys: KeyService) => ({ db: 'core', collection: 'addresses', correlationId: 'c-1', keys });

async function reasonOf(c: Cell): Promise<QuarantineReason | 'decoded'> {
  const batch = await decodeBatch([c], context(new TableKeys()));
  return batch.rows.length === 1 ? 'decoded' : batch.quarantined[0]!.reason;
}

describe('decodeBatch', () => {
  it('decrypts every record of a batch to its exact source text, with 16- and 32-byte keys mixed', async () => {
    const texts = Array.from({ length: 40 }, (_, i) => JSON.stringify({ i, body: 'x'.repeat(i * 37), welsh: 'Siân ŵ ŷ' }));
    const cells = texts.map((plaintext, i) => cell({ plaintext, ...(i % 3 === 0 ? { key: KEY32, wrapped: 'k32' } : {}) }));
    const batch = await decodeBatch(cells, context(new TableKeys()));
    expect(batch.quarantined).toEqual([]);
    expect(batch.rows.map((r) => r.record)).toEqual(texts);
    // `record` is decoded on demand from the bytes (a getter), so it is read explicitly.
    const { recordUtf8, ...fields } = batch.rows[0]!;
    const first = { ...fields, record: batch.rows[0]!.record };
    expect(Buffer.from(recordUtf8!).toString('utf8')).toBe(texts[0]);
    expect(first).toEqual({
      id: idJsonOf(JSON.parse(cells[0]!.value.toString()).message._id),
      timestamp: cells[0]!.timestamp,
      record: texts[0],
      db: 'core',
      collection: 'addresses',
      rowKey: printableRowKey(cells[0]!.rowKey),
      recordType: 'MONGO_UPDATE',
    });
    expect(batch.bytesIn).toBe(cells.reduce((sum, c) => sum + c.value.length, 0));
    expect(batch.keyLookups).toBe(40);
    expect(batch.maxTimestamp).toBe(Math.max(...cells.map((c) => c.timestamp)));
  });

  it('hands over each record\'s UTF-8 bytes until released, then zeroes them', async () => {
    const texts = ['{"a":"Siân"}', '\ufeff{"bom":true}', '[1,2,3]'];
    const batch = await decodeBatch(texts.map((plaintext) => cell({ plaintext })), context(new TableKeys()));
    // A leading byte-order mark is not part of the text (TextDecoder drops it), so not of the bytes either.
    expect(batch.rows.map((r) => r.record)).toEqual(['{"a":"Siân"}', '{"bom":true}', '[1,2,3]']);
    expect(batch.rows.map((r) => Buffer.from(r.recordUtf8!).toString('utf8'))).toEqual(batch.rows.map((r) => r.record));
    batch.release();
    expect(batch.rows.every((r) => r.recordUtf8!.every((b) => b === 0))).toBe(true);
  });

  it('asks the key service once per distinct wrapped key in a batch', async () => {
    const keys = new TableKeys();
    const cells = Array.from({ length: 30 }, (_, i) => cell(i % 2 === 0 ? {} : { key: KEY32, wrapped: 'k32' }));
    await decodeBatch(cells, context(keys));
    expect(keys.calls.sort()).toEqual(['k16', 'k32']);
  });

  it('follows the counter across 32-bit and 128-bit carries (AES-CTR as OpenSSL does it)', async () => {
    const long = JSON.stringify({ body: 'y'.repeat(1000) });
    const ivs = [
      Buffer.from('0000000000000000000000fffffffffe', 'hex'),
      Buffer.from('00000000000000000000000000ffffff', 'hex'),
      Buffer.from('ffffffffffffffffffffffffffffffff', 'hex'),
      Buffer.from('0102030405060708ffffffffffffffff', 'hex'),
    ];
    const batch = await decodeBatch(ivs.map((iv) => cell({ iv, plaintext: long })), context(new TableKeys()));
    expect(batch.quarantined).toEqual([]);
    expect(batch.rows.map((r) => r.record)).toEqual(ivs.map(() => long));
  });

  it('keeps rows and quarantined records in cell order, quarantined ones still encrypted with the reason', async () => {
    const bad = cell({ wrapped: 'unknown' });
    const cells = [cell(), bad, cell(), cell({ plaintext: 'not json' }), cell()];
    const batch = await decodeBatch(cells, context(new TableKeys()));
    expect(batch.rows.map((r) => r.rowKey)).toEqual([0, 2, 4].map((i) => printableRowKey(cells[i]!.rowKey)));
    expect(batch.quarantined.map((q) => [q.reason, q.rowKey])).toEqual([['unknown-data-key', bad.rowKey], ['not-json', cells[3]!.rowKey]]);
    expect(batch.quarantined[0]!.value).toEqual(bad.value);
    expect(batch.quarantined[0]!.timestamp).toBe(bad.timestamp);
    // Copies, not views: the cells' memory may be reused for the scan's next response.
    const [value, rowKey] = [Buffer.from(bad.value), Buffer.from(bad.rowKey)];
    bad.value.fill(0);
    bad.rowKey.fill(0);
    expect([batch.quarantined[0]!.value, batch.quarantined[0]!.rowKey]).toEqual([value, rowKey]);
    expect(batch.quarantined[0]!.detail).toMatch(/refused the data key/);
  });

  it.each<[string, CellSpec, QuarantineReason | 'decoded']>([
    ['an empty cell', { value: Buffer.alloc(0) }, 'empty-value'],
    ['an envelope that is not JSON', { value: Buffer.from('{"message":') }, 'malformed-envelope'],
    ['an envelope without message', { value: Buffer.from('{"traceId":"t"}') }, 'missing-field'],
    ['a message without _id', { edit: (e) => { delete e.message._id; } }, 'missing-field'],
    ['a message without dbObject', { edit: (e) => { delete e.message.dbObject; } }, 'missing-field'],
    ['an empty dbObject', { edit: (e) => { e.message.dbObject = ''; } }, 'missing-field'],
    ['dbObject with URL-safe base64 characters', { edit: (e) => { e.message.dbObject = 'AB-_'; } }, 'bad-base64'],
    ['dbObject with padding inside', { edit: (e) => { e.message.dbObject = 'AB=DEFGH'; } }, 'bad-base64'],
    ['dbObject with whitespace', { edit: (e) => { e.message.dbObject = 'ABCD EFG'; } }, 'bad-base64'],
    ['dbObject whose length is not a multiple of 4', { edit: (e) => { e.message.dbObject = 'ABCDE'; } }, 'bad-base64'],
    ['an IV that is not 16 bytes', { edit: (e) => { (e.message.encryption as Record<string, string>).initialisationVector = 'AAAA'; } }, 'bad-iv-length'],
    ['a row key whose CRC does not match', { rowKey: Buffer.concat([Buffer.from([0, 0, 0, 0]), Buffer.from('{"id":"1"}')]) }, 'row-key-mismatch'],
    ['a row key shorter than its CRC', { rowKey: Buffer.from([1, 2]) }, 'row-key-mismatch'],
    ['a row key of another id', { rowKey: rowKeyOf('{"id":"other"}') }, 'row-key-mismatch'],
    ['an _id that is an array', { id: [1], rowKey: rowKeyOf('{"id":"1"}') }, 'malformed-envelope'],
    ['a key the service refuses', { wrapped: 'unknown' }, 'unknown-data-key'],
    ['a data key of 24 bytes', { wrapped: 'k24' }, 'bad-data-key'],
    ['a document that is not UTF-8', { plaintext: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }, 'not-utf8'],
    ['a document that is not JSON', { plaintext: '{"truncated": ' }, 'not-json'],
    // Issue 16.6: decoding would turn the bad bytes into U+FFFD, and two different _ids could become one.
    ['an envelope that is not UTF-8', { value: Buffer.from('{"message":{"_id":"a\xff"}}', 'latin1') }, 'malformed-envelope'],
    ['an envelope whose fields use JSON escapes (read by JSON.parse)', { edit: (e) => { e.message.db = 'co\u0072e\n'; } }, 'decoded'],
    ['a string _id', { id: 'abc' }, 'decoded'],
    ['a one-byte document', { plaintext: '1' }, 'decoded'],
  ])('quarantines %s with the reason %s', async (_name, spec, expected) => {
    expect(await reasonOf(cell(spec))).toBe(expected);
  });

  it('quarantines a record larger than maxRecordBytes as too-large, before parsing it, still encrypted', async () => {
    const big = cell({ plaintext: JSON.stringify({ padding: 'x'.repeat(5_000) }) });
    const small = cell();
    const limit = small.value.length;
    const batch = await decodeBatch([small, big], { ...context(new TableKeys()), maxRecordBytes: limit });
    expect(batch.rows).toHaveLength(1);
    expect(batch.quarantined.map((q) => [q.reason, q.value])).toEqual([['too-large', big.value]]);
    expect(batch.quarantined[0]!.detail).toContain(`more than the ${limit} allowed`);
    expect((await decodeBatch([big], context(new TableKeys()))).rows).toHaveLength(1);
  });

  it('accepts base64 with non-zero trailing bits, as the strict check always did', async () => {
    // 4 bytes encode as 6 characters + "==": the 6th carries 2 data bits and 4 zero bits. Setting one of
    // those bits gives valid characters and padding that decode to the same bytes: not canonical, not bad.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const plain = Buffer.from('"ab"');
    const iv = Buffer.alloc(16, 9);
    const ciphertext = aesCtrEncrypt(KEY16, iv, plain);
    const canonical = ciphertext.toString('base64');
    expect(canonical).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    const altered = `${canonical.slice(0, 5)}${alphabet[alphabet.indexOf(canonical[5]!) + 1]}==`;
    expect(altered).not.toBe(canonical);
    expect(Buffer.from(altered, 'base64')).toEqual(ciphertext);
    const c = cell({ plaintext: plain, iv, edit: (e) => { e.message.dbObject = altered; } });
    expect(await reasonOf(c)).toBe('decoded');
  });

  it('fails the whole batch, quarantining nothing, when the key service is down', async () => {
    const keys = new TableKeys();
    keys.down = true;
    await expect(decodeBatch([cell(), cell()], context(keys))).rejects.toBeInstanceOf(KeyServiceUnavailableError);
  });
});

describe('decodeBatch with the key service\'s own reasons', () => {
  /** The real DKS's STANDALONE mode in miniature: garbled → 500 (transient), a key it keeps failing on → 500. */
  class StandaloneLike implements KeyService {
    calls: string[] = [];
    unwrap(key: WrappedKey): Promise<Buffer> {
      this.calls.push(key.encryptedEncryptionKey);
      const malformed = checkWrappedKey(key);
      if (malformed) return Promise.reject(malformed);
      if (key.encryptedEncryptionKey === HSM_BROKEN) return Promise.reject(new KeyServiceUnavailableError('DKS answered 500 after 5 attempts'));
      return Promise.resolve(Buffer.from(key.encryptedEncryptionKey, 'base64').reverse());
    }
  }
  const HSM_BROKEN = Buffer.alloc(256, 1).toString('base64');
  const good = { key: KEY16, wrapped: Buffer.from(KEY16).reverse().toString('base64') };

  it.each<[string, CellSpec, QuarantineReason]>([
    ['a wrapped key that is not base64', { wrapped: '%%%garbled%%%' }, 'wrapped-key-malformed'],
    ['a wrapped key of 8 bytes', { wrapped: Buffer.alloc(8).toString('base64') }, 'wrapped-key-malformed'],
    ['a key id with a newline', { edit: (e) => { (e.message.encryption as Record<string, string>).keyEncryptionKeyId = 'STANDALONE\n'; } }, 'key-id-malformed'],
    ['a key DKS keeps failing on while others unwrap', { wrapped: HSM_BROKEN }, 'key-unwrap-failed'],
  ])('quarantines the records of %s (reason %s) and decrypts the others', async (_name, spec, reason) => {
    const inner = new StandaloneLike();
    const keys = new CachingKeyService(inner);
    // The good key first, so DKS is known to work when the bad one gives up.
    await keys.unwrap({ keyEncryptionKeyId: 'cloudhsm:1,2', encryptedEncryptionKey: good.wrapped }, 'c');
    const bad = [cell(spec), cell(spec)];
    const cells = [cell(good), bad[0]!, cell(good), bad[1]!];
    const batch = await decodeBatch(cells, context(keys));
    expect(batch.rows).toHaveLength(2);
    expect(batch.quarantined.map((q) => [q.reason, q.rowKey])).toEqual(bad.map((b) => [reason, b.rowKey]));
    expect(batch.quarantined[0]!.value).toEqual(bad[0]!.value);
    expect(batch.quarantined[0]!.detail).toMatch(/refused the data key/);
  });

  it('quarantines a failing key even when it is the first to give up in the batch', async () => {
    const keys = new CachingKeyService(new StandaloneLike());
    const batch = await decodeBatch([cell({ wrapped: HSM_BROKEN }), cell(good)], context(keys));
    expect(batch.rows).toHaveLength(1);
    expect(batch.quarantined.map((q) => q.reason)).toEqual(['key-unwrap-failed']);
  });

  it('fails the batch when no key unwraps at all (DKS down), quarantining nothing', async () => {
    const keys = new CachingKeyService(new StandaloneLike());
    await expect(decodeBatch([cell({ wrapped: HSM_BROKEN }), cell({ wrapped: HSM_BROKEN })], context(keys))).rejects.toBeInstanceOf(KeyServiceUnavailableError);
  });
});
