/**
 * Preloaded with `node --import ./bench/resolve-ts.ts`. The benchmark files are TypeScript run by Node's
 * type stripping; they import the product as `../src/**.js` (so tsc checks them against the sources), and
 * this hook loads those modules from the build in `dist/src` instead: the benchmark measures exactly the
 * code the CLI runs (`make bench` builds first). Worker threads inherit the flag.
 */
import { registerHooks } from 'node:module';

const SRC = new URL('../src/', import.meta.url).href;
const DIST = new URL('../dist/src/', import.meta.url).href;
const BENCH = new URL('./', import.meta.url).href;
const TEST_SUPPORT = new URL('../test/support/', import.meta.url).href;

registerHooks({
  resolve(specifier, context, next) {
    if (specifier.startsWith('.') && context.parentURL !== undefined) {
      const target = new URL(specifier, context.parentURL).href;
      if (target.startsWith(SRC)) return next(DIST + target.slice(SRC.length), context);
      // Benchmark modules (and the test support they borrow) import each other as `.js` too (tsc's
      // convention); they are the `.ts` files.
      if ((target.startsWith(BENCH) || target.startsWith(TEST_SUPPORT)) && target.endsWith('.js')) return next(`${target.slice(0, -3)}.ts`, context);
    }
    return next(specifier, context);
  },
});
