import { createCipheriv, type Cipheriv } from 'node:crypto';
import { CTR_XOR_WASM } from './ctr-xor-module.js';
import { instantiate } from './wasm-instance.js';

/**
 * AES-CTR decryption of many records under one data key at once (DESIGN.md §3.1: the 16-byte IV is the
 * initial counter block, incremented as a 128-bit big-endian integer, as OpenSSL does).
 *
 * Why not a decipher per record: creating one costs more than decrypting a 2 KB record (key setup and
 * object creation, ~4–12 µs each). Here the counter blocks of every record are laid out in one buffer and
 * encrypted by a single AES-ECB call — that is the CTR keystream — and the ciphertexts are XORed into it
 * 16 bytes at a time (WebAssembly SIMD, below). One cipher per distinct key (reused across batches) instead of one per record.
 *
 * Plaintext lives only in the returned buffers: `wipe()` zeroes them (and nothing is written elsewhere).
 */
export interface CtrInput {
  readonly iv: Uint8Array;
  readonly ciphertext: Uint8Array;
}

export interface CtrBatch {
  /** Plaintext per input, in input order: views into one buffer that `wipe()` zeroes. */
  readonly plaintexts: readonly Buffer[];
  wipe(): void;
}

const BLOCK = 16;
const blocksOf = (bytes: number): number => (bytes + BLOCK - 1) >>> 4;

function ecbAlgorithm(key: Uint8Array): 'aes-128-ecb' | 'aes-256-ecb' {
  if (key.length === 16) return 'aes-128-ecb';
  if (key.length === 32) return 'aes-256-ecb';
  throw new RangeError(`data key must be 16 or 32 bytes, got ${key.length}`);
}

/** Writes `blocks` successive counter blocks starting at `iv` into `out` at byte `offset`. */
function writeCounters(out: Uint8Array, view: DataView, offset: number, iv: Uint8Array, blocks: number): void {
  const ivView = new DataView(iv.buffer, iv.byteOffset, BLOCK);
  const low = ivView.getUint32(12);
  if (low + blocks - 1 <= 0xffffffff) {
    // The usual case: the low 32 bits never carry within one record, so every block is the IV with its
    // last word counting up. Copy the IV over all blocks (doubling), then patch the last words.
    out.set(iv, offset);
    const end = offset + blocks * BLOCK;
    for (let filled = BLOCK; offset + filled < end; filled *= 2) out.copyWithin(offset + filled, offset, Math.min(offset + 2 * filled, end) - filled);
    for (let b = 1, p = offset + BLOCK + 12; b < blocks; b += 1, p += BLOCK) view.setUint32(p, low + b);
    return;
  }
  // A carry out of the low word: step the whole 128-bit counter (it wraps to zero past all ones).
  const words = [ivView.getUint32(0), ivView.getUint32(4), ivView.getUint32(8), low];
  for (let b = 0, p = offset; b < blocks; b += 1, p += BLOCK) {
    view.setUint32(p, words[0]!);
    view.setUint32(p + 4, words[1]!);
    view.setUint32(p + 8, words[2]!);
    view.setUint32(p + 12, words[3]!);
    for (let w = 3; w >= 0; w -= 1) {
      words[w] = (words[w]! + 1) >>> 0;
      if (words[w] !== 0) break;
    }
  }
}

/**
 * One AES-ECB cipher per data key, reused for every batch: ECB keeps no state between blocks, so `update`
 * on whole blocks can go on forever, and the key schedule is set up once instead of once per batch.
 * Keyed weakly by the key's buffer (the key cache hands out one buffer per key): dropped with the key.
 */
const ciphers = new WeakMap<Uint8Array, { readonly cipher: Cipheriv; readonly key: Buffer }>();

function ecbFor(key: Uint8Array): Cipheriv {
  const known = ciphers.get(key);
  // The copy guards against a caller that reuses one buffer for another key (nobody should).
  if (known !== undefined && known.key.equals(key)) return known.cipher;
  const cipher = createCipheriv(ecbAlgorithm(key), key, null).setAutoPadding(false);
  ciphers.set(key, { cipher, key: Buffer.from(key) });
  return cipher;
}

/** Records under one data key. */
export interface CtrGroup {
  readonly key: Uint8Array;
  readonly inputs: readonly CtrInput[];
}

export interface CtrGroupsBatch {
  /** `plaintexts[g][i]`: plaintext of input i of group g, a view into the group's buffer; `wipe()` zeroes them all. */
  readonly plaintexts: readonly (readonly Buffer[])[];
  wipe(): void;
}

/**
 * Counter blocks are built here and encrypted at once; they are not secret (IVs travel in the clear), and
 * reusing one scratch buffer saves an allocation per key per batch. Safe to share: decryption is synchronous.
 */
