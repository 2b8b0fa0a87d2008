import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedPath, WASM_MODULES, wasmModule } from '../../scripts/wasm-modules.js';

describe('the step\'s WebAssembly modules', () => {
  it.each(WASM_MODULES)('$name is assembled from its .wat as committed (make wasm)', async ({ name, constant }) => {
    expect(readFileSync(generatedPath(name), 'utf8')).toBe(await wasmModule(name, constant));
  });
});
