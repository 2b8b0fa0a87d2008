import { isUtf8 } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { buildEnvelope, parseEnvelope, RecordError, type ParsedEnvelope } from '../../src/contracts/envelope.js';
import { scanEnvelope } from '../../src/step/envelope-scan.js';
import { prng } from '../support/prng.js';

/** An envelope's fields as plain data (the scanner's `id` is a getter, and it keeps the bytes). */
function fieldsOf(envelope: ParsedEnvelope | undefined): object | undefined {
  if (envelope === undefined) return undefined;
  const { id, recordType, ciphertext, iv, keyEncryptionKeyId, encryptedEncryptionKey } = envelope;
  return { id, recordType, ciphertext, iv, keyEncryptionKeyId, encryptedEncryptionKey };
}

/** parseEnvelope's verdict (JSON.parse): the fields, or the reason it refuses. */
function reference(bytes: Buffer): object | string {
  try {
    return fieldsOf(parseEnvelope(bytes))!;
  } catch (error) {
    if (error instanceof RecordError) return error.reason;
    throw error;
  }
}

const IDS: unknown[] = [{ $oid: '5f1c0a' }, 'plain-id', 42, { b: 1, a: [true, null, 'Zoë'] }];

function envelope(r: () => number, k: number): string {
  const ciphertext = Buffer.alloc(1 + Math.floor(r() * 300), k);
  for (let i = 0; i < ciphertext.length; i += 1) ciphertext[i] = Math.floor(r() * 256);
  const text = JSON.stringify(buildEnvelope({
    id: IDS[k % IDS.length], db: k % 5 === 0 ? 'córe' : 'core', collection: 'addresses', lastModifiedMs: 1_700_000_000_000 + k,
    traceId: `t${k}`, unitOfWorkId: `u${k}`, ciphertext, iv: Buffer.alloc(16, k), keyEncryptionKeyId: `cloudhsm:${k % 7},${k % 3}`,
    encryptedEncryptionKey: Buffer.alloc(48, k + 1).toString('base64'),
  }));
  return k % 3 === 0 ? JSON.stringify(JSON.parse(text), null, 2) : text;
}

