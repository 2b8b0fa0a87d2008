import { Pool } from 'undici';
import type { KeyService, KeyServiceStats, WrappedKey } from '../step/ports.js';
import { isRetryable, toError, type ErrorContext } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { retryPolicy, withRetry, type RetryPolicy } from '../shared/retry.js';
import { KeyServiceAccessError, KeyServiceUnavailableError } from './errors.js';
import { DEFAULT_MAX_ANSWER_BYTES, readBoundedAnswer } from './bounded-answer.js';
import {
  errorForNetworkFailure, errorForStatus, errorCode, parseDecryptBody, parseGenerateBody, type GeneratedDataKey,
} from './dks-responses.js';
import { checkWrappedKey } from './wrapped-key.js';
import { Slots } from './slots.js';

export type { GeneratedDataKey } from './dks-responses.js';

/**
 * The Data Key Service over mutual TLS (DESIGN.md §3.2): one keep-alive connection pool to the DKS origin,
 * server certificate verified against our CA, client certificate presented on every connection.
 * A wrapped key that fails the local checks (wrapped-key.ts) → KeyRejectedError without any call;
 * 400 → KeyRejectedError (not retried); 200 with a plaintext key that is not 16 or 32 bytes → KeyRejectedError
 * (`bad-data-key`); 403 → KeyServiceAccessError; 5xx/429/network → retried with exponential backoff and full
 * jitter, then KeyServiceUnavailableError naming the URL and attempts (CachingKeyService decides whether
 * that is one key's problem or DKS being down).
 */
export interface DksKeyServiceOptions {
  /** Base URL, https, e.g. `https://dks.internal:8443` (a path prefix is kept). */
  readonly url: string;
  readonly caCert: string | Buffer;
  readonly clientCert: string | Buffer;
  readonly clientKey: string | Buffer;
  /** Attempts per call, the first included. Default 5. */
  readonly maxAttempts?: number;
  /** Default 100 ms. */
  readonly baseDelayMs?: number;
  /** Default 5 s. */
  readonly maxDelayMs?: number;
  /** Per attempt, connection to last body byte (not the wait for a free connection). Default 10 s. */
  readonly timeoutMs?: number;
  /** Keep-alive connections to DKS, and so requests in flight at once. Default 8. */
  readonly connections?: number;
  readonly logger?: Logger;
  /** Answers larger than this are refused unread (bounded-answer.ts); default 64 KiB. */
  readonly maxAnswerBytes?: number;
}

export interface DksStats extends KeyServiceStats {
  /** HTTP attempts sent (calls + retries). */
  readonly requests: number;
  /** Calls that ended in an error. */
  readonly failures: number;
}

export interface DksHealth {
  readonly healthy: boolean;
  readonly status?: number;
  readonly error?: string;
}

type Counts = { calls: number; retries: number; requests: number; failures: number };

/** 5 attempts, waits of up to 100 ms doubling to 5 s, full jitter (many workers may retry DKS at once). */
export const DKS_RETRY: RetryPolicy = retryPolicy({ maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 5_000, jitter: 'full' });

const noCounts = (): Counts => ({ calls: 0, retries: 0, requests: 0, failures: 0 });

interface Call {
  readonly what: string;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: string;
  readonly expect: readonly number[];
  readonly context: ErrorContext;
}

export class DksKeyService implements KeyService {
  private readonly pool: Pool;
  private readonly base: URL;
  private readonly prefix: string;
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  private readonly maxAnswerBytes: number;
  private readonly slots: Slots;
  private counts = noCounts();

  constructor(options: DksKeyServiceOptions) {
    this.maxAnswerBytes = options.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES;
    this.base = new URL(options.url);
    if (this.base.protocol !== 'https:') throw new TypeError(`DKS URL must be https (mutual TLS): ${options.url}`);
    this.prefix = this.base.pathname.replace(/\/+$/, '');
    this.policy = retryPolicy(DKS_RETRY, options);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.logger = options.logger ?? silentLogger;
    const connections = options.connections ?? 8;
    this.slots = new Slots(connections);
    this.pool = new Pool(this.base.origin, {
      connections,
      // Verification stays on: the server must present a certificate our CA signed, for this host name.
      connect: { ca: options.caCert, cert: options.clientCert, key: options.clientKey, rejectUnauthorized: true },
      keepAliveTimeout: 30_000,
    });
  }

  /** `POST /datakey/actions/decrypt?keyId=&correlationId=` with the wrapped key as the body. */
  unwrap(key: WrappedKey, correlationId: string, signal?: AbortSignal): Promise<Buffer> {
    return this.unwrapCounted(key, correlationId, signal, []);
  }

