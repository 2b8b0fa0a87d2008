import { describe, expect, it } from 'vitest';
import { PartBuffer } from '../../src/sink/part-buffer.js';
import type { OutputRow } from '../../src/step/ports.js';

const row = (i: number, record: string, withBytes: boolean): OutputRow => ({
  id: `{"id":"${i}"}`, timestamp: 1_600_000_000_000 + i, record, db: 'core', collection: 'addresses',
  rowKey: `key-${i}`, recordType: 'MONGO_UPDATE',
  ...(withBytes ? { recordUtf8: Buffer.from(record, 'utf8') } : {}),
});

describe('PartBuffer with the record\'s UTF-8 bytes', () => {
  it('builds the same part from the bytes as from the text, and keeps its own copy', () => {
    const records = Array.from({ length: 3000 }, (_, i) => `{"n":${i},"name":"Łukasz — “moved” ✓ 😀","pad":"${'x'.repeat(i % 700)}"}`);
    const fromText = new PartBuffer({ partMaxRows: 10_000, partMaxBytes: 1 << 30 });
    const fromBytes = new PartBuffer({ partMaxRows: 10_000, partMaxBytes: 1 << 30 });
    const given: Uint8Array[] = [];
    records.forEach((record, i) => {
      fromText.append(row(i, record, false));
      const r = row(i, record, true);
      fromBytes.append(r);
      given.push(r.recordUtf8!);
    });
    // The producer zeroes its plaintext once the write resolved: the part must not share that memory.
    for (const bytes of given) bytes.fill(0);
    expect(fromBytes.bytes).toBe(fromText.bytes);
    const a = fromText.take().columns.record;
    const b = fromBytes.take().columns.record;
    expect(Array.from(b.offsets.subarray(0, records.length + 1))).toEqual(Array.from(a.offsets.subarray(0, records.length + 1)));
    expect(Buffer.from(b.data)).toEqual(Buffer.from(a.data));
  });
});
