import type { KeyService, KeyServiceStats, WrappedKey } from '../step/ports.js';
import { isRetryable, PermanentError, type TransientError } from '../shared/errors.js';
import { wrappedKeyId } from './data-key.js';
import { KeyRejectedError, KeyServiceAccessError, KeyServiceUnavailableError } from './errors.js';

/**
 * A bounded LRU of unwrapped data keys in front of any KeyService (DESIGN.md §3.2: keys are reused by many
 * records), one instance per collection run (wiring/step-graph.ts `portsFor`). Keys live in memory only.
 * Invariants:
 * - concurrent misses for one wrapped key share one in-flight call (single flight);
 * - a permanent refusal of one key is remembered (a negative entry), so a bad key costs one DKS call per
 *   run, not one per record. Service-wide refusals (`KeyServiceAccessError`) are not: they say nothing
 *   about the key;
 * - transient failures are not cached, except when they are blamed on the key (below).
 *
 * One key failing vs DKS down. The real DKS answers 500/503, not 400, to some keys it can never unwrap
 * (DESIGN.md §3.2), so "retries spent" alone cannot tell a bad key from a DKS outage. The rule, per run:
 * when the inner service gives up on a key with a transient error (its bounded retries are spent),
 * - if no key has unwrapped at all in this run, DKS is taken as down: the transient error propagates and
 *   fails the collection (rerun later);
 * - if `maxFailingKeys` keys were already blamed in this run, so many failing keys means DKS is degraded:
 *   a `KeyServiceUnavailableError` fails the collection likewise;
 * - otherwise at least one other key unwrapped, so DKS works and this key is to blame: it becomes a
 *   `KeyRejectedError` (`key-unwrap-failed`), remembered, so its other records are quarantined without
 *   new calls.
 * Ordering: a key may exhaust its retries before any other key's first answer. So before judging with no
 * success yet, it waits for the other unwraps in flight at that moment (the inner calls, never the
 * verdicts, so two failing keys cannot wait on each other); only if none of them succeeded is DKS down.
 * A key that failed before any success in an earlier batch is judged again when next asked (not cached).
 *
 * Returned buffers are shared between callers: read them, never write to them.
 */
export interface KeyCacheOptions {
  /** Entries (positive and negative) kept; the least recently used goes first. Default 10 000. */
  readonly maxEntries?: number;
  /**
   * Distinct keys per run whose transient failure may be blamed on the key (its records quarantined)
   * rather than on DKS. Default 3; 0 turns blaming off (every transient failure fails the collection).
   */
  readonly maxFailingKeys?: number;
}

export interface KeyCacheStats extends KeyServiceStats {
  /** Hits answered by a remembered refusal (counted in `hits` too). */
  readonly negativeHits: number;
  /** Callers that joined a call already in flight (counted in `misses` too). */
  readonly joined: number;
  readonly entries: number;
  readonly evictions: number;
  /** Keys blamed for their own transient failures in this run (their records are quarantined). */
  readonly failingKeys: number;
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
export const DEFAULT_MAX_FAILING_KEYS = 3;

export class CachingKeyService implements KeyService {
  private readonly entries = new Map<string, Entry>();
  private readonly flights = new Map<string, Flight>();
  private readonly maxEntries: number;
  private readonly maxFailingKeys: number;
  /** Inner calls in flight, settled either way: what a failed key waits for before judging (see above). */
  private readonly pending = new Set<Promise<void>>();
  /** Keys unwrapped by the inner service in this run: proof that DKS works. */
  private unwrapped = 0;
  private counts = { hits: 0, misses: 0, calls: 0, negativeHits: 0, joined: 0, evictions: 0, failingKeys: 0 };

  constructor(
    private readonly inner: KeyService & StatsSource,
    options: KeyCacheOptions = {},
  ) {
    this.maxEntries = Math.max(1, Math.floor(options.maxEntries ?? DEFAULT_KEY_CACHE_ENTRIES));
    this.maxFailingKeys = Math.max(0, Math.floor(options.maxFailingKeys ?? DEFAULT_MAX_FAILING_KEYS));
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
    const call = new Promise<Buffer>((resolve) => resolve(this.inner.unwrap(key, correlationId, controller.signal)));
    const settled = call.then(() => undefined, () => undefined);
    this.pending.add(settled);
    void settled.then(() => this.pending.delete(settled));
    const promise = call.then(
      (plaintext) => {
        this.unwrapped += 1;
        this.store(id, { key: plaintext });
        return plaintext;
      },
      (e: unknown) => this.failed(id, e, settled, controller.signal),
    ).finally(() => {
      if (this.flights.get(id) === flight) this.flights.delete(id);
    });
    // Every waiter may have left; the outcome must not surface as an unhandled rejection.
    promise.catch(() => undefined);
    const flight: Flight = { promise, controller, waiters: 0 };
    this.flights.set(id, flight);
    return flight;
  }

  /** The verdict on a failed inner call: remember a permanent refusal, and judge a transient one (class doc). */
  private async failed(id: string, e: unknown, own: Promise<void>, signal: AbortSignal): Promise<never> {
    if (e instanceof PermanentError) {
      if (!(e instanceof KeyServiceAccessError)) this.store(id, { error: e });
      throw e;
    }
    if (!isRetryable(e) || signal.aborted || this.maxFailingKeys === 0) throw e;
    if (this.unwrapped === 0) {
      const others = [...this.pending].filter((p) => p !== own);
      if (others.length > 0) await Promise.all(others);
      if (signal.aborted || this.unwrapped === 0) throw e;
    }
    const error = e as TransientError;
    if (this.counts.failingKeys >= this.maxFailingKeys) {
      throw new KeyServiceUnavailableError(
        `more than ${this.maxFailingKeys} data keys kept failing to unwrap in this run, so DKS is taken as degraded `
        + `rather than those keys as bad; the collection fails and is retried on the next run: ${error.message}`,
        { context: { ...error.context, failingKeys: this.counts.failingKeys + 1, maxFailingKeys: this.maxFailingKeys }, cause: e },
      );
    }
    this.counts.failingKeys += 1;
    const blamed = new KeyRejectedError(
      `DKS kept failing to unwrap this data key while ${this.unwrapped} other key(s) unwrapped in this run, so the `
      + `key is taken as bad and its records are quarantined (${this.counts.failingKeys} of at most `
      + `${this.maxFailingKeys} such keys per run): ${error.message}`,
      { reason: 'key-unwrap-failed', context: { ...error.context, failingKeys: this.counts.failingKeys }, cause: e },
    );
    this.store(id, { error: blamed });
    throw blamed;
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
