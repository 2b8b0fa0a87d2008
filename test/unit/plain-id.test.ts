import { describe, expect, it } from 'vitest';
import { idJsonOf } from '../../src/contracts/row-key.js';
import { idJsonEquals, idShapeOf, IdShape } from '../../src/step/plain-id.js';
import { prng } from '../support/prng.js';

/** The slow path's answer: idJsonOf(JSON.parse(text)), or undefined when idJsonOf refuses the value. */
function idJsonBySlowPath(text: string): string | undefined {
  try {
    return idJsonOf(JSON.parse(text));
  } catch {
    return undefined;
  }
}

const KEYS = ['$oid', 'a', 'b', 'declarationId', 'sequence', 'Z', '10', '9', 'é', 'a b', 'id', 'a\\"', '_id', 'aa'];
const VALUES = ['"x"', '"Zoë ✓"', '""', '"a\\"b"', '"\\u0041"', '1', '-1', '0', '-0', '12', '1.5', '1e3', '123456789012345', '1234567890123456',
  'true', 'false', 'null', '{}', '[1]', '{"n":1}', '"\u2028"', '-123456789012345'];

function randomId(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  if (r() < 0.2) return pick(VALUES.filter((v) => v.startsWith('"')));
  if (r() < 0.05) return pick(['1', '42', '[]', 'null', '{}']);
  const keys = Array.from({ length: Math.floor(r() * 4) }, () => pick(KEYS));
  if (r() < 0.6) keys.sort();
  const ws = r() < 0.1 ? ' ' : '';
  return `{${keys.map((k) => `"${k}":${ws}${pick(VALUES)}`).join(',')}}`;
}

describe('idShapeOf and idJsonEquals', () => {
  it('agree with idJsonOf(JSON.parse(_id)) on 50 000 random ids, against the right idJson and a wrong one', () => {
    const r = prng(20261208);
    const counts = { [IdShape.Other]: 0, [IdShape.Object]: 0, [IdShape.String]: 0 };
    for (let n = 0; n < 50_000; n += 1) {
      const text = randomId(r);
      const idJson = idJsonBySlowPath(text);
      const bytes = Buffer.from(` ${text} `); // the _id inside a larger envelope
      const shape = idShapeOf(bytes, 1, bytes.length - 1);
      counts[shape] += 1;
      if (shape === IdShape.Other) continue;
      if (idJson === undefined) throw new Error(`${text}: plain, yet idJsonOf refuses it`);
      const key = Buffer.concat([Buffer.alloc(4), Buffer.from(idJson)]);
      expect(idJsonEquals(bytes, 1, bytes.length - 1, shape, key, 4), text).toBe(true);
      const other = Buffer.concat([Buffer.alloc(4), Buffer.from(`${idJson.slice(0, -1)} }`)]);
      expect(idJsonEquals(bytes, 1, bytes.length - 1, shape, other, 4), text).toBe(false);
      expect(idJsonEquals(bytes, 1, bytes.length - 1, shape, key.subarray(0, key.length - 1), 4), text).toBe(false);
    }
    // Both the plain path and the fallback are exercised.
    expect(counts[IdShape.Object]).toBeGreaterThan(5_000);
    expect(counts[IdShape.String]).toBeGreaterThan(2_000);
    expect(counts[IdShape.Other]).toBeGreaterThan(10_000);
  });

  it.each([
    ['{"declarationId":"0f1c-22","sequence":7}', IdShape.Object],
    ['"plain-id"', IdShape.String],
    ['{"$oid":"5f1c0a"}', IdShape.Object],
    ['{}', IdShape.Object],
    ['{"sequence":7,"declarationId":"x"}', IdShape.Other], // not sorted: idJsonOf reorders
    ['{"a":1,"a":2}', IdShape.Other], // a duplicate: JSON.parse keeps the last
    ['{"9":1,"a":2}', IdShape.Other], // an index key: JavaScript orders it first
    ['{"a": 1}', IdShape.Other], // whitespace
    ['{"a":-0}', IdShape.Other],
    ['{"a":1.0}', IdShape.Other],
    ['{"a":{"b":1}}', IdShape.Other],
    ['"a\\nb"', IdShape.Other],
    ['42', IdShape.Other],
  ])('%s is %s', (text, shape) => {
    const bytes = Buffer.from(text);
    expect(idShapeOf(bytes, 0, bytes.length)).toBe(shape);
  });
});
