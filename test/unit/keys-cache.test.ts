import { describe, expect, it } from 'vitest';
import { CachingKeyService } from '../../src/keys/key-cache.js';
import { KeyRejectedError, KeyServiceAccessError, KeyServiceUnavailableError } from '../../src/keys/errors.js';
import type { KeyService, WrappedKey } from '../../src/step/ports.js';

/** A fake key service: answers from a script, counts calls, and can hold answers until released. */
class FakeKeys implements KeyService {
  calls: string[] = [];
  signals: (AbortSignal | undefined)[] = [];
  private gates: (() => void)[] = [];
  held = false;

  constructor(private readonly answer: (key: WrappedKey, n: number) => Buffer | Error = (k) => Buffer.from(k.encryptedEncryptionKey.padEnd(16, '.'))) {}

  async unwrap(key: WrappedKey, _correlationId: string, signal?: AbortSignal): Promise<Buffer> {
    this.calls.push(key.encryptedEncryptionKey);
    this.signals.push(signal);
    const n = this.calls.length;
    if (this.held) {
      await new Promise<void>((resolve, reject) => {
        this.gates.push(resolve);
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    const result = this.answer(key, n);
    if (result instanceof Error) throw result;
    return result;
  }

  release(): void {
    for (const open of this.gates.splice(0)) open();
  }

  stats() {
    return { calls: this.calls.length, retries: 7, hits: 0, misses: 0 };
  }
}

const key = (wrapped: string, kek = 'STANDALONE'): WrappedKey => ({ keyEncryptionKeyId: kek, encryptedEncryptionKey: wrapped });
const tick = () => new Promise((r) => setImmediate(r));

describe('CachingKeyService', () => {
  it('answers a repeated key from memory without asking the service again', async () => {
    const inner = new FakeKeys();
    const cache = new CachingKeyService(inner);
    const first = await cache.unwrap(key('a'), 'c1');
    const second = await cache.unwrap(key('a'), 'c2');
    expect(second).toBe(first);
    expect(inner.calls).toEqual(['a']);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, calls: 1, entries: 1, retries: 7 });
  });

  it('keys entries by the pair (keyEncryptionKeyId, encryptedEncryptionKey)', async () => {
    const inner = new FakeKeys();
    const cache = new CachingKeyService(inner);
    await cache.unwrap(key('a', 'kek-1'), 'c');
    await cache.unwrap(key('a', 'kek-2'), 'c');
    expect(inner.calls).toHaveLength(2);
  });

  it('holds at most maxEntries and evicts the least recently used', async () => {
    const inner = new FakeKeys();
    const cache = new CachingKeyService(inner, { maxEntries: 3 });
    for (const k of ['a', 'b', 'c']) await cache.unwrap(key(k), 'c');
    await cache.unwrap(key('a'), 'c'); // touch: b is now the oldest
    await cache.unwrap(key('d'), 'c'); // evicts b
    expect(cache.stats()).toMatchObject({ entries: 3, evictions: 1 });
    inner.calls = [];
    await cache.unwrap(key('a'), 'c');
    await cache.unwrap(key('c'), 'c');
    await cache.unwrap(key('d'), 'c');
    expect(inner.calls).toEqual([]);
    await cache.unwrap(key('b'), 'c');
    expect(inner.calls).toEqual(['b']);
  });

  it('unwraps each distinct key once under concurrent misses', async () => {
    const inner = new FakeKeys();
    inner.held = true;
    const cache = new CachingKeyService(inner);
    const pending = Array.from({ length: 200 }, (_, i) => cache.unwrap(key(i % 2 === 0 ? 'even' : 'odd'), `c${i}`));
    await tick();
    expect(inner.calls.sort()).toEqual(['even', 'odd']);
    inner.release();
    const keys = await Promise.all(pending);
    expect(new Set(keys.map((k) => k.toString())).size).toBe(2);
    expect(cache.stats()).toMatchObject({ calls: 2, misses: 200, joined: 198, hits: 0 });
  });

  it('shares a failure with every waiter and does not cache a transient one', async () => {
    let fail = true;
    const inner = new FakeKeys((k) => (fail ? new KeyServiceUnavailableError('DKS down') : Buffer.from(k.encryptedEncryptionKey.padEnd(16))));
    inner.held = true;
    const cache = new CachingKeyService(inner);
    const pending = [cache.unwrap(key('a'), 'c'), cache.unwrap(key('a'), 'c')];
    await tick();
    inner.release();
    for (const p of pending) await expect(p).rejects.toBeInstanceOf(KeyServiceUnavailableError);
    fail = false;
    inner.held = false;
    await expect(cache.unwrap(key('a'), 'c')).resolves.toHaveLength(16);
    expect(inner.calls).toEqual(['a', 'a']);
  });

  it('remembers a permanent rejection so the same bad key is asked once', async () => {
    const inner = new FakeKeys(() => new KeyRejectedError('DKS refused (400)'));
    const cache = new CachingKeyService(inner);
    for (let i = 0; i < 5; i += 1) await expect(cache.unwrap(key('bad'), `c${i}`)).rejects.toBeInstanceOf(KeyRejectedError);
    expect(inner.calls).toEqual(['bad']);
    expect(cache.stats()).toMatchObject({ hits: 4, negativeHits: 4, calls: 1 });
    expect(() => cache.peek(key('bad'))).toThrow(KeyRejectedError);
  });

  it('does not remember a service-wide refusal (certificate revoked): it says nothing about the key', async () => {
    const inner = new FakeKeys(() => new KeyServiceAccessError('DKS refused our client certificate (403)'));
    const cache = new CachingKeyService(inner);
    await expect(cache.unwrap(key('a'), 'c')).rejects.toBeInstanceOf(KeyServiceAccessError);
    await expect(cache.unwrap(key('a'), 'c')).rejects.toBeInstanceOf(KeyServiceAccessError);
    expect(inner.calls).toHaveLength(2);
  });

  it('turns a synchronous throw of the inner service into a rejection', async () => {
    const inner: KeyService = { unwrap: () => { throw new Error('boom'); } };
    const cache = new CachingKeyService(inner);
    await expect(cache.unwrap(key('a'), 'c')).rejects.toThrow('boom');
  });

  it('lets one waiter give up without cancelling the call the others still wait for', async () => {
    const inner = new FakeKeys();
    inner.held = true;
    const cache = new CachingKeyService(inner);
    const quitter = new AbortController();
    const a = cache.unwrap(key('a'), 'c', quitter.signal);
    const b = cache.unwrap(key('a'), 'c', new AbortController().signal);
    await tick();
    quitter.abort(new Error('stop'));
    await expect(a).rejects.toThrow('stop');
    expect(inner.signals[0]?.aborted).toBe(false);
    inner.release();
    await expect(b).resolves.toHaveLength(16);
  });

  it('aborts the shared call when every waiter has given up, and a later caller starts afresh', async () => {
    const inner = new FakeKeys();
    inner.held = true;
    const cache = new CachingKeyService(inner);
    const controllers = [new AbortController(), new AbortController()];
    const pending = controllers.map((c) => cache.unwrap(key('a'), 'c', c.signal));
    await tick();
    for (const c of controllers) c.abort(new Error('run cancelled'));
    for (const p of pending) await expect(p).rejects.toThrow('run cancelled');
    expect(inner.signals[0]?.aborted).toBe(true);
    inner.held = false;
    await expect(cache.unwrap(key('a'), 'c')).resolves.toHaveLength(16);
    expect(inner.calls).toEqual(['a', 'a']);
  });

  it('peeks synchronously at cached keys only', async () => {
    const cache = new CachingKeyService(new FakeKeys());
    expect(cache.peek(key('a'))).toBeUndefined();
    const k = await cache.unwrap(key('a'), 'c');
    expect(cache.peek(key('a'))).toBe(k);
  });
});

/** Each key answers when the test settles it: to show how the verdict depends on the order of answers. */
class GatedKeys implements KeyService {
  calls: string[] = [];
  private gates = new Map<string, { resolve: (b: Buffer) => void; reject: (e: Error) => void }[]>();

