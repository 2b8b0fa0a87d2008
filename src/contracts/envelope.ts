import { formatIngestTimestamp } from '../shared/time.js';

/**
 * The JSON envelope stored in each `cf:record` cell (DESIGN.md §3.1). The seeder builds it; the step parses it.
 */
export interface Envelope {
  traceId: string;
  unitOfWorkId: string;
  '@type': 'V4';
  version: string;
  timestamp: string;
  put_time?: string;
  message: EnvelopeMessage;
}

export interface EnvelopeMessage {
  '@type': string;
  _id: unknown;
  _lastModifiedDateTime?: string;
  collection: string;
  db: string;
  dbObject: string;
  timestamp_created_from: string;
  encryption: {
    keyEncryptionKeyId: string;
    initialisationVector: string;
    encryptedEncryptionKey: string;
  };
}

export interface EnvelopeInput {
  readonly id: unknown;
  readonly db: string;
  readonly collection: string;
  readonly recordType?: string;
  readonly lastModifiedMs: number;
  readonly traceId: string;
  readonly unitOfWorkId: string;
  readonly ciphertext: Uint8Array;
  readonly iv: Uint8Array;
  readonly keyEncryptionKeyId: string;
  readonly encryptedEncryptionKey: string;
}

export const ENVELOPE_VERSION = 'core-4.release_152.16';

export function buildEnvelope(input: EnvelopeInput): Envelope {
  const modified = formatIngestTimestamp(input.lastModifiedMs);
  return {
    traceId: input.traceId,
    unitOfWorkId: input.unitOfWorkId,
    '@type': 'V4',
    version: ENVELOPE_VERSION,
    timestamp: modified,
    put_time: modified,
    message: {
      '@type': input.recordType ?? 'MONGO_UPDATE',
      _id: input.id,
      _lastModifiedDateTime: modified,
      collection: input.collection,
      db: input.db,
      dbObject: Buffer.from(input.ciphertext).toString('base64'),
      timestamp_created_from: '_lastModifiedDateTime',
      encryption: {
        keyEncryptionKeyId: input.keyEncryptionKeyId,
        initialisationVector: Buffer.from(input.iv).toString('base64'),
        encryptedEncryptionKey: input.encryptedEncryptionKey,
      },
    },
  };
}

/** What the step needs from an envelope, checked. */
export interface ParsedEnvelope {
  readonly id: unknown;
  /**
   * Whether `bytes[from..]` are exactly `idJsonOf(id)` in UTF-8, when that can be told without parsing `_id`
   * (the step's envelope scanner, for plain `_id`s); undefined when it cannot: then compare `idJsonOf(id)`.
   */
  idJsonEquals?(bytes: Uint8Array, from: number): boolean | undefined;
  readonly recordType: string;
  readonly ciphertext: Buffer;
  readonly iv: Buffer;
  readonly keyEncryptionKeyId: string;
  readonly encryptedEncryptionKey: string;
}

/** Why a record cannot be processed; the record is quarantined still encrypted with this reason. */
export type QuarantineReason =
  | 'empty-value'
  | 'malformed-envelope'
  | 'missing-field'
  | 'bad-base64'
  | 'bad-iv-length'
  | 'row-key-mismatch'
  | 'unknown-data-key'
  | 'bad-data-key'
  // The wrapped key is not standard base64 or decodes to an implausible length (checked before any DKS call).
  | 'wrapped-key-malformed'
  // keyEncryptionKeyId is empty, too long, or holds control characters or lone surrogates.
  | 'key-id-malformed'
  // DKS kept failing (5xx after retries) on this one key while other keys unwrapped in the same run.
  | 'key-unwrap-failed'
  // DKS answered 413 (request body too large) or 431 (request headers, i.e. the keyId, too large) for this key.
  | 'dks-body-too-large'
  | 'dks-headers-too-large'
  | 'not-utf8'
  | 'not-json'
  | 'too-large';

export class RecordError extends Error {
  constructor(
    readonly reason: QuarantineReason,
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
    this.name = 'RecordError';
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function parseEnvelope(value: Uint8Array | string): ParsedEnvelope {
  if (value.length === 0) throw new RecordError('empty-value', 'the cell is empty');
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof value === 'string' ? value : Buffer.from(value.buffer, value.byteOffset, value.length).toString('utf8'));
  } catch (error) {
    throw new RecordError('malformed-envelope', `envelope is not JSON (${(error as Error).message})`);
  }
  const message = field(parsed, 'message', 'object') as Record<string, unknown>;
  const encryption = field(message, 'encryption', 'object', 'message.') as Record<string, unknown>;
  if (!('_id' in message)) throw new RecordError('missing-field', 'message._id is missing');
  const ivText = field(encryption, 'initialisationVector', 'string', 'message.encryption.') as string;
  const dbObject = field(message, 'dbObject', 'string', 'message.') as string;
  const iv = base64(ivText, 'message.encryption.initialisationVector');
  if (iv.length !== 16) throw new RecordError('bad-iv-length', `initialisationVector is ${iv.length} bytes, expected 16`);
  return {
    id: message._id,
    recordType: typeof message['@type'] === 'string' ? message['@type'] : 'UNKNOWN',
    ciphertext: base64(dbObject, 'message.dbObject'),
    iv,
    keyEncryptionKeyId: field(encryption, 'keyEncryptionKeyId', 'string', 'message.encryption.') as string,
    encryptedEncryptionKey: field(encryption, 'encryptedEncryptionKey', 'string', 'message.encryption.') as string,
  };
}

function field(holder: unknown, name: string, type: 'object' | 'string', path = ''): unknown {
  if (holder === null || typeof holder !== 'object') throw new RecordError('malformed-envelope', `${path || 'envelope'} is not an object`);
  const found = (holder as Record<string, unknown>)[name];
  if (found === undefined || found === null) throw new RecordError('missing-field', `${path}${name} is missing`);
  if (typeof found !== type || (type === 'string' && found === '')) {
    throw new RecordError('missing-field', `${path}${name} must be a non-empty ${type}`);
  }
  return found;
}

function base64(text: string, path: string): Buffer {
  const bytes = Buffer.from(text, 'base64');
  // Canonical base64 re-encodes to itself, which proves it valid at native speed (the regex costs ~10 µs
  // on a 2 KB dbObject, the round trip ~1 µs); anything else gets the strict check, unchanged.
  if (bytes.toString('base64') !== text && (text.length % 4 !== 0 || !BASE64.test(text))) {
    throw new RecordError('bad-base64', `${path} is not valid base64`);
  }
  return bytes;
}
