import { aesCtrEncrypt } from '../../contracts/aes-ctr.js';
import { buildEnvelope } from '../../contracts/envelope.js';
import type { Logger } from '../../shared/logger.js';
import { Random } from './random.js';
import { seededVersions, type RecordSpace } from './documents.js';

/**
 * Writes records exactly as the ingest pipeline does (DESIGN.md §3.1): pre-split `ns:table` tables with
 * family `cf`, CRC32-prefixed row keys, JSON envelopes, cell timestamp = `_lastModifiedDateTime`, and
 * `dbObject` = AES-128-CTR of the document under data keys obtained from the DKS, each key reused by many
 * records. Plaintexts, ids and timestamps are deterministic for a seed; data keys come from the DKS.
 */
export interface SeedPorts {
  createTable(name: string, options: { regions: number; versions: number }): Promise<unknown>;
  putCells(table: string, cells: { rowKey: Buffer; timestamp: number; value: Buffer }[]): Promise<void>;
  generateKey(correlationId: string): Promise<{ dataKeyEncryptionKeyId: string; plaintextDataKey: Buffer; ciphertextDataKey: string }>;
}

export interface SeedCollectionRequest {
  readonly collection: string;
  readonly space: RecordSpace;
  /** Record indexes to write: [firstIndex, firstIndex + records). */
  readonly firstIndex?: number;
  readonly records: number;
  readonly keys: number;
  readonly regions?: number;
}

export interface SeedCollectionResult {
  readonly collection: string;
  readonly records: number;
  readonly cells: number;
  readonly keys: number;
  readonly minTimestamp: number;
  readonly maxTimestamp: number;
}

const PUT_BATCH = 500;
const PUTS_IN_FLIGHT = 3;

export async function seedCollection(ports: SeedPorts, request: SeedCollectionRequest, logger: Logger): Promise<SeedCollectionResult> {
  const [db, table] = request.collection.split(':') as [string, string];
  await ports.createTable(request.collection, { regions: request.regions ?? 4, versions: 10 });
  const keys = await Promise.all(
    Array.from({ length: request.keys }, (_, i) => ports.generateKey(`seed-${request.collection}-${i}`)),
  );
  const random = new Random(`${request.space.seed}|${request.collection}|iv`);
  const inFlight = new Set<Promise<void>>();
  const put = async (cellsToPut: { rowKey: Buffer; timestamp: number; value: Buffer }[]): Promise<void> => {
    // Back-pressure: never hold more than a few batches of envelopes in memory.
    while (inFlight.size >= PUTS_IN_FLIGHT) await Promise.race(inFlight);
    const p = ports.putCells(request.collection, cellsToPut).finally(() => inFlight.delete(p));
    inFlight.add(p);
    p.catch(() => undefined); // observed by the next race or the final Promise.all
  };
  let batch: { rowKey: Buffer; timestamp: number; value: Buffer }[] = [];
  let cells = 0;
  let minTimestamp = Number.POSITIVE_INFINITY;
  let maxTimestamp = Number.NEGATIVE_INFINITY;
  const first = request.firstIndex ?? 0;
  for (let index = first; index < first + request.records; index += 1) {
    const key = keys[index % keys.length]!;
    for (const version of seededVersions(request.space, index)) {
      const iv = random.bytes(16);
      const envelope = buildEnvelope({
        id: version.id,
        db,
        collection: table,
        recordType: version.recordType,
        lastModifiedMs: version.timestamp,
        traceId: `trace-${random.hex(12)}`,
        unitOfWorkId: `uow-${random.hex(12)}`,
        ciphertext: aesCtrEncrypt(key.plaintextDataKey, iv, Buffer.from(version.plaintext, 'utf8')),
        iv,
        keyEncryptionKeyId: key.dataKeyEncryptionKeyId,
        encryptedEncryptionKey: key.ciphertextDataKey,
      });
      batch.push({ rowKey: version.rowKey, timestamp: version.timestamp, value: Buffer.from(JSON.stringify(envelope)) });
      cells += 1;
      minTimestamp = Math.min(minTimestamp, version.timestamp);
      maxTimestamp = Math.max(maxTimestamp, version.timestamp);
    }
    if (batch.length >= PUT_BATCH) {
      await put(batch);
      batch = [];
    }
  }
  if (batch.length > 0) await put(batch);
  await Promise.all(inFlight);
  for (const key of keys) key.plaintextDataKey.fill(0);
  logger.info({ collection: request.collection, records: request.records, cells, keys: keys.length }, 'collection seeded');
  return { collection: request.collection, records: request.records, cells, keys: keys.length, minTimestamp, maxTimestamp };
}
