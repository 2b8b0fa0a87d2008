/**
 * The decoder stage alone (issue 14): `decodeBatch` — envelope, data key lookup, AES-CTR, UTF-8 and JSON checks
 * and output rows — on the bench dataset's kind of cells (the seeder's documents trimmed to 1.0–1.6 KB, ~2.6 KB
 * envelopes, 16 data keys), 128 cells per batch as `collection-run.ts` hands them over, with the data keys
 * already unwrapped (an in-memory key service: the cache's hit path). Prints Node CPU-µs per record, median
 * of the rounds, so that a change to the decoder can be measured without the stack.
 *
 *   node --import ./bench/resolve-ts.ts bench/decoder.ts [--records 100000] [--rounds 5]
 */
import { parseArgs } from 'node:util';
import { aesCtrEncrypt } from '../src/contracts/aes-ctr.js';
import { buildEnvelope } from '../src/contracts/envelope.js';
import { seededRecords } from '../src/local/seeder/documents.js';
import type { Cell, KeyService, WrappedKey } from '../src/step/ports.js';
import { decodeBatch } from '../src/step/record-decoder.js';

const { values } = parseArgs({ options: { records: { type: 'string', default: '100000' }, rounds: { type: 'string', default: '5' } } });
const RECORDS = Number(values.records);
const ROUNDS = Number(values.rounds);
const BATCH = 128;
const KEYS = 16;

const dataKeys = Array.from({ length: KEYS }, (_, k) => Buffer.alloc(16, k + 1));
const keys: KeyService = {
  unwrap: (key: WrappedKey) => Promise.resolve(dataKeys[Number(key.encryptedEncryptionKey.slice(4))]!),
};
const target = (index: number): number => 1000 + ((index * 7919) % 600);

function cells(): Cell[] {
  const space = { seed: 'bench-decoder', collection: 'bench:decoder', from: Date.UTC(2025, 0, 1), until: Date.UTC(2025, 6, 1) };
  return [...seededRecords(space, RECORDS)].map((r) => {
    const doc = JSON.parse(r.plaintext) as { padding?: string };
    if (typeof doc.padding === 'string') doc.padding = doc.padding.slice(0, Math.max(0, target(r.index) - (r.plaintext.length - doc.padding.length)));
    const iv = Buffer.alloc(16, r.index % 251);
    const k = r.index % KEYS;
    const envelope = buildEnvelope({
      id: r.id, db: 'bench', collection: 'decoder', lastModifiedMs: r.timestamp, traceId: `trace-${r.index}`, unitOfWorkId: `uow-${r.index}`,
      ciphertext: aesCtrEncrypt(dataKeys[k]!, iv, Buffer.from(JSON.stringify(doc))), iv,
      keyEncryptionKeyId: 'cloudhsm:7,14', encryptedEncryptionKey: `key-${k}`,
    });
    return { rowKey: r.rowKey, timestamp: r.timestamp, value: Buffer.from(JSON.stringify(envelope)) };
  });
}

async function round(all: readonly Cell[]): Promise<number> {
  const start = process.cpuUsage();
  let rows = 0;
  for (let i = 0; i < all.length; i += BATCH) {
    const batch = await decodeBatch(all.slice(i, i + BATCH), { db: 'bench', collection: 'decoder', correlationId: 'bench', keys });
    rows += batch.rows.length;
    batch.release();
  }
  if (rows !== all.length) throw new Error(`decoded ${rows} of ${all.length} records`);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / all.length;
}

const all = cells();
const envelopeBytes = all.reduce((n, c) => n + c.value.length, 0) / all.length;
await round(all); // warm-up
const figures: number[] = [];
for (let r = 0; r < ROUNDS; r += 1) figures.push(await round(all));
figures.sort((a, b) => a - b);
console.log(JSON.stringify({
  records: RECORDS, envelopeBytes: Math.round(envelopeBytes), rounds: ROUNDS,
  cpuMicrosPerRecord: Number(figures[Math.floor(ROUNDS / 2)]!.toFixed(2)), every: figures.map((f) => Number(f.toFixed(2))),
}));
