import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeRowKey, idJsonOf, printableRowKey, rowKeyOf } from '../../src/contracts/row-key.js';

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

  it('decodes a key and checks its CRC', () => {
    const key = rowKeyOf('{"id":"1"}');
    expect(decodeRowKey(key)).toEqual({ idJson: '{"id":"1"}', checksumValid: true });
    key[0] = (key[0] ?? 0) ^ 0xff;
    expect(decodeRowKey(key).checksumValid).toBe(false);
    expect(printableRowKey(key)).toMatch(/^[0-9a-f]{8}\{"id":"1"\}$/);
  });
});
