import { aesCtrEncrypt } from '../src/contracts/aes-ctr.js';
import { buildEnvelope } from '../src/contracts/envelope.js';
import { seededVersions, type RecordSpace, type SeededRecord } from '../src/local/seeder/documents.js';
import { Random } from '../src/local/seeder/random.js';
import type { SeedCollectionResult, SeedPorts } from '../src/local/seeder/seed.js';

/**
 * The benchmark's bulk writer: the seeder's records, envelopes and encryption (same contracts, same data
 * keys from the DKS, one record in ten with a superseded older version), with two differences:
 * - documents are trimmed to ~1.3 KB (the seeder's random padding makes ~3 KB), so that envelopes are the
 *   ~2.3 KB of the production data the targets were set on;
 * - bigger puts, more of them in flight: HBase ingests 1M records in minutes rather than tens of minutes.
 */
export interface BulkSeedRequest {
  readonly collection: string;
  readonly space: RecordSpace;
  readonly records: number;
  readonly keys: number;
  readonly regions: number;
  /** Document length (UTF-16 units) of record `index`; default 1.0–1.6 KB (the bench dataset). */
  readonly documentLength?: (index: number) => number;
}

/** Names this generator in the dataset marker: a change to the records written must change it. */
export const BULK_SEED_GENERATOR = 'bulk-seed-1 (documents 1.0-1.6 KB)';

const PUT_CELLS = 1000;
/** …or fewer when cells are large: one PUT of at most about this many bytes. */
const PUT_BYTES = 8 * 1024 * 1024;
const PUTS_IN_FLIGHT = 4;

type CellToPut = { rowKey: Buffer; timestamp: number; value: Buffer };

/** Document length (UTF-16 units) for record `index`: 1.0–1.6 KB, spread so rows are not all alike. */
const targetLength = (index: number): number => 1000 + ((index * 7919) % 600);

/** The seeder's document with its random padding cut (or repeated) to reach the target length (never below empty). */
function sized(version: SeededRecord, length: number): string {
  const doc = JSON.parse(version.plaintext) as { padding?: string };
  if (typeof doc.padding !== 'string' || doc.padding.length === 0) return version.plaintext; // a superseded version: already small
  const rest = version.plaintext.length - doc.padding.length;
  const wanted = Math.max(0, length - rest);
  doc.padding = doc.padding.repeat(Math.ceil(wanted / doc.padding.length)).slice(0, wanted);
  return JSON.stringify(doc);
}

export async function bulkSeed(ports: SeedPorts, request: BulkSeedRequest): Promise<SeedCollectionResult> {
  const [db, table] = request.collection.split(':') as [string, string];
  await ports.createTable(request.collection, { regions: request.regions, versions: 10 });
  const keys = await Promise.all(Array.from({ length: request.keys }, (_, i) => ports.generateKey(`bench-seed-${request.collection}-${i}`)));
  const random = new Random(`${request.space.seed}|${request.collection}|iv`);
  const inFlight = new Set<Promise<void>>();
  const put = async (cells: CellToPut[]): Promise<void> => {
    while (inFlight.size >= PUTS_IN_FLIGHT) await Promise.race(inFlight);
    const p = ports.putCells(request.collection, cells).finally(() => inFlight.delete(p));
    inFlight.add(p);
    p.catch(() => undefined); // observed by the next race or the final Promise.all
  };
  let batch: CellToPut[] = [];
  let batchBytes = 0;
  let cells = 0;
  let minTimestamp = Number.POSITIVE_INFINITY;
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  try {
    for (let index = 0; index < request.records; index += 1) {
      const key = keys[index % keys.length]!;
      for (const version of seededVersions(request.space, index)) {
        const iv = random.bytes(16);
        const envelope = buildEnvelope({
          id: version.id, db, collection: table, recordType: version.recordType, lastModifiedMs: version.timestamp,
          traceId: `trace-${random.hex(12)}`, unitOfWorkId: `uow-${random.hex(12)}`,
          ciphertext: aesCtrEncrypt(key.plaintextDataKey, iv, Buffer.from(sized(version, (request.documentLength ?? targetLength)(version.index)), 'utf8')),
          iv, keyEncryptionKeyId: key.dataKeyEncryptionKeyId, encryptedEncryptionKey: key.ciphertextDataKey,
        });
        const value = Buffer.from(JSON.stringify(envelope));
        batch.push({ rowKey: version.rowKey, timestamp: version.timestamp, value });
        batchBytes += value.length;
        cells += 1;
        if (version.timestamp < minTimestamp) minTimestamp = version.timestamp;
        if (version.timestamp > maxTimestamp) maxTimestamp = version.timestamp;
      }
      if (batch.length >= PUT_CELLS || batchBytes >= PUT_BYTES) {
        await put(batch);
        batch = [];
        batchBytes = 0;
      }
    }
    if (batch.length > 0) await put(batch);
    await Promise.all(inFlight);
  } finally {
    for (const key of keys) key.plaintextDataKey.fill(0);
  }
  return { collection: request.collection, records: request.records, cells, keys: keys.length, minTimestamp, maxTimestamp };
}
