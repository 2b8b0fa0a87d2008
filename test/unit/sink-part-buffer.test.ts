import { describe, expect, it } from 'vitest';
import { PartBuffer, partBuffers, STRING_COLUMNS, type ColumnarPart, type StringColumnName } from '../../src/sink/part-buffer.js';
import type { OutputRow } from '../../src/step/ports.js';

const row = (i: number, record = `{"n":${i}}`): OutputRow => ({
  id: `{"id":"${i}"}`, timestamp: 1_600_000_000_000 + i, record, db: 'core', collection: 'addresses',
  rowKey: `key-${i}`, recordType: 'MONGO_UPDATE',
});

function valuesOf(part: ColumnarPart, name: StringColumnName): string[] {
  const column = part.columns[name];
  const data = Buffer.from(column.data.buffer, column.data.byteOffset, column.data.byteLength);
  return Array.from({ length: part.rows }, (_, i) => data.toString('utf8', column.offsets[i], column.offsets[i + 1]));
}

const utf8 = (text: string): number => Buffer.byteLength(text, 'utf8');

describe('PartBuffer', () => {
  it('is full once it holds partMaxRows rows', () => {
    const buffer = new PartBuffer({ partMaxRows: 3, partMaxBytes: 1 << 30 });
    buffer.append(row(1));
    buffer.append(row(2));
    expect(buffer.isFull).toBe(false);
    buffer.append(row(3));
    expect(buffer.isFull).toBe(true);
  });

  it('counts the exact UTF-8 bytes of every column plus 8 per timestamp', () => {
    const buffer = new PartBuffer({ partMaxRows: 100, partMaxBytes: 1 << 30 });
    const r = row(7, '{"name":"Łukasz — “moved” ✓ 😀"}');
    buffer.append(r);
    const expected = 8 + utf8(r.id) + utf8(r.record) + utf8(r.db) + utf8(r.collection) + utf8(r.rowKey) + utf8(r.recordType);
    expect(buffer.bytes).toBe(expected);
  });

  it('is full once its uncompressed bytes reach partMaxBytes', () => {
    const record = 'x'.repeat(1000);
    const buffer = new PartBuffer({ partMaxRows: 1_000_000, partMaxBytes: 10_000 });
    let appended = 0;
    while (!buffer.isFull) {
      buffer.append(row(appended, record));
      appended += 1;
    }
    expect(appended).toBe(10);
    expect(buffer.bytes).toBeGreaterThanOrEqual(10_000);
  });

  it('keeps every value byte for byte as its buffers grow', () => {
    const buffer = new PartBuffer({ partMaxRows: 1_000_000, partMaxBytes: 1 << 30 });
    const rows = Array.from({ length: 3000 }, (_, i) => row(i, `{"text":"${'é✓😀'.repeat(i % 97)}${'a'.repeat(i % 1500)}"}`));
    for (const r of rows) buffer.append(r);
    const part = buffer.take();
    expect(part.columns.record.data.byteLength).toBeGreaterThan(64 * 1024 * 4);
    expect(valuesOf(part, 'record')).toEqual(rows.map((r) => r.record));
    expect(valuesOf(part, 'id')).toEqual(rows.map((r) => r.id));
    expect(valuesOf(part, 'row_key')).toEqual(rows.map((r) => r.rowKey));
    expect(Array.from(part.timestamps.subarray(0, part.rows))).toEqual(rows.map((r) => r.timestamp));
  });

  it('keeps empty strings as empty values', () => {
    const buffer = new PartBuffer({ partMaxRows: 10, partMaxBytes: 1 << 20 });
    buffer.append({ ...row(1), record: '', recordType: '' });
    buffer.append(row(2));
    const part = buffer.take();
    expect(valuesOf(part, 'record')).toEqual(['', '{"n":2}']);
    expect(valuesOf(part, 'record_type')).toEqual(['', 'MONGO_UPDATE']);
  });

  it('takes a value larger than its reserved room', () => {
    const buffer = new PartBuffer({ partMaxRows: 10, partMaxBytes: 1024 });
    const huge = `{"blob":"${'é'.repeat(12 * 1024 * 1024)}"}`;
    buffer.append(row(1));
    buffer.append(row(2, huge));
    buffer.append(row(3));
    expect(valuesOf(buffer.take(), 'record')).toEqual(['{"n":1}', huge, '{"n":3}']);
  });

  it('rejects a row whose timestamp is not integer epoch ms, without keeping any of it', () => {
    const buffer = new PartBuffer({ partMaxRows: 10, partMaxBytes: 1 << 20 });
    buffer.append(row(1));
    expect(() => buffer.append({ ...row(2), timestamp: 1.5 })).toThrow(/timestamp/);
    expect(() => buffer.append({ ...row(3), timestamp: Number.NaN })).toThrow(/timestamp/);
    const part = buffer.take();
    expect(part.rows).toBe(1);
    for (const name of STRING_COLUMNS) expect(valuesOf(part, name)).toHaveLength(1);
  });

  it('marks a column uniform while every value is the same, and only then', () => {
    const buffer = new PartBuffer({ partMaxRows: 100, partMaxBytes: 1 << 20 });
    // Equal values that are different string objects are still one value.
    for (let i = 0; i < 10; i += 1) buffer.append({ ...row(i), recordType: ['MONGO_', 'UPDATE'].join(''), db: i < 9 ? 'core' : 'other' });
    const part = buffer.take();
    expect(Object.fromEntries(STRING_COLUMNS.map((name) => [name, part.columns[name].uniform]))).toEqual({
      id: false, record: false, db: false, collection: true, row_key: false, record_type: true,
    });
    buffer.append(row(1));
    expect(buffer.take().columns.id.uniform).toBe(true);
  });

  it('starts an empty part after take()', () => {
    const buffer = new PartBuffer({ partMaxRows: 2, partMaxBytes: 1 << 20 });
    buffer.append(row(1));
    buffer.append(row(2));
    const first = buffer.take();
    expect([buffer.rows, buffer.bytes, buffer.isFull]).toEqual([0, 0, false]);
    buffer.append(row(3));
    expect(valuesOf(buffer.take(), 'id')).toEqual(['{"id":"3"}']);
    expect(valuesOf(first, 'id')).toEqual(['{"id":"1"}', '{"id":"2"}']);
  });

  it('owns whole ArrayBuffers, so a part can be transferred without copying a shared pool', () => {
    const buffer = new PartBuffer({ partMaxRows: 10, partMaxBytes: 1 << 20 });
    buffer.append(row(1));
    const part = buffer.take();
    const buffers = partBuffers(part);
    expect(buffers).toContain(part.columns.record.data.buffer);
    expect(part.columns.record.data.byteOffset).toBe(0);
    const { port1 } = new MessageChannel();
    port1.postMessage(part, buffers);
    port1.close();
    expect(part.timestamps.byteLength).toBe(0);
  });

  it('fills the next part into a recycled part\'s buffers, and keeps every value of it', () => {
    const buffer = new PartBuffer({ partMaxRows: 1_000_000, partMaxBytes: 1 << 20 });
    const big = Array.from({ length: 2000 }, (_, i) => row(i, `{"text":"${'a'.repeat(200)}"}`));
    for (const r of big) buffer.append(r);
    const spent = buffer.take();
    const committed = spent.columns.record.data.buffer.byteLength;
    buffer.recycle(spent);
    buffer.append(row(1)); // the part after take() was already started: recycling serves the one after it
    buffer.take();
    const small = Array.from({ length: 1500 }, (_, i) => row(5000 + i, `{"é✓":"${i}"}`));
    for (const r of small) buffer.append(r);
    const next = buffer.take();
    expect(next.columns.record.data.buffer).toBe(spent.columns.record.data.buffer);
    expect(next.columns.record.data.buffer.byteLength).toBe(committed);
    expect(next.timestamps).toBe(spent.timestamps);
    expect(valuesOf(next, 'record')).toEqual(small.map((r) => r.record));
    expect(valuesOf(next, 'id')).toEqual(small.map((r) => r.id));
    expect(Array.from(next.timestamps.subarray(0, next.rows))).toEqual(small.map((r) => r.timestamp));
  });

  it('takes fresh buffers when the recycled part\'s were detached (transferred away)', () => {
    const buffer = new PartBuffer({ partMaxRows: 10, partMaxBytes: 1 << 20 });
    buffer.append(row(1));
    const spent = buffer.take();
    const { port1 } = new MessageChannel();
    port1.postMessage(spent, partBuffers(spent));
    port1.close();
    buffer.recycle(spent);
    buffer.take();
    buffer.append(row(2));
    expect(valuesOf(buffer.take(), 'id')).toEqual(['{"id":"2"}']);
  });
});