/** Edits that reach the scanner's corners: escapes, duplicates, types, base64 alphabets and padding, JSON bytes. */
const EDITS: ((text: string, r: () => number) => string)[] = [
  (t) => t.replace('"db":', '"db":"x","db":'),
  (t) => t.replace('"message":', '"message":{},"message":'),
  (t) => t.replace('"addresses"', '"addr\\u0065sses"'),
  (t) => t.replace('"keyEncryptionKeyId":"', '"keyEncryptionKeyId":"\\"'),
  (t) => t.replace('"db":"core"', '"db":7'),
  (t) => t.replace('"@type":"MONGO_UPDATE"', '"@type":["x"]'),
  (t) => t.replace('"_id":', '"_i\\u0064":'),
  (t) => t.replace(/"dbObject":\s*"/, '$&-'),
  (t) => t.replace(/"dbObject":\s*"(.)/, '"dbObject":"$1 '),
  (t) => t.replace(/"dbObject":\s*"(....)/, '"dbObject":"$1===='),
  (t) => t.replace(/("dbObject":\s*"[^"]*)"/, '$1="'),
  (t) => t.replace(/("dbObject":\s*"[^"]*?)=*"/, '$1_"'),
  (t) => t.replace(/("initialisationVector":\s*")[^"]*"/, '$1AAAA"'),
  (t) => t.replace(/("initialisationVector":\s*")([^"]*)"/, '$1$2\\n"'),
  (t) => t.replace(/"encryptedEncryptionKey":\s*"[^"]*"/, '"encryptedEncryptionKey":""'),
  (t) => t.replace(/,\s*"encryption":/, ',"x":{"encryption":1},"encryption":'),
  (t) => t.replace('{', '{"message":null,'),
  (t) => `\ufeff${t}`,
  (t) => `${t} x`,
  (t) => ` \n${t}\t`,
  (t, r) => { const at = Math.floor(r() * t.length); return t.slice(0, at) + t.slice(at + 1); },
  (t, r) => { const at = Math.floor(r() * t.length); return t.slice(0, at) + '"{}[],:\\ \u0001é'[Math.floor(r() * 12)] + t.slice(at); },
  (t, r) => { const at = Math.floor(r() * t.length); return t.slice(0, at) + t.slice(at, at + 1).repeat(2) + t.slice(at + 1); },
];

describe('scanEnvelope', () => {
  it('hands out the right text for values that differ only where its text cache does not look', () => {
    // Same length and one base; each differs from the others in one byte. Reused strings must be exact.
    const base = Buffer.alloc(240, 'QUJD').toString('latin1');
    const r = prng(7);
    for (let k = 0; k < 400; k += 1) {
      const at = Math.floor(r() * base.length);
      const wrapped = `${base.slice(0, at)}${'xyz'[k % 3]}${base.slice(at + 1)}`;
      const keyId = `cloudhsm:1,${[2, 3, 20, 30, 4, 5][k % 6]}`;
      const bytes = Buffer.from(JSON.stringify(buildEnvelope({
        id: { k }, db: 'core', collection: 'addresses', lastModifiedMs: 1, traceId: 't', unitOfWorkId: 'u', ciphertext: Buffer.alloc(8, k), iv: Buffer.alloc(16, 1),
        keyEncryptionKeyId: keyId, encryptedEncryptionKey: wrapped,
      })));
      expect(scanEnvelope(bytes)).toMatchObject({ encryptedEncryptionKey: wrapped, keyEncryptionKeyId: keyId });
    }
  });

  it('takes the fast path for the envelopes the ingest pipeline writes, with parseEnvelope\'s fields', () => {
    const r = prng(1);
    for (let k = 0; k < 200; k += 1) {
      const bytes = Buffer.from(envelope(r, k));
      const scanned = scanEnvelope(bytes);
      expect(scanned, `envelope ${k}`).toBeDefined();
      expect(fieldsOf(scanned)).toEqual(reference(bytes));
    }
  });

  it('agrees with parseEnvelope on 60,000 mutated envelopes: the same fields, or it leaves the record to parseEnvelope', () => {
    const r = prng(7);
    let scanned = 0;
    let fellBack = 0;
    for (let n = 0; n < 60_000; n += 1) {
      let text = envelope(r, n);
      for (let e = 1 + Math.floor(r() * 2); e > 0; e -= 1) text = EDITS[Math.floor(r() * EDITS.length)]!(text, r);
      const bytes = Buffer.from(text);
      if (!isUtf8(bytes)) continue;
      const fast = scanEnvelope(bytes);
      if (fast === undefined) {
        fellBack += 1;
        continue;
      }
      scanned += 1;
      const want = reference(bytes);
      expect(typeof want === 'string' ? `refused: ${want}` : want, text).toEqual(fieldsOf(fast));
    }
    // Both paths are exercised: a scanner that always gave up, or never did, would not be tested here.
    expect(scanned).toBeGreaterThan(5_000);
    expect(fellBack).toBeGreaterThan(5_000);
  });

  it('leaves every unusual shape to parseEnvelope (escapes, duplicates, URL-safe or inner-padded base64)', () => {
    const base = envelope(prng(3), 1);
    for (const [k, edit] of EDITS.slice(0, 12).entries()) {
      const text = edit(base, prng(4));
      expect(text).not.toBe(base);
      // Fields the step does not read (db, collection) may be anything; an @type of another JSON type is plain
      // enough: the scanner defaults it as parseEnvelope does.
      if ([0, 2, 4, 5].includes(k)) expect(fieldsOf(scanEnvelope(Buffer.from(text)))).toEqual(reference(Buffer.from(text)));
      else expect(scanEnvelope(Buffer.from(text)), text.slice(0, 120)).toBeUndefined();
    }
  });
});
