import type { KeyService, KeyServiceStats, WrappedKey } from '../step/ports.js';
import { PermanentError } from '../shared/errors.js';
import { wrappedKeyId } from './data-key.js';
import { KeyServiceAccessError } from './errors.js';

/**
 * A bounded LRU of unwrapped data keys in front of any KeyService (DESIGN.md §3.2: keys are reused by many
 * records). Keys live in memory only. Invariants:
 * - concurrent misses for one wrapped key share one in-flight call (single flight);
 * - transient failures are never cached: the next record asks again;
 * - a permanent refusal of one key is remembered (a negative entry), so a bad key costs one DKS call per
 *   run, not one per record. Service-wide refusals (`KeyServiceAccessError`) are not: they say nothing
 *   about the key.
 * Returned buffers are shared between callers: read them, never write to them.
 */
export interface KeyCacheOptions {
  /** Entries (positive and negative) kept; the least recently used goes first. Default 10 000. */
  readonly maxEntries?: number;
}

export interface KeyCacheStats extends KeyServiceStats {
  /** Hits answered by a remembered refusal (counted in `hits` too). */
  readonly negativeHits: number;
  /** Callers that joined a call already in flight (counted in `misses` too). */
  readonly joined: number;
  readonly entries: number;
  readonly evictions: number;
}

type Entry = { readonly key: Buffer } | { readonly error: Error };

interface Flight {
  readonly promise: Promise<Buffer>;
  readonly controller: AbortController;
  /** Callers still waiting; when the last one gives up, the call is aborted. */
  waiters: number;
}

type StatsSource = { stats?: () => Pick<KeyServiceStats, 'retries'> };

export const DEFAULT_KEY_CACHE_ENTRIES = 10_000;

export class CachingKeyService implements KeyService {
  private readonly entries = new Map<string, Entry>();
  private readonly flights = new Map<string, Flight>();
  private readonly maxEntries: number;
  private counts = { hits: 0, misses: 0, calls: 0, negativeHits: 0, joined: 0, evictions: 0 };

  constructor(
    private readonly inner: KeyService & StatsSource,
    options: KeyCacheOptions = {},
  ) {
    this.maxEntries = Math.max(1, Math.floor(options.maxEntries ?? DEFAULT_KEY_CACHE_ENTRIES));
  }

  unwrap(key: WrappedKey, correlationId: string, signal?: AbortSignal): Promise<Buffer> {
    const id = wrappedKeyId(key);
    const entry = this.lookup(id);
    if (entry !== undefined) return 'key' in entry ? Promise.resolve(entry.key) : Promise.reject(entry.error);
    this.counts.misses += 1;
    if (signal?.aborted) return Promise.reject(signal.reason);
    let flight = this.flights.get(id);
    if (flight === undefined) flight = this.fly(id, key, correlationId);
    else this.counts.joined += 1;
    return this.join(id, flight, signal);
  }

  /** The cached key without a call, for a synchronous fast path; throws a remembered refusal. */
  peek(key: WrappedKey): Buffer | undefined {
    const entry = this.lookup(wrappedKeyId(key));
    if (entry === undefined) return undefined;
    if ('key' in entry) return entry.key;
    throw entry.error;
  }

  stats(): KeyCacheStats {
    return { ...this.counts, retries: this.inner.stats?.().retries ?? 0, entries: this.entries.size };
  }

  /** Drops every entry (keys become garbage for the collector; nothing was ever written elsewhere). */
  clear(): void {
    this.entries.clear();
  }

  private lookup(id: string): Entry | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    // Re-insert to mark as most recently used: Map iteration order is insertion order.
    this.entries.delete(id);
    this.entries.set(id, entry);
    this.counts.hits += 1;
    if (!('key' in entry)) this.counts.negativeHits += 1;
    return entry;
  }

  private fly(id: string, key: WrappedKey, correlationId: string): Flight {
    const controller = new AbortController();
    this.counts.calls += 1;
    // Wrapped in a promise so a synchronous throw by the inner service rejects like any other failure.
    const promise = new Promise<Buffer>((resolve) => resolve(this.inner.unwrap(key, correlationId, controller.signal))).then(
      (plaintext) => {
        this.store(id, { key: plaintext });
        return plaintext;
      },
      (e: unknown) => {
        if (e instanceof PermanentError && !(e instanceof KeyServiceAccessError)) this.store(id, { error: e });
        throw e;
      },
    ).finally(() => {
      if (this.flights.get(id) === flight) this.flights.delete(id);
    });
    // Every waiter may have left; the outcome must not surface as an unhandled rejection.
    promise.catch(() => undefined);
    const flight: Flight = { promise, controller, waiters: 0 };
    this.flights.set(id, flight);
    return flight;
  }

  private join(id: string, flight: Flight, signal: AbortSignal | undefined): Promise<Buffer> {
    flight.waiters += 1;
    if (signal === undefined) return flight.promise;
    return new Promise<Buffer>((resolve, reject) => {
      const onAbort = (): void => {
        flight.waiters -= 1;
        if (flight.waiters === 0) {
          // Nobody wants this key any more: stop the call, and let a later caller start a fresh one.
          if (this.flights.get(id) === flight) this.flights.delete(id);
          flight.controller.abort(signal.reason);
        }
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      flight.promise.then(
        (value) => {
          signal.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (e: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  private store(id: string, entry: Entry): void {
    this.entries.delete(id);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) {
        this.entries.delete(oldest.value);
        this.counts.evictions += 1;
      }
    }
    this.entries.set(id, entry);
  }
}
