import type { ParsedEnvelope } from '../contracts/envelope.js';
import { INPUT, JSON_WASM_MAX_BYTES, jsonWasmWith, TYPE_NOT_STRING_WORD } from './json-wasm.js';
import { idJsonEquals, idShapeOf, type IdShape } from './plain-id.js';

/**
 * The envelope's fields straight from its bytes, without `JSON.parse` (DESIGN.md §3.1): no ~2.6 KB envelope
 * string, no object tree, no second copy of the base64 `dbObject`. A byte scanner that follows JSON's grammar
 * (json-check.wat, in WebAssembly) walks the envelope, the `message` and `encryption` objects, records where the
 * fields it reads lie, and skips every other value while checking it.
 *
 * Only the plain shape is taken: the fields the step reads are strings without escapes, each present once,
 * and the base64 is canonical in length and alphabet. Anything else (an escape, a duplicate key, a missing or
 * mistyped field, bad base64, bad JSON, an envelope over 1 MiB) returns `undefined`, and the caller parses the
 * envelope with `parseEnvelope`, which decides with `JSON.parse` and gives the exact reason. So the answer is
 * always `parseEnvelope`'s; the scanner only makes the common case cheap (fuzzed against it in
 * envelope-scan.test.ts). The bytes must be valid UTF-8 (the caller checks it).
 */
export function scanEnvelope(bytes: Buffer): ParsedEnvelope | undefined {
  if (bytes.length > JSON_WASM_MAX_BYTES) return undefined;
  const wasm = jsonWasmWith(bytes);
  if (wasm.exports.scanEnvelope(bytes.length) !== 1) return undefined;
  const { spans } = wasm;
  if (start(spans, Field.Message) < 0 || start(spans, Field.Encryption) < 0 || start(spans, Field.Id) < 0) return undefined;
  const iv = base64(bytes, start(spans, Field.Iv), end(spans, Field.Iv));
  const ciphertext = base64(bytes, start(spans, Field.DbObject), end(spans, Field.DbObject));
  const keyId = start(spans, Field.KeyId) < 0 ? undefined : SHORT_TEXTS.text(bytes, start(spans, Field.KeyId), end(spans, Field.KeyId));
  const wrapped = start(spans, Field.WrappedKey) < 0 ? undefined : WRAPPED_KEYS.text(bytes, start(spans, Field.WrappedKey), end(spans, Field.WrappedKey));
  if (iv === undefined || iv.length !== 16 || ciphertext === undefined || !keyId || !wrapped) return undefined;
  const type = start(spans, Field.Type) < 0 || spans[TYPE_NOT_STRING_WORD] === 1 ? 'UNKNOWN' : SHORT_TEXTS.text(bytes, start(spans, Field.Type), end(spans, Field.Type));
  return new ScannedEnvelope(bytes, start(spans, Field.Id), end(spans, Field.Id), type, ciphertext, iv, keyId, wrapped);
}

// A field's span in `bytes` (-1 - INPUT: not seen), from the module's positions.
const start = (spans: Int32Array, field: Field): number => spans[2 * field]! - INPUT;
const end = (spans: Int32Array, field: Field): number => spans[2 * field + 1]! - INPUT;

/** The fields the walk records, numbered as json-check.wat numbers them. */
const Field = { Message: 1, Encryption: 2, Id: 3, Type: 4, DbObject: 5, Iv: 6, KeyId: 7, WrappedKey: 8 } as const;
type Field = (typeof Field)[keyof typeof Field];

/**
 * An envelope's fields, its `_id` kept as bytes: the row key check compares them (plain-id.ts) and `id` parses
 * them only when asked. Valid while the envelope's bytes are (the batch being decoded).
 */
class ScannedEnvelope implements ParsedEnvelope {
  private readonly idShape: IdShape;

  constructor(
    private readonly bytes: Buffer,
    private readonly idStart: number,
    private readonly idEnd: number,
    readonly recordType: string,
    readonly ciphertext: Buffer,
    readonly iv: Buffer,
    readonly keyEncryptionKeyId: string,
    readonly encryptedEncryptionKey: string,
  ) {
    this.idShape = idShapeOf(bytes, idStart, idEnd);
  }