  unwrap(key: WrappedKey): Promise<Buffer> {
    this.calls.push(key.encryptedEncryptionKey);
    return new Promise((resolve, reject) => {
      const list = this.gates.get(key.encryptedEncryptionKey) ?? [];
      list.push({ resolve, reject });
      this.gates.set(key.encryptedEncryptionKey, list);
    });
  }

  ok(wrapped: string): void {
    for (const g of this.gates.get(wrapped)?.splice(0) ?? []) g.resolve(Buffer.alloc(16, wrapped.charCodeAt(0)));
  }

  fail(wrapped: string): void {
    for (const g of this.gates.get(wrapped)?.splice(0) ?? []) g.reject(new KeyServiceUnavailableError(`DKS at https://dks answered 500 after 5 attempts`, { context: { attempts: 5 } }));
  }
}

describe('CachingKeyService: one key failing vs DKS down', () => {
  const down = (k: WrappedKey) => (k.encryptedEncryptionKey.startsWith('bad') ? new KeyServiceUnavailableError('DKS answered 500 after 5 attempts') : Buffer.alloc(16, 1));

  it('quarantines a key that keeps failing once another key has unwrapped, and remembers it', async () => {
    const inner = new FakeKeys(down);
    const cache = new CachingKeyService(inner);
    await cache.unwrap(key('good'), 'c');
    const error = await cache.unwrap(key('bad-1'), 'c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyRejectedError);
    expect(error).toMatchObject({ reason: 'key-unwrap-failed', retryable: false, context: { failingKeys: 1 } });
    expect((error as Error).message).toMatch(/1 other key\(s\) unwrapped.*500 after 5 attempts/);
    expect((error as Error).cause).toBeInstanceOf(KeyServiceUnavailableError);
    // Its other records: no new call.
    await expect(cache.unwrap(key('bad-1'), 'c')).rejects.toMatchObject({ reason: 'key-unwrap-failed' });
    expect(inner.calls).toEqual(['good', 'bad-1']);
    expect(cache.stats()).toMatchObject({ failingKeys: 1, negativeHits: 1 });
  });

  it('takes DKS as down when no key has unwrapped in the run: the transient error propagates, uncached', async () => {
    const inner = new FakeKeys(down);
    const cache = new CachingKeyService(inner);
    for (let i = 0; i < 2; i += 1) {
      const error = await cache.unwrap(key('bad-1'), 'c').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyServiceUnavailableError);
      expect((error as KeyServiceUnavailableError).retryable).toBe(true);
    }
    expect(inner.calls).toEqual(['bad-1', 'bad-1']);
    expect(cache.stats().failingKeys).toBe(0);
  });

  it('blames at most maxFailingKeys keys per run; the next one fails the collection as DKS degraded', async () => {
    const inner = new FakeKeys(down);
    const cache = new CachingKeyService(inner, { maxFailingKeys: 2 });
    await cache.unwrap(key('good'), 'c');
    await expect(cache.unwrap(key('bad-1'), 'c')).rejects.toBeInstanceOf(KeyRejectedError);
    await expect(cache.unwrap(key('bad-2'), 'c')).rejects.toBeInstanceOf(KeyRejectedError);
    const third = await cache.unwrap(key('bad-3'), 'c').catch((e: unknown) => e);
    expect(third).toBeInstanceOf(KeyServiceUnavailableError);
    expect((third as Error).message).toMatch(/more than 2 data keys kept failing.*degraded/);
    expect(third).toMatchObject({ context: { failingKeys: 3, maxFailingKeys: 2 } });
    // Not remembered: a later run (a fresh cache) judges it again.
    await expect(cache.unwrap(key('bad-3'), 'c')).rejects.toBeInstanceOf(KeyServiceUnavailableError);
  });

  it('with maxFailingKeys 0, never blames a key', async () => {
    const cache = new CachingKeyService(new FakeKeys(down), { maxFailingKeys: 0 });
    await cache.unwrap(key('good'), 'c');
    await expect(cache.unwrap(key('bad-1'), 'c')).rejects.toBeInstanceOf(KeyServiceUnavailableError);
  });

  it('waits for the other unwraps in flight before taking DKS as down (a bad key may fail first)', async () => {
    const inner = new GatedKeys();
    const cache = new CachingKeyService(inner);
    const bad = cache.unwrap(key('bad'), 'c').catch((e: unknown) => e);
    const good = cache.unwrap(key('good'), 'c');
    await tick();
    inner.fail('bad');
    await tick();
    inner.ok('good');
    await expect(good).resolves.toHaveLength(16);
    expect(await bad).toMatchObject({ reason: 'key-unwrap-failed' });
  });

  it('fails as DKS down when every key in flight fails, whatever the order (no key waits on another verdict)', async () => {
    const inner = new GatedKeys();
    const cache = new CachingKeyService(inner);
    const pending = ['a', 'b', 'c'].map((k) => cache.unwrap(key(k), 'c').catch((e: unknown) => e));
    await tick();
    inner.fail('b');
    await tick();
    inner.fail('c');
    inner.fail('a');
    for (const e of await Promise.all(pending)) expect(e).toBeInstanceOf(KeyServiceUnavailableError);
    expect(cache.stats().failingKeys).toBe(0);
  });

  it('does not blame a key for a permanent, service-wide refusal (certificate revoked)', async () => {
    const inner = new FakeKeys((k) => (k.encryptedEncryptionKey === 'revoked' ? new KeyServiceAccessError('403') : Buffer.alloc(16)));
    const cache = new CachingKeyService(inner);
    await cache.unwrap(key('good'), 'c');
    await expect(cache.unwrap(key('revoked'), 'c')).rejects.toBeInstanceOf(KeyServiceAccessError);
    expect(cache.stats().failingKeys).toBe(0);
  });
});
