import { Pool } from 'undici';
import { IngestError, PermanentError, TransientError, toError, type ErrorContext } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { retryPolicy, withRetry, type RetryPolicy } from '../shared/retry.js';
import { sleep } from '../shared/time.js';
import type { Cell, HBaseSource, KeyRange, ScanRequest } from '../step/ports.js';
import { readBounded } from './bounded-body.js';
import { DEFAULT_SCANNER_BATCH_BYTES } from './batch-sizer.js';
import { decodeTableInfo, encodeCellSet } from './protobuf.js';
import { regionRanges } from './region-ranges.js';
import { newScanStats, scanRange, type ScanSettings, type ScanStats } from './rest-scan.js';
import { PROTOBUF, tablePath, type RestRequest, type RestResponse, type RestTransport } from './rest-transport.js';

/**
 * HBase through its REST gateway (DESIGN.md §3.1: on the replica, read through a gateway, not a native
 * client), protobuf both ways, over one keep-alive undici pool. Reads: region ranges and time-ranged scans
 * (rest-scan.ts). Writes (for the seeder): multi-row puts.
 */
export interface HBaseRestSourceOptions {
  /** e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  readonly url: string;
  /** Keep-alive connections; at least the number of ranges scanned in parallel. Default 16. */
  readonly connections?: number;
  /** Cells per scanner response, at most (the scanner's `batch`). Default 1000 (~2.3 MB of 2.3 KB records). */
  readonly batchCells?: number;
  /** Bytes per scanner response, at most (but one cell is always read): the cells asked adapt to the sizes seen. Default 16 MiB. */
  readonly batchBytes?: number;
  /** Consecutive failed attempts per call (per scan: without a finished row in between). Default 8:
   * with full jitter from 200 ms capped at 10 s, that rides out roughly 10–20 s of unavailability. */
  readonly maxAttempts?: number;
  /** Default 200 ms. */
  readonly baseDelayMs?: number;
  /** Default 10 s. */
  readonly maxDelayMs?: number;
  /** Per request: time to response headers, and between body chunks. Default 60 s. */
  readonly timeoutMs?: number;
  /** Let the scan fill the region servers' block cache. Default false: a one-pass scan would only evict. */
  readonly cacheBlocks?: boolean;
  /** `family:qualifier` scanned and written. Default `cf:record`. */
  readonly column?: string;
  readonly logger?: Logger;
}

/** A cell to write: `putCells` writes it to the configured column at its timestamp. */
export type CellToPut = Cell;

const EMPTY: Buffer = Buffer.alloc(0);

/** Waits of up to 200 ms doubling to 10 s, full jitter: spreads out parallel range scans retrying at once. */
export const HBASE_RETRY: RetryPolicy = retryPolicy({ maxAttempts: 8, baseDelayMs: 200, maxDelayMs: 10_000, jitter: 'full' });

/** RestTransport over an undici Pool: statuses resolve, network failures reject. */
class UndiciTransport implements RestTransport {
  constructor(private readonly pool: Pool) {}

  async request(r: RestRequest): Promise<RestResponse> {
    const res = await this.pool.request({
      method: r.method, path: r.path, signal: r.signal ?? null,
      ...(r.headers ? { headers: r.headers } : {}), ...(r.body ? { body: r.body } : {}),
    });
    if (res.statusCode === 204 || r.method === 'DELETE') {
      await res.body.dump();
      return { status: res.statusCode, headers: res.headers, body: EMPTY };
    }
    const body = await readBounded(res.body, res.headers['content-length'], r.maxBodyBytes ?? Number.POSITIVE_INFINITY, () => res.body.once('error', () => undefined).destroy(), r.bodyMemory);
    return { status: res.statusCode, headers: res.headers, body };
  }
}

export class HBaseRestSource implements HBaseSource {
  private readonly pool: Pool;
  private readonly transport: RestTransport;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly retry: RetryPolicy;
  private readonly logger: Logger;
  private readonly settings: ScanSettings;
  private readonly counters: ScanStats = newScanStats();