  get id(): unknown {
    return JSON.parse(this.bytes.toString('utf8', this.idStart, this.idEnd)) as unknown;
  }

  idJsonEquals(target: Uint8Array, from: number): boolean | undefined {
    return idJsonEquals(this.bytes, this.idStart, this.idEnd, this.idShape, target, from);
  }
}

/**
 * Wrapped keys repeat from record to record (a handful per collection, ~250 bytes of base64 each from the real
 * DKS): their strings are kept and handed out again when the bytes are the same (compared natively), instead of a
 * new string per record. Less garbage, and the decoder's key maps find the same strings (hashed once) every time.
 * Found by a hash of the length and a few bytes. Bounded: cleared when full.
 */
class WrappedKeyTexts {
  private readonly entries = new Map<number, { readonly bytes: Buffer; readonly text: string }>();

  constructor(private readonly capacity: number, private readonly longest: number) {}

  text(bytes: Buffer, start: number, end: number): string {
    const length = end - start;
    if (length > this.longest) return bytes.toString('utf8', start, end);
    // Length and eight bytes spread over the value: wrapped keys (random base64) differ in them.
    let hash = length;
    for (let k = 0; k < 8; k += 1) hash = Math.imul(hash ^ bytes[start + ((k * length) >>> 3)]!, 0x01000193);
    const known = this.entries.get(hash);
    if (known !== undefined && known.bytes.length === length && bytes.compare(known.bytes, 0, length, start, end) === 0) return known.text;
    const text = bytes.toString('utf8', start, end);
    if (this.entries.size >= this.capacity) this.entries.clear();
    this.entries.set(hash, { bytes: Buffer.from(bytes.subarray(start, end)), text });
    return text;
  }
}

/**
 * Key ids and record types: one or two of each per collection, a few bytes long. The last few seen are kept and
 * compared byte by byte (cheaper than hashing such short texts, and than decoding a new string per record).
 */
class RecentTexts {
  private readonly bytes: Buffer[] = [];
  private readonly texts: string[] = [];
  private next = 0;

  constructor(private readonly capacity: number, private readonly longest: number) {}

  text(bytes: Buffer, start: number, end: number): string {
    const length = end - start;
    if (length > this.longest) return bytes.toString('utf8', start, end);
    for (let r = 0; r < this.bytes.length; r += 1) {
      const seen = this.bytes[r]!;
      if (seen.length !== length) continue;
      let k = 0;
      while (k < length && bytes[start + k] === seen[k]) k += 1;
      if (k === length) return this.texts[r]!;
    }
    const text = bytes.toString('utf8', start, end);
    this.bytes[this.next] = Buffer.from(bytes.subarray(start, end));
    this.texts[this.next] = text;
    this.next = (this.next + 1) % this.capacity;
    return text;
  }
}

/** One of each for every call (the scan is synchronous): up to 1024 wrapped keys of up to 4 KiB; 8 short texts. */
const WRAPPED_KEYS = new WrappedKeyTexts(1024, 4096);
const SHORT_TEXTS = new RecentTexts(8, 128);

/**
 * Standard base64 with padding, decoded, when [start, end) is non-empty, a multiple of 4 long, in the alphabet
 * A–Z a–z 0–9 + / with '=' only as the last one or two bytes. Node's decoder skips bytes outside the alphabet
 * (and takes - and _ as URL-safe digits), so the decoded length proves every byte is a digit once - _ and an
 * inner '=' are ruled out.
 */
function base64(bytes: Buffer, start: number, end: number): Buffer | undefined {
  const length = end - start;
  if (start < 0 || length === 0 || length % 4 !== 0) return undefined;
  const pad = bytes[end - 1] === 0x3d ? (bytes[end - 2] === 0x3d ? 2 : 1) : 0;
  const inner = end - pad;
  for (const c of [0x2d, 0x5f, 0x3d]) {
    const at = bytes.indexOf(c, start);
    if (at >= 0 && at < inner) return undefined;
  }
  const decoded = Buffer.from(bytes.toString('latin1', start, end), 'base64');
  return decoded.length === (length / 4) * 3 - pad ? decoded : undefined;
}