  /**
   * A view sharing this client's connections (and so its bound on requests in flight) that also counts its
   * own calls and retries: one per collection, so each collection's summary reports its own DKS retries.
   */
  scoped(): KeyService & { stats(): DksStats } {
    const counts = noCounts();
    return {
      unwrap: (key, correlationId, signal) => this.unwrapCounted(key, correlationId, signal, [counts]),
      stats: () => ({ ...counts, hits: 0, misses: 0 }),
    };
  }

  private async unwrapCounted(key: WrappedKey, correlationId: string, signal: AbortSignal | undefined, scopes: Counts[]): Promise<Buffer> {
    // A garbled key gets 500/503 from the real DKS, not 400: refuse it here, without a call (wrapped-key.ts).
    const malformed = checkWrappedKey(key, { correlationId });
    if (malformed !== undefined) throw malformed;
    const query = `keyId=${encodeURIComponent(key.keyEncryptionKeyId)}&correlationId=${encodeURIComponent(correlationId)}`;
    const context = { keyEncryptionKeyId: key.keyEncryptionKeyId, correlationId };
    return this.call({
      what: 'decrypt a data key', method: 'POST', path: `/datakey/actions/decrypt?${query}`,
      body: key.encryptedEncryptionKey, expect: [200], context,
    }, signal, (json) => parseDecryptBody(json, context), scopes);
  }

  /** `GET /datakey?correlationId=`: a fresh data key, plaintext and wrapped (for producers and the seeder). */
  async generate(correlationId: string, signal?: AbortSignal): Promise<GeneratedDataKey> {
    const context = { correlationId };
    return this.call({
      what: 'generate a data key', method: 'GET', path: `/datakey?correlationId=${encodeURIComponent(correlationId)}`,
      expect: [201, 200], context,
    }, signal, (json) => parseGenerateBody(json, context), []);
  }

  /** One `GET /healthcheck`, no retries: for readiness probes. */
  async health(signal?: AbortSignal): Promise<DksHealth> {
    try {
      const res = await this.pool.request({
        method: 'GET', path: `${this.prefix}/healthcheck`,
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs),
      });
      await res.body.dump();
      return { healthy: res.statusCode === 200, status: res.statusCode };
    } catch (e) {
      const error = toError(e);
      return { healthy: false, error: errorCode(error) ?? error.message };
    }
  }

  stats(): DksStats {
    return { ...this.counts, hits: 0, misses: 0 };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  private async call<T>(call: Call, signal: AbortSignal | undefined, parse: (json: unknown) => T, scopes: Counts[]): Promise<T> {
    const counts = [this.counts, ...scopes];
    const bump = (field: keyof Counts): void => {
      for (const c of counts) c[field] += 1;
    };
    bump('calls');
    const url = `${this.base.origin}${this.prefix}`;
    try {
      return await withRetry(this.policy, (attempt) => this.slots.run(() => {
        bump('requests');
        return this.attempt(call, attempt, signal, parse);
      }, signal), {
        signal,
        retryable: isRetryable,
        onRetry: (e, attempt, delayMs) => {
          bump('retries');
          const error = toError(e);
          this.logger.warn({ ...call.context, url, attempt, delayMs, err: error.message }, 'DKS call retried');
        },
        exhausted: (e, attempts) => new KeyServiceUnavailableError(
          `DKS at ${url} failed to ${call.what} after ${attempts} attempts: ${toError(e).message}`,
          { context: { ...call.context, url, attempts }, cause: e },
        ),
      });
    } catch (e) {
      bump('failures');
      throw e;
    }
  }

  /** One HTTP request, inside a connection slot: its timeout starts now, not while it waited for the slot. */
  private async attempt<T>(call: Call, attempt: number, signal: AbortSignal | undefined, parse: (json: unknown) => T): Promise<T> {
    const context = { ...call.context, attempt };
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let res: Awaited<ReturnType<Pool['request']>>;
    let text: string;
    try {
      res = await this.pool.request({
        method: call.method,
        path: `${this.prefix}${call.path}`,
        body: call.body ?? null,
        headers: call.body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'text/plain' },
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      // Always read the body (an unread body holds the keep-alive connection), never more than the cap.
      text = await readBoundedAnswer(res.body, this.maxAnswerBytes, { ...context, status: res.statusCode });
    } catch (e) {
      signal?.throwIfAborted();
      if (e instanceof KeyServiceAccessError) throw e;
      throw errorForNetworkFailure(toError(e), call.what, context);
    }
    if (!call.expect.includes(res.statusCode)) throw errorForStatus(res.statusCode, call.what, context);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return parse(json);
  }
}