  constructor(options: HBaseRestSourceOptions) {
    const base = new URL(options.url);
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new TypeError(`HBase REST URL must be http(s): ${options.url}`);
    const batchCells = options.batchCells ?? 1000;
    if (!Number.isInteger(batchCells) || batchCells < 1) throw new TypeError(`batchCells must be a positive integer, got ${batchCells}`);
    const batchBytes = options.batchBytes ?? DEFAULT_SCANNER_BATCH_BYTES;
    if (!Number.isSafeInteger(batchBytes) || batchBytes < 1) throw new TypeError(`batchBytes must be a positive integer, got ${batchBytes}`);
    this.origin = base.origin;
    this.basePath = base.pathname.replace(/\/+$/, '');
    this.retry = retryPolicy(HBASE_RETRY, options);
    this.logger = (options.logger ?? silentLogger).child({ component: 'hbase-rest' });
    const timeoutMs = options.timeoutMs ?? 60_000;
    this.pool = new Pool(this.origin, {
      connections: options.connections ?? 16,
      keepAliveTimeout: 30_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    this.transport = new UndiciTransport(this.pool);
    this.settings = {
      origin: this.origin,
      basePath: this.basePath,
      column: options.column ?? 'cf:record',
      batchCells,
      batchBytes,
      cacheBlocks: options.cacheBlocks ?? false,
      retry: this.retry,
      cleanupTimeoutMs: Math.min(timeoutMs, 5_000),
      logger: this.logger,
      sleep,
    };
  }

  /** `GET /<table>/regions`: the regions as key ranges in key order, checked to cover the whole table. */
  async regions(table: string, signal?: AbortSignal): Promise<KeyRange[]> {
    return this.withRetries('list the regions of', table, signal, async () => {
      const res = await this.transport.request({ method: 'GET', path: `${tablePath(this.basePath, table)}/regions`, headers: { accept: PROTOBUF }, signal });
      this.check(res, [200], table);
      return regionRanges(decodeTableInfo(res.body).regions, table);
    });
  }

  /** Scans one key range for the latest `cf:record` version inside the window (see rest-scan.ts). */
  scan(request: ScanRequest): AsyncIterable<Cell[]> {
    return scanRange(this.transport, request, this.settings, this.counters);
  }

  /**
   * Writes cells as one multi-row put (`PUT /<table>/fakerow` with a CellSet; the rows carry their keys).
   * Retried on 5xx and network errors: a put of the same cells at the same timestamps is idempotent.
   */
  async putCells(table: string, cells: readonly CellToPut[], signal?: AbortSignal): Promise<void> {
    if (cells.length === 0) return;
    const column = this.settings.column;
    const body = encodeCellSet(cells.map((c) => ({ key: c.rowKey, cells: [{ column, timestamp: c.timestamp, data: c.value }] })));
    await this.withRetries('write cells to', table, signal, async () => {
      const res = await this.transport.request({
        method: 'PUT', path: `${tablePath(this.basePath, table)}/fakerow`, body, signal,
        headers: { 'content-type': PROTOBUF },
      });
      this.check(res, [200], table, { cells: cells.length });
    });
  }

  /** `GET /<table>/schema`: 200 → true, 404 → false. */
  async tableExists(table: string, signal?: AbortSignal): Promise<boolean> {
    return this.withRetries('look up', table, signal, async () => {
      const res = await this.transport.request({ method: 'GET', path: `${tablePath(this.basePath, table)}/schema`, headers: { accept: 'application/json' }, signal });
      if (res.status === 404) return false;
      this.check(res, [200], table);
      return true;
    });
  }

  /** Counters since construction: scanners opened, responses read (and abandoned as too large), rows yielded, scanners replaced. */
  stats(): Readonly<ScanStats> {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }

  /** Maps a status to an error: 4xx permanent (404 names the missing table), anything else unexpected transient. */
  private check(res: RestResponse, expected: readonly number[], table: string, extra: ErrorContext = {}): void {
    if (expected.includes(res.status)) return;
    const context = { url: this.origin, table, status: res.status, ...extra };
    const text = res.body.toString('utf8', 0, Math.min(res.body.length, 200)).split('\n')[0]?.trim() ?? '';
    if (res.status === 404) throw new PermanentError(`HBase table ${table} not found at ${this.origin}`, { context });
    if (res.status >= 400 && res.status < 500) throw new PermanentError(`HBase REST answered ${res.status} for ${table}: ${text}`, { context });
    throw new TransientError(`HBase REST answered ${res.status} for ${table}: ${text}`, { context });
  }

  private async withRetries<T>(what: string, table: string, signal: AbortSignal | undefined, operation: () => Promise<T>): Promise<T> {
    return withRetry(this.retry, operation, {
      signal,
      // Our own non-retryable errors end at once; network errors (not ours) and TransientErrors are retried.
      retryable: (e) => !(e instanceof IngestError && !e.retryable),
      onRetry: (e, attempt, delayMs) => this.logger.warn({ table, err: toError(e), attempt, delayMs }, 'hbase rest call failed; retrying'),
      exhausted: (e, attempts) => {
        const error = toError(e);
        return new TransientError(`could not ${what} HBase table ${table} at ${this.origin} after ${attempts} attempts: ${error.message}`, {
          context: { url: this.origin, table, attempts }, cause: error,
        });
      },
    });
  }
}
