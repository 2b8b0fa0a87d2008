import { isUtf8 } from 'node:buffer';
import { parseEnvelope, RecordError, type ParsedEnvelope } from '../contracts/envelope.js';
import { decodeRowKey, idJsonOf } from '../contracts/row-key.js';
import { toError } from '../shared/errors.js';
import { decryptCtr } from './ctr-batch.js';
import { KeyRejectedError } from './errors.js';
import { scanEnvelope } from './envelope-scan.js';
import { isJsonText } from './json-check.js';
import type { Cell, KeyService, OutputRow, QuarantinedRecord } from './ports.js';

/**
 * Turns a batch of cells into output rows: envelope → data key (one unwrap per distinct key) → AES-CTR
 * decrypt in memory → UTF-8 + JSON validation. A record that can never be decrypted is quarantined, still
 * encrypted, with the reason; a transient key-service failure fails the whole batch (and so the collection).
 */
export interface DecodeContext {
  readonly db: string;
  readonly collection: string;
  readonly correlationId: string;
  readonly keys: KeyService;
  readonly signal?: AbortSignal;
  /** A cell larger than this is quarantined as too-large before it is parsed (default DEFAULT_MAX_RECORD_BYTES). */
  readonly maxRecordBytes?: number;
}

/**
 * The largest envelope decoded by default: 32 MiB, far above any document Mongo can hold (16 MiB of BSON, base64
 * in the envelope), so only a crafted or corrupt cell reaches it.
 */
export const DEFAULT_MAX_RECORD_BYTES = 32 * 1024 * 1024;

export interface DecodedBatch {
  readonly rows: OutputRow[];
  readonly quarantined: QuarantinedRecord[];
  readonly bytesIn: number;
  /** Records that needed a data key (each one a cache lookup; DKS is called once per distinct key). */
  readonly keyLookups: number;
  /** Largest cell timestamp in the batch, quarantined records included (they are reported, not lost), or -1. */
  readonly maxTimestamp: number;
  /** Zeroes the plaintext bytes behind `rows[].recordUtf8`: call once the rows are written (or dropped). */
  release(): void;
}


/** A record that passed every check that needs no decryption. */
interface Ready {
  readonly envelope: ParsedEnvelope;
  readonly key: Buffer;
  readonly idJson: string;
  readonly rowKey: string;
}

export async function decodeBatch(cells: readonly Cell[], context: DecodeContext): Promise<DecodedBatch> {
  let bytesIn = 0;
  let maxTimestamp = -1;
  const parsed: (ParsedEnvelope | RecordError)[] = new Array(cells.length);
  const maxBytes = context.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  for (let i = 0; i < cells.length; i += 1) {
    const cell = cells[i] as Cell;
    bytesIn += cell.value.length;
    if (cell.timestamp > maxTimestamp) maxTimestamp = cell.timestamp;
    if (cell.value.length > maxBytes) {
      parsed[i] = new RecordError('too-large', `the record is ${cell.value.length} bytes, more than the ${maxBytes} allowed (maxRecordSize)`);
      continue;
    }
    try {
      parsed[i] = envelopeOf(cell.value);
    } catch (error) {
      if (!(error instanceof RecordError)) throw error;
      parsed[i] = error;
    }
  }
  const keys = await unwrapDistinct(parsed, context);
  let keyLookups = 0;
  // Checks that need no plaintext first, per record, in the order the reasons have always been given;
  // then decryption of every record that passed; then UTF-8 and JSON.
  const ready: (Ready | RecordError)[] = new Array(cells.length);
  const byKey = new Map<Buffer, number[]>();
  for (let i = 0; i < cells.length; i += 1) {
    const envelope = parsed[i] as ParsedEnvelope | RecordError;
    if (envelope instanceof RecordError) {
      ready[i] = envelope;
      continue;
    }
    keyLookups += 1;
    const checked = check(cells[i] as Cell, envelope, keys.get(envelope.keyEncryptionKeyId)?.get(envelope.encryptedEncryptionKey));
    ready[i] = checked;
    if (checked instanceof RecordError) continue;
    const group = byKey.get(checked.key);
    if (group === undefined) byKey.set(checked.key, [i]);
    else group.push(i);
  }
  // All keys' records are decrypted into one buffer, one cipher call per key (ctr-batch.ts).
  const decrypted = decryptCtr([...byKey].map(([key, indexes]) => ({ key, inputs: indexes.map((i) => (ready[i] as Ready).envelope) })));
  const plaintexts: Buffer[] = new Array(cells.length);
  let group = 0;
  for (const indexes of byKey.values()) {
    const views = decrypted.plaintexts[group] as readonly Buffer[];
    for (let j = 0; j < indexes.length; j += 1) plaintexts[indexes[j] as number] = views[j] as Buffer;
    group += 1;
  }
  try {
    const rows: OutputRow[] = [];
    const quarantined: QuarantinedRecord[] = [];
    for (let i = 0; i < cells.length; i += 1) {
      const cell = cells[i] as Cell;
      const item = ready[i] as Ready | RecordError;
      const outcome = item instanceof RecordError ? item : validate(cell, item, plaintexts[i] as Buffer, context);
      if (outcome instanceof RecordError) {
        // Copies: the cells' memory may be the scan's, reused for its next response (ScanRequest.reuseMemory).
        quarantined.push({ rowKey: Buffer.from(cell.rowKey), timestamp: cell.timestamp, value: Buffer.from(cell.value), reason: outcome.reason, detail: outcome.detail });
      } else {
        rows.push(outcome);
      }
    }
    // The plaintext bytes live on as `recordUtf8` (the sink copies them without re-encoding the text)
    // until the caller releases them.
    return { rows, quarantined, bytesIn, keyLookups, maxTimestamp, release: decrypted.wipe };
  } catch (error) {
    decrypted.wipe();
    throw error;
  }
}

