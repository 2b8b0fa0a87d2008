import type { ParsedEnvelope } from '../contracts/envelope.js';
import { jsonValueEnd, skip, wordsOf } from './json-check.js';
import { idJsonEquals, idShapeOf, type IdShape } from './plain-id.js';

/**
 * The envelope's fields straight from its bytes, without `JSON.parse` (DESIGN.md §3.1): no ~2.6 KB envelope
 * string, no object tree, no second copy of the base64 `dbObject`. A byte scanner that follows JSON's grammar
 * (json-check.ts) walks the envelope, the `message` and `encryption` objects, and skips every other value
 * while checking it.
 *
 * Only the plain shape is taken: the fields the step reads are strings without escapes, each present once,
 * and the base64 is canonical in length and alphabet. Anything else (an escape, a duplicate key, a missing or
 * mistyped field, bad base64, bad JSON) returns `undefined`, and the caller parses the envelope with
 * `parseEnvelope`, which decides with `JSON.parse` and gives the exact reason. So the answer is always
 * `parseEnvelope`'s; the scanner only makes the common case cheap (fuzzed against it in envelope-scan.test.ts).
 * The bytes must be valid UTF-8 (the caller checks it).
 */
export function scanEnvelope(bytes: Buffer): ParsedEnvelope | undefined {
  const words = wordsOf(bytes);
  const fields = SPANS.reset();
  let i = skip(bytes, 0);
  if (bytes[i] !== OPEN) return undefined;
  i = members(bytes, words, i, fields, TOP);
  if (i === FAIL || skip(bytes, i) !== bytes.length) return undefined;
  return fields.envelope(bytes);
}

const FAIL = -1;
const OPEN = 0x7b;
const CLOSE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;

// The keys read, per object, and what each names in `Spans`.
const Field = { None: 0, Message: 1, Encryption: 2, Id: 3, Type: 4, DbObject: 5, Iv: 6, KeyId: 7, WrappedKey: 8 } as const;
type Field = (typeof Field)[keyof typeof Field];
/** The keys of one object that are read, as bytes (matched without building a string per key). */
type Keys = readonly (readonly [Uint8Array, Field])[];
const keys = (entries: [string, Field][]): Keys => entries.map(([name, field]) => [Buffer.from(name, 'latin1'), field] as const);
const TOP = keys([['message', Field.Message]]);
const MESSAGE = keys([['_id', Field.Id], ['@type', Field.Type], ['dbObject', Field.DbObject], ['encryption', Field.Encryption]]);
const ENCRYPTION = keys([['initialisationVector', Field.Iv], ['keyEncryptionKeyId', Field.KeyId], ['encryptedEncryptionKey', Field.WrappedKey]]);

/** Which of `wanted` the key in [start, end) is, or Field.None. */
function fieldOf(bytes: Buffer, start: number, end: number, wanted: Keys): Field {
  const length = end - start;
  for (const [name, field] of wanted) {
    if (name.length !== length) continue;
    let k = 0;
    while (k < length && bytes[start + k] === name[k]) k += 1;
    if (k === length) return field;
  }
  return Field.None;
}

/** Where each field's value lies: [start, end) of a string's content, or of `_id`'s JSON; -1 = not seen. */
class Spans {
  readonly start = new Int32Array(9).fill(-1);
  readonly end = new Int32Array(9).fill(-1);
  /** Whether `@type`, a string when present, held another JSON type (then it defaults). */
  readonly notString = new Uint8Array(9);

  reset(): this {
    this.start.fill(-1);
    this.end.fill(-1);
    this.notString.fill(0);
    return this;
  }

