/**
 * When a record's `_id` JSON is already its idJson (row-key.ts: `_id` with top-level keys sorted, serialised
 * compactly by JSON.stringify), the row key can be checked against the envelope's bytes, without `JSON.parse`
 * and `idJsonOf` for every record. Only plain shapes are recognised, those for which the bytes are certainly what
 * `idJsonOf(JSON.parse(bytes))` writes:
 * - a string with no escape (idJson wraps it: `{"id":<string>}`);
 * - a flat object, no whitespace, of ASCII keys in strictly increasing order (so no duplicates), none made of
 *   digits only (JavaScript orders those first), with values that are strings with no escape, integers of at most
 *   15 digits (not -0), true, false or null.
 * Anything else is `IdShape.Other`, and the caller parses. The bytes must be one valid JSON value (envelope-scan.ts
 * has checked them). Fuzzed against idJsonOf in plain-id.test.ts.
 */
export const IdShape = { Other: 0, Object: 1, String: 2 } as const;
export type IdShape = (typeof IdShape)[keyof typeof IdShape];

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MAX_DIGITS = 15;

export function idShapeOf(bytes: Uint8Array, start: number, end: number): IdShape {
  if (bytes[start] === QUOTE) return plainStringEnd(bytes, start + 1, end) === end - 1 ? IdShape.String : IdShape.Other;
  if (bytes[start] !== 0x7b || bytes[end - 1] !== 0x7d) return IdShape.Other;
  let i = start + 1;
  if (i === end - 1) return IdShape.Object; // {}
  let previousKey = -1;
  let previousKeyEnd = -1;
  for (;;) {
    if (bytes[i] !== QUOTE) return IdShape.Other;
    const key = i + 1;
    const keyEnd = asciiKeyEnd(bytes, key, end);
    if (keyEnd < 0 || (previousKey >= 0 && compare(bytes, previousKey, previousKeyEnd, key, keyEnd) >= 0)) return IdShape.Other;
    previousKey = key;
    previousKeyEnd = keyEnd;
    if (bytes[keyEnd + 1] !== 0x3a) return IdShape.Other;
    i = scalarEnd(bytes, keyEnd + 2, end);
    if (i < 0) return IdShape.Other;
    if (bytes[i] === 0x7d) return i === end - 1 ? IdShape.Object : IdShape.Other;
    if (bytes[i] !== 0x2c) return IdShape.Other;
    i += 1;
  }
}

/** The closing quote of a string whose content starts at `i`, if it has no escape; else -1. */
function plainStringEnd(bytes: Uint8Array, i: number, end: number): number {
  for (; i < end; i += 1) {
    const b = bytes[i]!;
    if (b === QUOTE) return i;
    if (b === BACKSLASH) return -1;
  }
  return -1;
}

/** The closing quote of a key of printable ASCII, not all digits, with no escape; else -1. */
function asciiKeyEnd(bytes: Uint8Array, i: number, end: number): number {
  let digitsOnly = true;
  for (; i < end; i += 1) {
    const b = bytes[i]!;
    if (b === QUOTE) return digitsOnly ? -1 : i;
    if (b === BACKSLASH || b < 0x20 || b > 0x7e) return -1;
    if (b < 0x30 || b > 0x39) digitsOnly = false;
  }
  return -1;
}

/** The position after a plain scalar value at `i`; else -1. */
function scalarEnd(bytes: Uint8Array, i: number, end: number): number {
  const b = bytes[i];
  if (b === QUOTE) {
    const close = plainStringEnd(bytes, i + 1, end);
    return close < 0 ? -1 : close + 1;
  }
  if (b === 0x74 || b === 0x6e) return i + 4; // true, null (valid JSON: the letters follow)
  if (b === 0x66) return i + 5; // false
  let j = b === 0x2d ? i + 1 : i;
  const digits = j;
  while (j < end && bytes[j]! >= 0x30 && bytes[j]! <= 0x39) j += 1;
  const count = j - digits;
  if (count === 0 || count > MAX_DIGITS) return -1;
  if (b === 0x2d && count === 1 && bytes[digits] === 0x30) return -1; // -0 is written 0
  // A fraction or an exponent follows: not a plain integer.
  return bytes[j] === 0x2e || bytes[j] === 0x65 || bytes[j] === 0x45 ? -1 : j;
}

/** Byte order of [a, aEnd) and [b, bEnd): the order of their strings too, both being ASCII. */
function compare(bytes: Uint8Array, a: number, aEnd: number, b: number, bEnd: number): number {
  const n = Math.min(aEnd - a, bEnd - b);
  for (let k = 0; k < n; k += 1) {
    const d = bytes[a + k]! - bytes[b + k]!;
    if (d !== 0) return d;
  }
  return aEnd - a - (bEnd - b);
}

const WRAP_OPEN = Buffer.from('{"id":', 'latin1');

/**
 * Whether `target[from..]` is the idJson of the `_id` of shape `shape` at `bytes[start, end)`; undefined when the
 * shape is not plain (then the caller compares `idJsonOf(id)`).
 */
export function idJsonEquals(bytes: Buffer, start: number, end: number, shape: IdShape, target: Uint8Array, from: number): boolean | undefined {
  if (shape === IdShape.Other) return undefined;
  const length = end - start;
  if (shape === IdShape.Object) return target.length - from === length && bytes.compare(target, from, target.length, start, end) === 0;
  const open = WRAP_OPEN.length;
  return target.length - from === open + length + 1
    && WRAP_OPEN.compare(target, from, from + open) === 0
    && bytes.compare(target, from + open, target.length - 1, start, end) === 0
    && target[target.length - 1] === 0x7d;
}