function check(cell: Cell, envelope: ParsedEnvelope, key: Buffer | RecordError | undefined): Ready | RecordError {
  const rowKey = decodeRowKey(cell.rowKey);
  if (!rowKey.checksumValid) return new RecordError('row-key-mismatch', 'the row key prefix is not the CRC32 of its id');
  // The row key's bytes against the envelope's `_id` bytes when they are plainly its idJson; else idJsonOf.
  if (envelope.idJsonEquals?.(cell.rowKey, 4) !== true) {
    let idJson: string;
    try {
      idJson = idJsonOf(envelope.id);
    } catch (error) {
      return new RecordError('malformed-envelope', `message._id: ${toError(error).message}`);
    }
    if (idJson !== rowKey.idJson) return new RecordError('row-key-mismatch', 'message._id does not match the row key');
  }
  const { idJson } = rowKey;
  if (key === undefined) return new RecordError('unknown-data-key', 'no data key was unwrapped for this record');
  if (key instanceof RecordError) return key;
  // printableRowKey(cell.rowKey), without decoding the key a second time (a valid key has its 4-byte CRC).
  return { envelope, key, idJson, rowKey: `${cell.rowKey.toString('hex', 0, 4)}${idJson}` };
}

function validate(cell: Cell, ready: Ready, plaintext: Buffer, context: DecodeContext): OutputRow | RecordError {
  // Checked on the bytes: the text itself is built only if a sink asks for `record` (the S3 sink copies the bytes).
  if (!isUtf8(plaintext)) {
    return new RecordError('not-utf8', 'the decrypted document is not valid UTF-8 (wrong data key or corrupt ciphertext?)');
  }
  // The same verdict as JSON.parse(record), from the bytes, without building the document (json-check.ts).
  if (!isJsonText(plaintext)) {
    return new RecordError('not-json', 'the decrypted document is not JSON (wrong data key or truncated ciphertext?)');
  }
  // Exactly the text TextDecoder gives: it drops a leading byte-order mark, so the bytes skip it too.
  return new DecodedRow(ready, cell.timestamp, hasBom(plaintext) ? plaintext.subarray(3) : plaintext, context);
}

/** An output row whose document stays UTF-8 bytes; `record` decodes them on demand (valid until release). */
class DecodedRow implements OutputRow {
  readonly id: string;
  readonly rowKey: string;
  readonly recordType: string;
  readonly db: string;
  readonly collection: string;
  constructor(ready: Ready, readonly timestamp: number, readonly recordUtf8: Buffer, context: DecodeContext) {
    this.id = ready.idJson;
    this.rowKey = ready.rowKey;
    this.recordType = ready.envelope.recordType;
    this.db = context.db;
    this.collection = context.collection;
  }

  get record(): string {
    return this.recordUtf8.toString('utf8');
  }
}

/**
 * The envelope's fields: from its bytes by the scanner when it has the plain shape, else by `parseEnvelope`
 * (JSON.parse), which gives the reason a bad one is refused. Invalid UTF-8 is refused first, as a malformed
 * envelope (the reason binary garbage always had): decoding it would replace bytes with U+FFFD, and two different
 * `_id`s could become one.
 */
function envelopeOf(value: Buffer): ParsedEnvelope {
  if (value.length > 0 && !isUtf8(value)) throw new RecordError('malformed-envelope', 'the envelope is not valid UTF-8 (JSON text must be)');
  return scanEnvelope(value) ?? parseEnvelope(value);
}

const hasBom = (b: Uint8Array): boolean => b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;

/** Data keys by key id, then by wrapped key (no joined string per record: the scanner hands out the same strings). */
type KeysById = Map<string, Map<string, Buffer | RecordError | undefined>>;

async function unwrapDistinct(parsed: readonly (ParsedEnvelope | RecordError)[], context: DecodeContext): Promise<KeysById> {
  const wanted: ParsedEnvelope[] = [];
  const keys: KeysById = new Map();
  for (const e of parsed) {
    if (e instanceof RecordError) continue;
    let byWrapped = keys.get(e.keyEncryptionKeyId);
    if (byWrapped === undefined) keys.set(e.keyEncryptionKeyId, (byWrapped = new Map()));
    if (byWrapped.has(e.encryptedEncryptionKey)) continue;
    byWrapped.set(e.encryptedEncryptionKey, undefined); // asked for once; set to the key or the refusal below
    wanted.push(e);
  }
  await Promise.all(wanted.map(async (e) => {
    const byWrapped = keys.get(e.keyEncryptionKeyId)!;
    try {
      const key = await context.keys.unwrap(
        { keyEncryptionKeyId: e.keyEncryptionKeyId, encryptedEncryptionKey: e.encryptedEncryptionKey },
        context.correlationId,
        context.signal,
      );
      byWrapped.set(e.encryptedEncryptionKey, key.length === 16 || key.length === 32 ? key : new RecordError('bad-data-key', `the data key is ${key.length} bytes, expected 16 or 32`));
    } catch (caught) {
      // Only a refusal of this one wrapped key quarantines its records, with the reason the key service gave
      // (malformed key or key id, wrong-length key, DKS 400, or a key DKS kept failing on while others
      // unwrapped: see keys/key-cache.ts); a service-wide failure (DKS down, certificate revoked) fails the
      // collection so that nothing is quarantined for it.
      if (!(caught instanceof KeyRejectedError) || context.signal?.aborted) throw toError(caught);
      byWrapped.set(e.encryptedEncryptionKey, new RecordError(caught.reason, `the key service refused the data key: ${caught.message}`));
    }
  }));
  return keys;
}