  envelope(bytes: Buffer): ParsedEnvelope | undefined {
    const { start, end } = this;
    if (start[Field.Message]! < 0 || start[Field.Encryption]! < 0 || start[Field.Id]! < 0) return undefined;
    const iv = base64(bytes, start[Field.Iv]!, end[Field.Iv]!);
    const ciphertext = base64(bytes, start[Field.DbObject]!, end[Field.DbObject]!);
    const keyId = this.text(bytes, Field.KeyId);
    const wrapped = this.text(bytes, Field.WrappedKey);
    if (iv === undefined || iv.length !== 16 || ciphertext === undefined || !keyId || !wrapped) return undefined;
    return new ScannedEnvelope(bytes, start[Field.Id]!, end[Field.Id]!, this.text(bytes, Field.Type) ?? 'UNKNOWN', ciphertext, iv, keyId, wrapped);
  }

  private text(bytes: Buffer, field: Field): string | undefined {
    const s = this.start[field]!;
    if (s < 0 || this.notString[field] === 1) return undefined;
    return (field === Field.WrappedKey ? WRAPPED_KEYS : SHORT_TEXTS).text(bytes, s, this.end[field]!);
  }
}

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

/** One for every call: the scan is synchronous. */
const SPANS = new Spans();

/**
 * The members of the object whose `{` is at `i`; returns the position after its `}`. Keys of `wanted` are
 * recorded in `fields` (a nested `message`/`encryption` is walked the same way); a duplicate, or an escape in
 * a key, gives up (FAIL), as `JSON.parse` would keep the last and the scanner does not try to.
 */
function members(bytes: Buffer, words: Int32Array, i: number, fields: Spans, wanted: Keys): number {
  i = skip(bytes, i + 1);
  if (bytes[i] === CLOSE) return i + 1;
  for (;;) {
    if (bytes[i] !== QUOTE) return FAIL;
    const keyEnd = plainString(bytes, i + 1);
    if (keyEnd === FAIL) return FAIL;
    const field = fieldOf(bytes, i + 1, keyEnd, wanted);
    i = skip(bytes, keyEnd + 1);
    if (bytes[i] !== COLON) return FAIL;
    i = skip(bytes, i + 1);
    if (field !== Field.None) {
      if (fields.start[field]! >= 0) return FAIL;
      i = value(bytes, words, i, fields, field);
    } else {
      i = jsonValueEnd(bytes, words, i);
    }
    if (i === FAIL) return FAIL;
    i = skip(bytes, i);
    if (bytes[i] === CLOSE) return i + 1;
    if (bytes[i] !== COMMA) return FAIL;
    i = skip(bytes, i + 1);
  }
}

function value(bytes: Buffer, words: Int32Array, i: number, fields: Spans, field: Field): number {
  fields.start[field] = i;
  if (field === Field.Message || field === Field.Encryption) {
    if (bytes[i] !== OPEN) return FAIL;
    const end = members(bytes, words, i, fields, field === Field.Message ? MESSAGE : ENCRYPTION);
    fields.end[field] = end;
    return end;
  }
  if (field === Field.Id) {
    const end = jsonValueEnd(bytes, words, i);
    fields.end[field] = end;
    return end;
  }
  if (bytes[i] !== QUOTE) {
    // `@type` defaults when it is not a string; the required fields must be strings.
    if (field !== Field.Type) return FAIL;
    fields.notString[field] = 1;
    return jsonValueEnd(bytes, words, i);
  }
  // dbObject is most of the envelope: its end is found natively, and base64() checks every byte of it.
  const end = field === Field.DbObject ? bytes.indexOf(QUOTE, i + 1) : plainString(bytes, i + 1);
  if (end < 0) return FAIL;
  fields.start[field] = i + 1;
  fields.end[field] = end;
  return end + 1;
}

/** The position of the quote closing a string whose content starts at `i`, if it has no escape and no control character. */
function plainString(bytes: Buffer, i: number): number {
  const n = bytes.length;
  for (; i < n; i += 1) {
    const b = bytes[i]!;
    if (b === QUOTE) return i;
    if (b === BACKSLASH || b < 0x20) return FAIL;
  }
  return FAIL;
}

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
