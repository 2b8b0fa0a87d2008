import { aesCtrDecrypt } from '../../../src/contracts/aes-ctr.js';
import type { Envelope, QuarantineReason } from '../../../src/contracts/envelope.js';
import { idJsonOf, rowKeyOf } from '../../../src/contracts/row-key.js';
import type { Cell } from '../../../src/step/ports.js';
import { bigDocument, bytesOf, cellOf, dataKey, envelopeOf, type RecordSpec } from './records.js';

/**
 * Issue 6 "bad input": records as a broken or hostile producer could write them, each with what the step must
 * do with it — quarantine it with a specific reason, publish it intact, or leave it out of this window.
 */
export type Verdict = QuarantineReason | 'published' | 'outside-window';

export interface CorpusEntry {
  readonly name: string;
  readonly cell: Cell;
  readonly verdict: Verdict;
  /** For published entries: the exact text the `record` column must hold. */
  readonly plaintext?: string;
}

type Message = Envelope['message'] & Record<string, unknown>;
type Damage = (e: Envelope & Record<string, unknown>) => unknown;

const KEY = dataKey('reliability-bad');
const OTHER_KEY = dataKey('reliability-bad-other');
const KEY_256 = dataKey('reliability-bad-256', 32);
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** What the step must conclude from a decrypted document: the same rule it applies (UTF-8, then JSON). */
function verdictOf(plaintext: Buffer): Verdict {
  let text: string;
  try {
    text = utf8.decode(plaintext);
  } catch {
    return 'not-utf8';
  }
  try {
    JSON.parse(text);
    return 'published';
  } catch {
    return 'not-json';
  }
}

