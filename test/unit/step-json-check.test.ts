import { describe, expect, it } from 'vitest';
import { isJsonText, scanJsonText } from '../../src/step/json-check.js';
import { prng } from '../support/prng.js';

/** What the check must agree with: JSON.parse of the text TextDecoder makes of the bytes. */
function parses(bytes: Uint8Array): boolean {
  try {
    JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
    return true;
  } catch {
    return false;
  }
}

const utf8 = (text: string): Uint8Array => Buffer.from(text, 'utf8');

function randomValue(r: () => number, depth: number): string {
  const pick = Math.floor(r() * (depth > 4 ? 5 : 7));
  const ws = (): string => [' ', '', '', '\n', '\t', '\r', '  '][Math.floor(r() * 7)]!;
  switch (pick) {
    case 0: return ['0', '-0', '12', '-3.25', '1e5', '2E-3', '6.02e+23', '1.5e400'][Math.floor(r() * 8)]!;
    case 1: return ['true', 'false', 'null'][Math.floor(r() * 3)]!;
    case 2:
    case 3: return JSON.stringify(['', 'plain', 'Zoë “quoted” ✓', 'tab\tnew\nline', '\u0001\u001f', '\\ / "', '\ud83d\ude00', 'Ymholiad'][Math.floor(r() * 8)]);
    case 4: return `"\\u${Math.floor(r() * 65536).toString(16).padStart(4, '0')}\\/\\b\\f"`;
    case 5: return `[${ws()}${Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1)).join(`${ws()},${ws()}`)}${ws()}]`;
    default: return `{${ws()}${Array.from({ length: Math.floor(r() * 4) }, (_, k) => `"k${k}"${ws()}:${ws()}${randomValue(r, depth + 1)}`).join(`${ws()},${ws()}`)}${ws()}}`;
  }
}

/** One random edit: delete, duplicate or replace a byte with a JSON-significant one. */
function mutate(bytes: Uint8Array, r: () => number): Uint8Array {
  const out = Array.from(bytes);
  const at = Math.floor(r() * (out.length + 1));
  const significant = [0x22, 0x5c, 0x2c, 0x3a, 0x7b, 0x7d, 0x5b, 0x5d, 0x2d, 0x2e, 0x30, 0x31, 0x65, 0x45, 0x2b, 0x20, 0x0a, 0x00, 0x1f, 0x75, 0x74, 0x6e, 0x66, 0x61, 0x7f];
  const op = Math.floor(r() * 3);
  if (op === 0 && out.length > 0) out.splice(Math.min(at, out.length - 1), 1);
  else if (op === 1 && out.length > 0) out.splice(at, 0, out[Math.min(at, out.length - 1)]!);
  else out.splice(at, op === 2 ? 1 : 0, significant[Math.floor(r() * significant.length)]!);
  return Uint8Array.from(out);
}

