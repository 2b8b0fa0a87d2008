import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32Of, decodeRowKey, idJsonOf, printableRowKey, rowKeyOf } from '../../src/contracts/row-key.js';
import { prng } from '../support/prng.js';

describe('row key', () => {
  it('sorts top-level _id keys and serialises compactly', () => {
    expect(idJsonOf({ z: 1, declarationId: 'x', a: { b: 2, a: 1 } })).toBe('{"a":{"b":2,"a":1},"declarationId":"x","z":1}');
  });

  it('wraps a string or number _id as {"id":"<value>"}', () => {
    expect(idJsonOf('abc')).toBe('{"id":"abc"}');
    expect(idJsonOf(42)).toBe('{"id":"42"}');
  });

  it('rejects an _id that is neither object, string nor number', () => {
    expect(() => idJsonOf([1])).toThrow(/array/);
    expect(() => idJsonOf(null)).toThrow(/object/);
  });

  it('prefixes the UTF-8 idJson with its big-endian CRC32', () => {
    const idJson = '{"declarationId":"café"}';
    const key = rowKeyOf(idJson);
    const body = Buffer.from(idJson, 'utf8');
    expect(key.readUInt32BE(0)).toBe(crc32(body));
    expect(key.subarray(4).equals(body)).toBe(true);
  });

  it('serialises an _id whose keys are already in order exactly as the sorted copy, integer-like keys included', () => {
    for (const id of [{ a: 1, b: { d: 1, c: 2 } }, { 1: 'x', 2: 'y', a: 'z' }, { 10: 'x', 9: 'y' }, { b: 1, a: 2 }, { $oid: '5f1c' }, {}]) {
      const sorted: Record<string, unknown> = {};
      for (const key of Object.keys(id).sort()) sorted[key] = (id as Record<string, unknown>)[key];
      expect(idJsonOf(id)).toBe(JSON.stringify(sorted));
    }
  });

  it('computes the CRC-32 zlib does, over any range of any length', () => {
    const r = prng(32);
    for (let n = 0; n < 600; n += 1) {
      const bytes = Buffer.from(Array.from({ length: Math.floor(r() * 400) }, () => Math.floor(r() * 256)));
      const start = Math.floor(r() * (bytes.length + 1));
      const end = start + Math.floor(r() * (bytes.length - start + 1));
      expect(crc32Of(bytes, start, end)).toBe(crc32(bytes.subarray(start, end)));
    }
  });

  it('decodes a key and checks its CRC', () => {
    const key = rowKeyOf('{"id":"1"}');
    expect(decodeRowKey(key)).toEqual({ idJson: '{"id":"1"}', checksumValid: true });
    key[0] = (key[0] ?? 0) ^ 0xff;
    expect(decodeRowKey(key).checksumValid).toBe(false);
    expect(printableRowKey(key)).toMatch(/^[0-9a-f]{8}\{"id":"1"\}$/);
  });
});