let scratch = new Uint8Array(64 * 1024);
let scratchView = new DataView(scratch.buffer);

/**
 * Decrypts several groups, one cipher call per group: the keystream that call returns (a fresh buffer) becomes
 * the group's plaintext, each record's ciphertext XORed into its place, so no other buffer is filled or
 * zeroed and the plaintext has one copy only.
 */
export function decryptCtr(groups: readonly CtrGroup[]): CtrGroupsBatch {
  const plaintexts: Buffer[][] = [];
  const streams: Buffer[] = [];
  for (const { key, inputs } of groups) {
    let bytes = 0;
    for (const input of inputs) {
      if (input.iv.length !== BLOCK) throw new RangeError(`initialisation vector must be 16 bytes, got ${input.iv.length}`);
      bytes += blocksOf(input.ciphertext.length) * BLOCK;
    }
    if (bytes > scratch.length) {
      scratch = new Uint8Array(Math.max(bytes, scratch.length * 2));
      scratchView = new DataView(scratch.buffer);
    }
    for (let i = 0, offset = 0; i < inputs.length; i += 1) {
      const { iv, ciphertext } = inputs[i]!;
      writeCounters(scratch, scratchView, offset, iv, blocksOf(ciphertext.length));
      offset += blocksOf(ciphertext.length) * BLOCK;
    }
    const stream = ecbFor(key).update(scratch.subarray(0, bytes));
    streams.push(stream);
    xorCiphertexts(stream, inputs);
    const views: Buffer[] = new Array(inputs.length);
    for (let i = 0, offset = 0; i < inputs.length; i += 1) {
      const { length } = inputs[i]!.ciphertext;
      views[i] = stream.subarray(offset, offset + length);
      offset += blocksOf(length) * BLOCK;
    }
    plaintexts.push(views);
  }
  return { plaintexts, wipe: () => { for (const stream of streams) stream.fill(0); } };
}

export function decryptCtrBatch(key: Uint8Array, inputs: readonly CtrInput[]): CtrBatch {
  const batch = decryptCtr([{ key, inputs }]);
  return { plaintexts: batch.plaintexts[0] ?? [], wipe: batch.wipe };
}

/**
 * The XOR runs in WebAssembly, 16 bytes at a time (4× fewer steps than JavaScript's 32-bit words, ~0.2 against
 * ~0.8 µs per 1.5 KB record, copies included; BENCHMARKS.md): records are copied into one region of its memory
 * and their keystream into another, in runs of up to REGION bytes; the result is copied back over the keystream
 * and both regions are zeroed. A record larger than a region is XORed in JavaScript.
 */
const REGION = 256 * 1024;
let xorModule: { readonly exports: { xor(target: number, source: number, length: number): void }; readonly memory: Uint8Array } | undefined;

/** Each input's ciphertext XORed into `stream`, where its keystream lies (inputs in order, each padded to blocks). */
function xorCiphertexts(stream: Buffer, inputs: readonly CtrInput[]): void {
  xorModule ??= instantiate(CTR_XOR_WASM, 2 * REGION);
  const { exports, memory } = xorModule;
  const flush = (from: number, to: number): void => {
    if (to === from) return;
    memory.set(stream.subarray(from, to), REGION);
    exports.xor(0, REGION, to - from);
    stream.set(memory.subarray(0, to - from), from);
    memory.fill(0, 0, to - from);
    memory.fill(0, REGION, REGION + to - from);
  };
  let run = 0;
  let offset = 0;
  for (const { ciphertext } of inputs) {
    const padded = blocksOf(ciphertext.length) * BLOCK;
    if (offset + padded - run > REGION) {
      flush(run, offset);
      run = offset;
    }
    if (padded > REGION) {
      xorInto(stream.subarray(offset, offset + ciphertext.length), ciphertext);
      run = offset + padded;
    } else {
      memory.set(ciphertext, offset - run);
    }
    offset += padded;
  }
  flush(run, offset);
}

/** `target ^= source` over their common length; 32 bits at a time when both are aligned. */
function xorInto(target: Uint8Array, source: Uint8Array): void {
  const length = Math.min(target.length, source.length);
  let i = 0;
  if (target.byteOffset % 4 === 0 && source.byteOffset % 4 === 0) {
    const words = length >>> 2;
    const t = new Int32Array(target.buffer, target.byteOffset, words);
    const s = new Int32Array(source.buffer, source.byteOffset, words);
    for (let w = 0; w < words; w += 1) t[w]! ^= s[w]!;
    i = words * 4;
  }
  for (; i < length; i += 1) target[i]! ^= source[i]!;
}
