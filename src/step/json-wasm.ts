import { JSON_CHECK_WASM } from './json-check-module.js';
import { instantiate } from './wasm-instance.js';

/**
 * The JSON scanning module (json-check.wat): the document check (json-check.ts) and the envelope's walk
 * (envelope-scan.ts) share one instance and its memory. The input is copied in at INPUT; the exports are
 * synchronous, so one instance serves every caller.
 */
export const INPUT = 256;
/** Where the envelope walk leaves its field spans: field f's start at SPANS + 8f, its end at SPANS + 8f + 4. */
const SPANS = 128;
/** Where it leaves 1 when `@type` held another JSON type than a string. */
const TYPE_NOT_STRING = 200;

/** Inputs up to this size are scanned in WebAssembly (its memory: twice this, allocated once). */
export const JSON_WASM_MAX_BYTES = 1024 * 1024;

interface JsonExports {
  /** 1 when memory [INPUT, INPUT + length) is one JSON text. */
  readonly isJsonText: (length: number) => number;
  /** 1 when memory [INPUT, INPUT + length) is an envelope of the plain shape, its spans recorded. */
  readonly scanEnvelope: (length: number) => number;
}

interface JsonWasm {
  readonly exports: JsonExports;
  readonly memory: Uint8Array;
  /** The field spans, as 32-bit words (absolute positions: subtract INPUT). */
  readonly spans: Int32Array;
}
let instance: JsonWasm | undefined;

/** The module, instantiated on first use, with `bytes` (at most JSON_WASM_MAX_BYTES) copied in at INPUT. */
export function jsonWasmWith(bytes: Uint8Array): JsonWasm {
  if (instance === undefined) {
    const { exports, memory } = instantiate<JsonExports>(JSON_CHECK_WASM, INPUT + 2 * JSON_WASM_MAX_BYTES + 64);
    instance = { exports, memory, spans: new Int32Array(memory.buffer, SPANS, (TYPE_NOT_STRING - SPANS) / 4 + 1) };
  }
  instance.memory.set(bytes, INPUT);
  return instance;
}

/** Index of `@type`'s flag in `spans`. */
export const TYPE_NOT_STRING_WORD = (TYPE_NOT_STRING - SPANS) / 4;