// isJsonText checks in WebAssembly (json-check.wat); scanJsonText is the JavaScript scanner. Each must be JSON.parse.
describe.each([
  ['isJsonText (WebAssembly)', isJsonText],
  ['scanJsonText (JavaScript)', scanJsonText],
])('%s', (_, isJsonText) => {
  it.each([
    '{}', '[]', '0', '-0', '"x"', ' {"a":[1,2,{"b":null}],"c":true} ', '1.5e+10', '"\\ud800"', '"\u2028"', '[[[[[]]]]]',
    '{"a":1,"a":2}', '\ufeff{"bom":1}', '"\u007f"',
  ])('accepts %j as JSON.parse does', (text) => {
    expect(isJsonText(utf8(text))).toBe(true);
    expect(parses(utf8(text))).toBe(true);
  });

  it.each([
    '', ' ', '{', '}', '[1,]', '{"a":1,}', '{,}', '01', '1.', '.5', '-', '1e', '1e+', '+1', 'tru', 'nulll', '"abc', '"\\x"',
    '"\\u12G4"', '"\\u123"', '"\u0001"', '{"a" 1}', '{a:1}', '[1 2]', '{} {}', '\u00a0{}', '\ufeff\ufeff{}', 'NaN', 'Infinity',
    "'single'", '[1]]', '[[1]', '{"a":1}}',
  ])('refuses %j as JSON.parse does', (text) => {
    expect(isJsonText(utf8(text))).toBe(false);
    expect(parses(utf8(text))).toBe(false);
  });

  it('finds every ASCII character at every position of long strings (word-at-a-time scanning)', () => {
    for (let code = 0; code < 0x80; code += 1) {
      for (let at = 0; at < 13; at += 1) {
        const inner = Buffer.from(`${'a'.repeat(at)}${String.fromCharCode(code)}${'é✓'.repeat(3)}${'b'.repeat(12 - at)}`, 'utf8');
        const bytes = Buffer.concat([Buffer.from('["'), inner, Buffer.from('"]')]);
        expect(isJsonText(bytes), `character ${code} at ${at}`).toBe(parses(bytes));
      }
    }
  });

  it('gives the same verdict at every alignment of the bytes in their buffer (aligned word reads)', () => {
    for (let code = 0; code < 0x80; code += 1) {
      for (let at = 0; at < 9; at += 1) {
        const text = Buffer.from(`{"k":"${'a'.repeat(at)}${String.fromCharCode(code)}${'bcdefgh'.repeat(2)}"}`, 'utf8');
        const expected = parses(text);
        for (let offset = 0; offset < 4; offset += 1) {
          const host = new Uint8Array(new ArrayBuffer(text.length + 8));
          host.set(text, offset);
          expect(isJsonText(host.subarray(offset, offset + text.length)), `character ${code} at ${at}, offset ${offset}`).toBe(expected);
        }
      }
    }
  });

  it('finds every ASCII character at every position of long strings, before and after escapes', () => {
    for (let code = 0; code < 0x80; code += 1) {
      for (const at of [0, 3, 23, 24, 25, 26, 27, 40, 63, 64, 65, 97]) {
        const chars = Array.from({ length: 100 }, (_, k) => 'abcdefghé✓'[k % 10]!);
        chars[at] = String.fromCharCode(code);
        const text = chars.join('');
        for (const wrapped of [`["${text}"]`, `["${text.slice(0, 50)}\\n${text.slice(50)}", 1]`, `{"k":"\\u00e9${text}"}`]) {
          const bytes = Buffer.from(wrapped, 'utf8');
          expect(isJsonText(bytes), `character ${code} at ${at} in ${wrapped.slice(0, 12)}`).toBe(parses(bytes));
        }
      }
    }
  });

  it('reads texts of one memory that grows between them (a resizable buffer)', () => {
    const memory = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void })(16, { maxByteLength: 4096 });
    const host = new Uint8Array(memory); // length-tracking
    const put = (text: string): Uint8Array => {
      const bytes = Buffer.from(text);
      if (bytes.length > host.length) memory.resize(bytes.length);
      host.set(bytes);
      return host.subarray(0, bytes.length);
    };
    expect(isJsonText(put('["abcdefgh"]'))).toBe(true);
    expect(isJsonText(put(`["${'x'.repeat(2000)}\u0001"]`))).toBe(false);
    expect(isJsonText(put(`["${'x'.repeat(3000)}"]`))).toBe(true);
  });

  it('handles nesting far deeper than any stack', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    expect(isJsonText(utf8(deep))).toBe(true);
    expect(isJsonText(utf8(`${deep}]`))).toBe(false);
  });

  it('agrees with JSON.parse on 20 000 random documents and mutations of them', () => {
    const r = prng(20261125);
    let valid = 0;
    for (let n = 0; n < 20_000; n += 1) {
      let bytes = utf8(randomValue(r, 0));
      const edits = Math.floor(r() * 3);
      for (let e = 0; e < edits; e += 1) bytes = mutate(bytes, r);
      let expected: boolean;
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes);
        expected = parses(bytes);
      } catch {
        continue; // not UTF-8: the decoder refuses it before the JSON check is asked
      }
      if (isJsonText(bytes) !== expected) throw new Error(`disagrees on ${JSON.stringify(Buffer.from(bytes).toString('utf8'))}: JSON.parse says ${expected}`);
      if (expected) valid += 1;
    }
    // Both outcomes are well represented, or the comparison would prove little.
    expect(valid).toBeGreaterThan(4000);
    expect(valid).toBeLessThan(16_000);
  });
});

describe('the WebAssembly check', () => {
  it('hands documents above its memory to the JavaScript scanner, with the same verdict', () => {
    const big = Buffer.from(`{"padding":"${'ab'.repeat(600_000)}","n":[1,2,{"x":null}]}`);
    expect(isJsonText(big)).toBe(true);
    expect(isJsonText(Buffer.concat([big, Buffer.from(',')]))).toBe(false);
  });

  it('checks each document alone: nothing of a longer one before it is seen', () => {
    expect(isJsonText(Buffer.from(`["${'x'.repeat(5000)}"]`))).toBe(true);
    // Bytes of the previous, longer document still lie in the module's memory after these.
    expect(isJsonText(Buffer.from('["xx'))).toBe(false);
    expect(isJsonText(Buffer.from('[1'))).toBe(false);
    expect(isJsonText(Buffer.from('tru'))).toBe(false);
  });
});
