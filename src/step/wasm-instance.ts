/**
 * The step's WebAssembly modules (src/step/*.wat, assembled by `make wasm` into *-module.ts): instantiated from
 * their committed binaries, with linear memory of a fixed size, grown once here and never again, so views
 * of it stay valid. The modules import nothing.
 */

/** What the step uses of the WebAssembly API (TypeScript declares it only in the DOM's libraries). */
interface WebAssemblyApi {
  readonly Module: new (binary: Uint8Array) => object;
  readonly Instance: new (module: object) => { readonly exports: unknown };
}

interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

const PAGE = 65536;

/** The module's exports, and a view of its memory of at least `bytes` bytes. */
export function instantiate<Exports>(base64: string, bytes: number): { readonly exports: Exports; readonly memory: Uint8Array } {
  const { Module, Instance } = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
  const exports = new Instance(new Module(Buffer.from(base64, 'base64'))).exports as Exports & { readonly memory: WasmMemory };
  const missing = Math.ceil(bytes / PAGE) - exports.memory.buffer.byteLength / PAGE;
  if (missing > 0) exports.memory.grow(missing);
  return { exports, memory: new Uint8Array(exports.memory.buffer) };
}