export function badCorpus(collection: string, baseTimestamp: number): CorpusEntry[] {
  const [db, table] = collection.split(':') as [string, string];
  let n = 0;
  const spec = (plaintext: Buffer | string, extra: Partial<RecordSpec> = {}): RecordSpec => {
    n += 1;
    return {
      id: { id: `bad-${String(n).padStart(3, '0')}` },
      timestamp: baseTimestamp + n * 1000,
      plaintext: Buffer.isBuffer(plaintext) ? plaintext : Buffer.from(plaintext, 'utf8'),
      key: KEY,
      db,
      collection: table,
      ...extra,
    };
  };
  const doc = (): string => JSON.stringify({ _id: { id: `bad-${n + 1}` }, name: 'Siân Müller', note: 'Ymholiad yn Gymraeg ✓' });
  const entry = (name: string, verdict: Verdict, s: RecordSpec, damage?: Damage): CorpusEntry =>
    ({ name, verdict, cell: cellOf(s, damage as ((e: Envelope) => unknown) | undefined) });
  const raw = (name: string, verdict: Verdict, value: Buffer | string): CorpusEntry => {
    const s = spec(doc());
    return { name, verdict, cell: { ...cellOf(s), value: Buffer.isBuffer(value) ? value : Buffer.from(value, 'utf8') } };
  };
  const withMessage = (edit: (m: Message) => void): Damage => (e) => {
    edit(e.message as Message);
    return e;
  };
  const withEncryption = (edit: (x: Record<string, unknown>) => void): Damage => withMessage((m) => edit(m.encryption as unknown as Record<string, unknown>));
  /** A record whose decrypted bytes are `plaintext`, published or quarantined as those bytes deserve. */
  const decrypting = (name: string, plaintext: Buffer | string): CorpusEntry => {
    const s = spec(plaintext);
    const verdict = verdictOf(s.plaintext);
    // Published text is the document as decoded (a leading byte-order mark is not part of the text).
    return { name, verdict, cell: cellOf(s), ...(verdict === 'published' ? { plaintext: utf8.decode(s.plaintext) } : {}) };
  };

  const wrongKey = spec(doc());
  const wrongKeyGarbage = (() => {
    // Encrypted under another key, while the envelope names ours: decrypting gives keystream garbage.
    const envelope = envelopeOf({ ...wrongKey, key: OTHER_KEY });
    envelope.message.encryption.encryptedEncryptionKey = KEY.encryptedEncryptionKey;
    const iv = Buffer.from(envelope.message.encryption.initialisationVector, 'base64');
    return { envelope, verdict: verdictOf(aesCtrDecrypt(KEY.plaintext, iv, Buffer.from(envelope.message.dbObject, 'base64'))) };
  })();
  const truncatedAscii = spec(doc());
  const truncatedUtf8 = spec(JSON.stringify({ _id: { id: 'x' }, name: 'Zoë Ní Bhriain' }));
  const mismatched = spec(doc());
  const shortKey = spec(doc());
  const badCrc = spec(doc());
  const big = spec(bigDocument('bad-big-valid', 5 * 1024 * 1024));
  const future = spec(doc(), { timestamp: Date.UTC(2200, 0, 1) });

  const corpus: CorpusEntry[] = [
    // ── The envelope itself ──
    raw('empty cell value', 'empty-value', Buffer.alloc(0)),
    raw('envelope is not JSON', 'malformed-envelope', '{"message": {"_id":'),
    raw('envelope is a JSON string', 'malformed-envelope', '"just a string"'),
    raw('envelope is JSON null', 'malformed-envelope', 'null'),
    raw('envelope is a JSON number', 'malformed-envelope', '42'),
    raw('envelope is a JSON array', 'missing-field', '[1,2,3]'),
    raw('envelope is binary garbage', 'malformed-envelope', bytesOf('garbage', 300)),
    raw('a 5 MB value that is not JSON', 'malformed-envelope', bytesOf('big-garbage', 5 * 1024 * 1024).toString('base64')),
    entry('message missing', 'missing-field', spec(doc()), (e) => ({ ...e, message: undefined })),
    entry('message is a string', 'missing-field', spec(doc()), (e) => ({ ...e, message: 'hello' })),
    entry('encryption missing', 'missing-field', spec(doc()), withMessage((m) => { delete (m as Record<string, unknown>).encryption; })),
    entry('encryption is an array', 'missing-field', spec(doc()), withMessage((m) => { (m as Record<string, unknown>).encryption = []; })),
    entry('_id missing', 'missing-field', spec(doc()), withMessage((m) => { delete (m as Record<string, unknown>)._id; })),
    entry('dbObject missing', 'missing-field', spec(doc()), withMessage((m) => { delete (m as Record<string, unknown>).dbObject; })),
    entry('dbObject empty', 'missing-field', spec(doc()), withMessage((m) => { m.dbObject = ''; })),
    entry('initialisationVector missing', 'missing-field', spec(doc()), withEncryption((x) => { delete x.initialisationVector; })),
    entry('keyEncryptionKeyId missing', 'missing-field', spec(doc()), withEncryption((x) => { delete x.keyEncryptionKeyId; })),
    entry('keyEncryptionKeyId is a number', 'missing-field', spec(doc()), withEncryption((x) => { x.keyEncryptionKeyId = 12; })),
    entry('encryptedEncryptionKey missing', 'missing-field', spec(doc()), withEncryption((x) => { delete x.encryptedEncryptionKey; })),
    // ── Encodings and lengths ──
    entry('IV of 8 bytes', 'bad-iv-length', spec(doc()), withEncryption((x) => { x.initialisationVector = bytesOf('iv8', 8).toString('base64'); })),
    entry('IV of 32 bytes', 'bad-iv-length', spec(doc()), withEncryption((x) => { x.initialisationVector = bytesOf('iv32', 32).toString('base64'); })),
    entry('IV not base64', 'bad-base64', spec(doc()), withEncryption((x) => { x.initialisationVector = 'not base64 at all!'; })),
    entry('dbObject not base64', 'bad-base64', spec(doc()), withMessage((m) => { m.dbObject = '@@@@####'; })),
    entry('dbObject base64 cut to a bad length', 'bad-base64', spec(doc()), withMessage((m) => { m.dbObject = m.dbObject.slice(0, -1).replace(/=+$/, ''); })),
    entry('dbObject in base64url', 'bad-base64', spec(bigDocument('base64url', 300)), withMessage((m) => {
      const url = Buffer.from(m.dbObject, 'base64').toString('base64url');
      if (!/[-_]/.test(url)) throw new Error('the base64url fixture must hold - or _');
      m.dbObject = url;
    })),
    entry('dbObject base64 wrapped at 76 characters', 'bad-base64', spec(bigDocument('wrapped', 200)), withMessage((m) => { m.dbObject = m.dbObject.replace(/(.{76})/g, '$1\n'); })),
    // ── Keys ──
    entry('unknown key-encryption key id', 'unknown-data-key', spec(doc()), withEncryption((x) => { x.keyEncryptionKeyId = 'cloudhsm:999,999'; })),
    entry('wrapped key not base64', 'wrapped-key-malformed', spec(doc()), withEncryption((x) => { x.encryptedEncryptionKey = '%%%garbled%%%'; })),
    entry('key id with a control character', 'key-id-malformed', spec(doc()), withEncryption((x) => { x.keyEncryptionKeyId = 'STANDALONE\u0007'; })),
    entry('wrapped key of 8 bytes', 'wrapped-key-malformed', spec(doc()), withEncryption((x) => { x.encryptedEncryptionKey = bytesOf('short-key', 8).toString('base64'); })),
    { name: 'wrong data key: the plaintext is keystream garbage', verdict: wrongKeyGarbage.verdict, cell: cellOf(wrongKey, () => wrongKeyGarbage.envelope) },
    // ── Ciphertext and plaintext ──
    entry('truncated ciphertext (cut between characters)', 'not-json', truncatedAscii, withMessage((m) => { m.dbObject = Buffer.from(m.dbObject, 'base64').subarray(0, 20).toString('base64'); })),
    entry('truncated ciphertext (cut inside a character)', 'not-utf8', truncatedUtf8, withMessage((m) => {
      const cut = Buffer.from(truncatedUtf8.plaintext).indexOf(Buffer.from('ë')) + 1;
      m.dbObject = Buffer.from(m.dbObject, 'base64').subarray(0, cut).toString('base64');
    })),
    decrypting('plaintext not UTF-8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d])),
    decrypting('plaintext with an overlong UTF-8 encoding', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0x22, 0x7d])),
    decrypting('plaintext UTF-8 but not JSON', 'hello, world'),
    decrypting('plaintext only whitespace', '   \n '),
    decrypting('JSON with trailing garbage', '{"a":1} x'),
    decrypting('JSON with a trailing comma', '{"a":1,}'),
    decrypting('JSON with single quotes', "{'a':1}"),
    decrypting('JSON number with a leading zero', '{"a":01}'),
    decrypting('JSON with NaN', '{"a":NaN}'),
    decrypting('JSON string with a raw tab', '{"a":"x\ty"}'),
    decrypting('JSON string with an invalid escape', '{"a":"\\x41"}'),
    decrypting('JSON number "1."', '{"a":1.}'),
    // ── Row keys ──
    entry('row key CRC does not match', 'row-key-mismatch', badCrc, () => envelopeOf(badCrc)),
    entry('row key shorter than its CRC', 'row-key-mismatch', shortKey),
    entry('row key of another _id', 'row-key-mismatch', mismatched, withMessage((m) => { m._id = { id: 'someone-else' }; })),
    entry('_id is an array', 'malformed-envelope', spec(doc()), withMessage((m) => { m._id = ['a', 'b']; })),
    entry('_id is null', 'malformed-envelope', spec(doc()), withMessage((m) => { m._id = null; })),
    // ── Valid, if unusual: published intact ──
    { name: 'a valid 5 MB record', verdict: 'published' as const, cell: cellOf(big), plaintext: big.plaintext.toString('utf8') },
    { ...decrypting('JSON nested 100 000 deep', `${'['.repeat(100_000)}${']'.repeat(100_000)}`) },
    { ...decrypting('JSON with a lone surrogate escape and odd spacing', ' {"a":"\\ud800", "b":[1e+5,-0.0,true,null]}\n') },
    { ...decrypting('JSON with a byte-order mark', '\ufeff{"a":1}') },
    (() => {
      const s = spec(doc(), { key: KEY_256 });
      return { name: 'a 32-byte data key (AES-256-CTR)', verdict: 'published' as const, cell: cellOf(s), plaintext: s.plaintext.toString('utf8') };
    })(),
    // ── Time ──
    { name: 'cell timestamp in 2200', verdict: 'outside-window', cell: cellOf(future) },
  ];
  return corpus.map((e) => fixRowKey(e, { badCrc, shortKey }));
}

/** Row-key damage happens after the cell is built: the envelope stays valid, only the key is wrong. */
function fixRowKey(e: CorpusEntry, specs: { badCrc: RecordSpec; shortKey: RecordSpec }): CorpusEntry {
  if (e.name === 'row key CRC does not match') {
    const key = Buffer.from(rowKeyOf(idJsonOf(specs.badCrc.id)));
    key[0] = (key[0] ?? 0) ^ 0xff;
    return { ...e, cell: { ...e.cell, rowKey: key } };
  }
  if (e.name === 'row key shorter than its CRC') return { ...e, cell: { ...e.cell, rowKey: Buffer.from([0x00, 0x01]) } };
  return e;
}
