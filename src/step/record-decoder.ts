import { createDecipheriv } from 'node:crypto';
import { aesCtrAlgorithm } from '../contracts/aes-ctr.js';
import { parseEnvelope, RecordError, type ParsedEnvelope } from '../contracts/envelope.js';
import { decodeRowKey, idJsonOf, printableRowKey } from '../contracts/row-key.js';
import { toError } from '../shared/errors.js';
import { KeyRejectedError } from '../keys/errors.js';
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
}

export interface DecodedBatch {
  readonly rows: OutputRow[];
  readonly quarantined: QuarantinedRecord[];
  readonly bytesIn: number;
  /** Records that needed a data key (each one a cache lookup; DKS is called once per distinct key). */
  readonly keyLookups: number;
  /** Largest cell timestamp in the batch, quarantined records included (they are reported, not lost), or -1. */
  readonly maxTimestamp: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export async function decodeBatch(cells: readonly Cell[], context: DecodeContext): Promise<DecodedBatch> {
  const rows: OutputRow[] = [];
  const quarantined: QuarantinedRecord[] = [];
  let bytesIn = 0;
  let maxTimestamp = -1;
  const parsed: (ParsedEnvelope | RecordError)[] = cells.map((cell) => {
    bytesIn += cell.value.length;
    if (cell.timestamp > maxTimestamp) maxTimestamp = cell.timestamp;
    try {
      return parseEnvelope(cell.value);
    } catch (error) {
      if (error instanceof RecordError) return error;
      throw error;
    }
  });
  const keys = await unwrapDistinct(parsed, context);
  const keyLookups = parsed.filter((e) => !(e instanceof RecordError)).length;
  for (let i = 0; i < cells.length; i += 1) {
    const cell = cells[i] as Cell;
    const envelope = parsed[i] as ParsedEnvelope | RecordError;
    try {
      if (envelope instanceof RecordError) throw envelope;
      const row = decodeOne(cell, envelope, keys.get(keyOf(envelope)), context);
      rows.push(row);
    } catch (error) {
      if (!(error instanceof RecordError)) throw error;
      quarantined.push({ rowKey: cell.rowKey, timestamp: cell.timestamp, value: cell.value, reason: error.reason, detail: error.detail });
    }
  }
  return { rows, quarantined, bytesIn, keyLookups, maxTimestamp };
}

function decodeOne(cell: Cell, envelope: ParsedEnvelope, key: Buffer | RecordError | undefined, context: DecodeContext): OutputRow {
  const rowKey = decodeRowKey(cell.rowKey);
  if (!rowKey.checksumValid) throw new RecordError('row-key-mismatch', 'the row key prefix is not the CRC32 of its id');
  let idJson: string;
  try {
    idJson = idJsonOf(envelope.id);
  } catch (error) {
    throw new RecordError('malformed-envelope', `message._id: ${toError(error).message}`);
  }
  if (idJson !== rowKey.idJson) throw new RecordError('row-key-mismatch', 'message._id does not match the row key');
  if (key === undefined) throw new RecordError('unknown-data-key', 'no data key was unwrapped for this record');
  if (key instanceof RecordError) throw key;
  const decipher = createDecipheriv(aesCtrAlgorithm(key), key, envelope.iv);
  const plaintext = Buffer.concat([decipher.update(envelope.ciphertext), decipher.final()]);
  let record: string;
  try {
    record = utf8.decode(plaintext);
  } catch {
    throw new RecordError('not-utf8', 'the decrypted document is not valid UTF-8 (wrong data key or corrupt ciphertext?)');
  } finally {
    plaintext.fill(0);
  }
  try {
    JSON.parse(record);
  } catch {
    throw new RecordError('not-json', 'the decrypted document is not JSON (wrong data key or truncated ciphertext?)');
  }
  return {
    id: idJson,
    timestamp: cell.timestamp,
    record,
    db: context.db,
    collection: context.collection,
    rowKey: printableRowKey(cell.rowKey),
    recordType: envelope.recordType,
  };
}

const keyOf = (e: ParsedEnvelope): string => `${e.keyEncryptionKeyId}\u0000${e.encryptedEncryptionKey}`;

async function unwrapDistinct(parsed: readonly (ParsedEnvelope | RecordError)[], context: DecodeContext): Promise<Map<string, Buffer | RecordError>> {
  const wanted = new Map<string, ParsedEnvelope>();
  for (const e of parsed) if (!(e instanceof RecordError)) wanted.set(keyOf(e), e);
  const keys = new Map<string, Buffer | RecordError>();
  await Promise.all([...wanted].map(async ([id, e]) => {
    try {
      const key = await context.keys.unwrap(
        { keyEncryptionKeyId: e.keyEncryptionKeyId, encryptedEncryptionKey: e.encryptedEncryptionKey },
        context.correlationId,
        context.signal,
      );
      keys.set(id, key.length === 16 || key.length === 32 ? key : new RecordError('bad-data-key', `the data key is ${key.length} bytes, expected 16 or 32`));
    } catch (caught) {
      // Only a refusal of this one wrapped key quarantines its records; a service-wide failure (DKS down,
      // certificate revoked, retries spent) fails the collection so that nothing is quarantined for it.
      if (!(caught instanceof KeyRejectedError) || context.signal?.aborted) throw toError(caught);
      keys.set(id, new RecordError('unknown-data-key', `the key service refused the data key: ${caught.message}`));
    }
  }));
  return keys;
}
