import { createHash } from 'node:crypto';
import { aesCtrEncrypt } from '../../../src/contracts/aes-ctr.js';
import { buildEnvelope, type Envelope } from '../../../src/contracts/envelope.js';
import { idJsonOf, rowKeyOf } from '../../../src/contracts/row-key.js';
import { STANDALONE_KEY_ID, standaloneWrap } from '../../../src/contracts/standalone-keys.js';
import type { Cell } from '../../../src/step/ports.js';

/**
 * Hand-made records for the reliability suite, built as the ingest pipeline writes them (DESIGN.md §3.1),
 * deterministic from a label so a test can rebuild the truth. Keys are STANDALONE: any DKS unwraps them.
 */
export const bytesOf = (label: string, length: number): Buffer => {
  const out = Buffer.alloc(length);
  let block = createHash('sha256').update(label).digest();
  for (let offset = 0; offset < length; offset += block.length) {
    block.copy(out, offset);
    block = createHash('sha256').update(block).digest();
  }
  return out;
};

export interface DataKey {
  readonly plaintext: Buffer;
  readonly keyEncryptionKeyId: string;
  readonly encryptedEncryptionKey: string;
}

export function dataKey(label: string, length: 16 | 32 = 16): DataKey {
  const plaintext = bytesOf(`key:${label}`, length);
  return { plaintext, keyEncryptionKeyId: STANDALONE_KEY_ID, encryptedEncryptionKey: standaloneWrap(plaintext) };
}

export interface RecordSpec {
  readonly id: unknown;
  readonly timestamp: number;
  /** The decrypted document's bytes (normally UTF-8 JSON). */
  readonly plaintext: Buffer;
  readonly key: DataKey;
  readonly iv?: Buffer;
  readonly db: string;
  readonly collection: string;
}

/** The envelope of a well-formed record (before any deliberate damage). */
export function envelopeOf(spec: RecordSpec): Envelope {
  const iv = spec.iv ?? bytesOf(`iv:${JSON.stringify(spec.id)}`, 16);
  return buildEnvelope({
    id: spec.id,
    db: spec.db,
    collection: spec.collection,
    lastModifiedMs: spec.timestamp,
    traceId: 'trace-reliability',
    unitOfWorkId: 'uow-reliability',
    ciphertext: aesCtrEncrypt(spec.key.plaintext, iv, spec.plaintext),
    iv,
    keyEncryptionKeyId: spec.key.keyEncryptionKeyId,
    encryptedEncryptionKey: spec.key.encryptedEncryptionKey,
  });
}

/** A well-formed cell: row key of the `_id`, cell timestamp, JSON envelope. */
export function cellOf(spec: RecordSpec, damage: (envelope: Envelope) => unknown = (e) => e): Cell {
  const value = damage(envelopeOf(spec));
  return {
    rowKey: rowKeyOf(idJsonOf(spec.id)),
    timestamp: spec.timestamp,
    value: Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value), 'utf8'),
  };
}

/** A JSON document of about `size` bytes whose bulk is incompressible (base64 of pseudo-random bytes). */
export function bigDocument(id: string, size: number): Buffer {
  const blob = bytesOf(`blob:${id}`, Math.ceil((size * 3) / 4)).toString('base64').slice(0, size);
  return Buffer.from(JSON.stringify({ _id: { id }, blob }), 'utf8');
}
