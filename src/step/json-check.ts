/**
 * Whether UTF-8 bytes are one JSON text, exactly as `JSON.parse` decides it (ECMA-404 / RFC 8259:
 * whitespace is space, tab, LF and CR; strings hold no unescaped U+0000–U+001F; escapes are \" \\ \/ \b
 * \f \n \r \t \uXXXX; numbers -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?; nesting of any depth).
 *
 * Why not `JSON.parse`: validation only needs a yes or no, and building every document's objects costs
 * ~4× more than scanning its bytes, plus the garbage collection of what was built. The input must already
 * be valid UTF-8 (bytes ≥ 0x80 are accepted inside strings only, as their code points are).
 * A leading byte-order mark is skipped, because `TextDecoder` drops it before the text is kept.
 *
 * Two scanners of the one grammar: json-check.wat, in WebAssembly, skips string content 16 bytes at a time
 * (SIMD) and checks a document in less than half the time of this file's JavaScript scanner (BENCHMARKS.md);
 * the JavaScript one checks documents too large for the module's bounded memory. The tests hold both to
 * `JSON.parse`.
 */
import { JSON_WASM_MAX_BYTES, jsonWasmWith } from './json-wasm.js';

export function isJsonText(bytes: Uint8Array): boolean {
  if (bytes.length > JSON_WASM_MAX_BYTES) return scanJsonText(bytes);
  return jsonWasmWith(bytes).exports.isJsonText(bytes.length) === 1;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Bytes allowed after a backslash: " \ / b f n r t (u is handled on its own). */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const c of '"\\/bfnrt') SIMPLE_ESCAPE[c.charCodeAt(0)] = 1;
const HEX = new Uint8Array(256);
for (const c of '0123456789abcdefABCDEF') HEX[c.charCodeAt(0)] = 1;
/** Bytes that end a run of plain string content: a quote, a backslash or a control character. */
const STRING_STOP = new Uint8Array(256);
for (let b = 0; b < 0x20; b += 1) STRING_STOP[b] = 1;
STRING_STOP[QUOTE] = 1;
STRING_STOP[BACKSLASH] = 1;

const TRUE = [0x74, 0x72, 0x75, 0x65];
const FALSE = [0x66, 0x61, 0x6c, 0x73, 0x65];
const NULL = [0x6e, 0x75, 0x6c, 0x6c];

const isWhitespace = (b: number): boolean => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
const isDigit = (b: number): boolean => b >= 0x30 && b <= 0x39;

// Container kinds on the explicit stack (no recursion: any depth is fine, as in JSON.parse).
const IN_ARRAY = 1;
const IN_OBJECT = 2;
const FAIL = -1;
let scratchStack = new Uint8Array(64);

// Scanners take the position and return the position after what they read, or FAIL. Positions are
// passed, not shared through a closure: V8 then keeps them in registers (3× faster on these loops).

/** Past whitespace from `i`. */
function skip(bytes: Uint8Array, i: number): number {
  const end = bytes.length;
  while (i < end && isWhitespace(bytes[i]!)) i += 1;
  return i;
}

/**
 * Whether any of the 4 bytes of `x` ends plain string content (< 0x20, '"' or '\\'). Exact for existence
 * (the classic "has less than" / "has zero byte" word tricks; bytes ≥ 0x80 never match).
 */
function hasStop(x: number): boolean {
  const quote = x ^ 0x22222222;
  const backslash = x ^ 0x5c5c5c5c;
  return ((((x - 0x20202020) & ~x) | ((quote - 0x01010101) & ~quote) | ((backslash - 0x01010101) & ~backslash)) & 0x80808080) !== 0;
}

/**
 * The 32-bit words of the memory that holds `bytes`: word k covers bytes [4k, 4k + 4) of `bytes.buffer`.
 * Typed-array loads of aligned words are the cheapest way JavaScript has to read four bytes at once (a
 * DataView's unaligned reads cost ~2× more here). The view is kept while texts come from the same memory: one
 * per memory rather than one per text.
 */
function wordsOf(bytes: Uint8Array): Int32Array {
  const buffer = bytes.buffer;
  if (buffer !== wordsBuffer || wordsView.length < (bytes.byteOffset + bytes.length) >>> 2) {
    wordsView = new Int32Array(buffer, 0, buffer.byteLength >>> 2);
    wordsBuffer = buffer;
  }
  return wordsView;
}
let wordsBuffer: ArrayBufferLike | undefined;
let wordsView: Int32Array<ArrayBufferLike> = new Int32Array(0);

/** A string whose opening quote is at `i`. Plain content is skipped four bytes at a time, on aligned words. */
function string(bytes: Uint8Array, words: Int32Array, i: number): number {
  const end = bytes.length;
  const base = bytes.byteOffset;
  // Words wholly inside `bytes`: those below this index.
  const wordsEnd = (base + end) >>> 2;
  i += 1;
  for (;;) {
    while (((base + i) & 3) !== 0 && i < end && STRING_STOP[bytes[i]!] === 0) i += 1;
    if (((base + i) & 3) === 0) {
      let w = (base + i) >>> 2;
      while (w < wordsEnd && !hasStop(words[w]!)) w += 1;
      i = w * 4 - base;
    }
    while (i < end && STRING_STOP[bytes[i]!] === 0) i += 1;
    if (i >= end) return FAIL;
    const b = bytes[i]!;
    if (b === QUOTE) return i + 1;
    if (b !== BACKSLASH || i + 1 >= end) return FAIL; // a control character, or a backslash at the end
    const e = bytes[i + 1]!;
    if (SIMPLE_ESCAPE[e] === 1) {
      i += 2;
    } else if (e === 0x75 && i + 6 <= end && HEX[bytes[i + 2]!] === 1 && HEX[bytes[i + 3]!] === 1 && HEX[bytes[i + 4]!] === 1 && HEX[bytes[i + 5]!] === 1) {
      i += 6;
    } else {
      return FAIL;
    }
  }
}

function digits(bytes: Uint8Array, i: number): number {
  const start = i;
  while (i < bytes.length && isDigit(bytes[i]!)) i += 1;
  return i > start ? i : FAIL;
}

function number(bytes: Uint8Array, i: number): number {
  if (bytes[i] === 0x2d) i += 1;
  if (bytes[i] === 0x30) i += 1;
  else if ((i = digits(bytes, i)) === FAIL) return FAIL;
  if (bytes[i] === 0x2e && (i = digits(bytes, i + 1)) === FAIL) return FAIL;
  if (bytes[i] === 0x65 || bytes[i] === 0x45) {
    i += 1;
    if (bytes[i] === 0x2b || bytes[i] === 0x2d) i += 1;
    return digits(bytes, i);
  }
  return i;
}

function literal(bytes: Uint8Array, i: number, word: readonly number[]): number {
  if (i + word.length > bytes.length) return FAIL;
  for (let k = 0; k < word.length; k += 1) if (bytes[i + k] !== word[k]) return FAIL;
  return i + word.length;
}

/** A member's key and colon, the key's quote at `i`; returns the position after the colon. */
function memberKey(bytes: Uint8Array, words: Int32Array, i: number): number {
  if (bytes[i] !== QUOTE || (i = string(bytes, words, i)) === FAIL) return FAIL;
  i = skip(bytes, i);
  return bytes[i] === 0x3a ? i + 1 : FAIL;
}

/** `isJsonText` in JavaScript, for any size. */
export function scanJsonText(bytes: Uint8Array): boolean {
  const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  const i = jsonValueEnd(bytes, wordsOf(bytes), start);
  return i !== FAIL && skip(bytes, i) === bytes.length;
}

/**
 * The position just after the one JSON value that starts at `i` (after optional whitespace), or -1 when the
 * bytes there are not a JSON value. `words` is `wordsOf(bytes)` (the caller makes it once per text).
 */
function jsonValueEnd(bytes: Uint8Array, words: Int32Array, i: number): number {
  const end = bytes.length;
  // One stack for every call (the scan is synchronous): no allocation per value.
  let stack = scratchStack;
  let depth = 0;
  // One value per turn; after it, close containers until one continues with another member or element.
  for (;;) {
    i = skip(bytes, i);
    const b = i < end ? bytes[i]! : -1;
    if (b === 0x7b || b === 0x5b) { // { or [
      const close = b === 0x7b ? 0x7d : 0x5d;
      i = skip(bytes, i + 1);
      if (bytes[i] === close) {
        i += 1;
      } else {
        if (b === 0x7b && (i = memberKey(bytes, words, i)) === FAIL) return FAIL;
        if (depth === stack.length) {
          const bigger = new Uint8Array(stack.length * 2);
          bigger.set(stack);
          stack = bigger;
          scratchStack = bigger;
        }
        stack[depth] = b === 0x7b ? IN_OBJECT : IN_ARRAY;
        depth += 1;
        continue;
      }
    } else if (b === QUOTE) i = string(bytes, words, i);
    else if (b === 0x74) i = literal(bytes, i, TRUE);
    else if (b === 0x66) i = literal(bytes, i, FALSE);
    else if (b === 0x6e) i = literal(bytes, i, NULL);
    else if (b === 0x2d || isDigit(b)) i = number(bytes, i);
    else return FAIL;
    if (i === FAIL) return FAIL;
    for (;;) {
      if (depth === 0) return i;
      i = skip(bytes, i);
      const kind = stack[depth - 1];
      const c = bytes[i];
      if (c === 0x2c) { // ,
        i += 1;
        if (kind === IN_OBJECT && (i = memberKey(bytes, words, skip(bytes, i))) === FAIL) return FAIL;
        break;
      }
      if (c !== (kind === IN_OBJECT ? 0x7d : 0x5d)) return FAIL;
      i += 1;
      depth -= 1;
    }
  }
}
