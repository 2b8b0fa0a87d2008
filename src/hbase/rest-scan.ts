import { PermanentError, TransientError, toError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { backoffDelay, type RetryPolicy } from '../shared/retry.js';
import type { Cell, ScanRequest } from '../step/ports.js';
import { BatchSizer, type ResponseSize } from './batch-sizer.js';
import { BodyMemory } from './body-memory.js';
import type { RestRow } from './messages.js';
import { decodeCellSet, encodeScanner } from './protobuf.js';
import { RowAssembler } from './row-assembler.js';
import { PROTOBUF, ResponseTooLargeError, tablePath, type RestTransport } from './rest-transport.js';

/**
 * One region range scanned through an HBase REST scanner (`PUT /<table>/scanner`, then `GET <Location>` until
 * 204), as an async iterable of finished rows.
 *
 * A scanner's position lives only in the REST server's memory, so after any failed GET (connection reset,
 * 5xx, an undecodable body) the position is unknown: the scanner is dropped and a new one opened where the
 * RowAssembler says (nothing lost, nothing repeated) — a GET is never retried on the same scanner. A 410
 * (scanner expired) or 404 (unknown scanner, e.g. after a REST server restart) means the same. Failures in a
 * row are bounded by `maxAttempts`; a response that finishes at least one row resets the count.
 *
 * Each response is bounded by bytes as well as cells: every GET asks for the cells that fit `batchBytes` at the
 * sizes seen so far (`?c=`, batch-sizer.ts), and a body that passes the budget anyway is abandoned unread and
 * asked again, smaller, from a new scanner (not a failure). A single cell is always read, whatever its size.
 */
export interface ScanSettings {
  /** The configured REST URL's origin, for messages and for resolving scanner Locations. */
  readonly origin: string;
  /** The configured REST URL's path prefix ('' or '/prefix'). */
  readonly basePath: string;
  readonly column: string;
  readonly batchCells: number;
  /** Bytes per response, at most, unless a single cell is larger. */
  readonly batchBytes: number;
  readonly cacheBlocks: boolean;
  readonly retry: RetryPolicy;
  /** Time allowed for the best-effort DELETE of a scanner. */
  readonly cleanupTimeoutMs: number;
  readonly logger: Logger;
  readonly random?: () => number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface ScanStats {
  scanners: number;
  responses: number;
  rows: number;
  reopened: number;
  /** Response bytes read. */
  bytes: number;
  /** The largest response read, in bytes. */
  largestResponseBytes: number;
  /** Responses abandoned unread for passing the byte budget (asked again, smaller). */
  oversized: number;
}

export const newScanStats = (): ScanStats => ({ scanners: 0, responses: 0, rows: 0, reopened: 0, bytes: 0, largestResponseBytes: 0, oversized: 0 });

/** Why a scanner had to be replaced: `gone` (410/404, reopen at once) or `failed` (back off, then reopen). */
class ScanFault {
  constructor(readonly error: Error, readonly lost: 'gone' | 'failed', readonly status?: number) {}
}

export async function* scanRange(transport: RestTransport, request: ScanRequest, settings: ScanSettings, stats: ScanStats): AsyncGenerator<Cell[]> {
  const { table, range, window, signal } = request;
  // An empty window selects nothing (and HBase rejects a time range whose end precedes its start).
  if (window.end <= window.start) return;
  const context = { url: settings.origin, table, startRow: range.startRow.toString('hex'), endRow: range.endRow.toString('hex') };
  const log = settings.logger.child(context);
  const assembler = new RowAssembler(range.startRow);
  const sizer = new BatchSizer(settings.batchBytes, settings.batchCells);
  // One response at a time in the same memory, when the consumer lets go of a batch before asking the next.
  const memory = request.reuseMemory === true ? new BodyMemory(Math.min(settings.batchBytes, KEPT_BODY_BYTES)) : undefined;
  let scanner: string | undefined;
  let failures = 0;

  const fail = async (fault: ScanFault): Promise<void> => {
    failures += 1;
    stats.reopened += 1;
    if (failures >= settings.retry.maxAttempts) {
      throw new TransientError(`HBase REST scan of ${table} at ${settings.origin} failed ${failures} times in a row: ${fault.error.message}`, {
        context: { ...context, attempts: failures, rowsSoFar: assembler.rows }, cause: fault.error,
      });
    }
    // An expired scanner is routine (a slow consumer): reopen at once. Anything else backs off first.
    const delay = fault.lost === 'gone' ? 0 : backoffDelay(failures, settings.retry, settings.random);
    log.warn({ err: fault.error, attempt: failures, delayMs: delay, rowsSoFar: assembler.rows }, 'hbase scanner lost; reopening after the last row seen');
    if (delay > 0) await settings.sleep(delay, signal);
  };

  try {
    for (;;) {
      signal?.throwIfAborted();
      if (scanner === undefined) {
        const startRow = assembler.resumeRow();
        try {
          scanner = await openScanner(transport, table, startRow, request, settings);
          stats.scanners += 1;
        } catch (e) {
          signal?.throwIfAborted();
          const error = toError(e);
          if (error instanceof PermanentError) throw error;
          await fail(new ScanFault(error, 'failed'));
          continue;
        }
      }
      let outcome: Cell[] | 'end' | ScanFault;
      const asked = sizer.cells();
      try {
        outcome = await nextBatch(transport, scanner, assembler, { asked, limit: sizer.limitFor(asked), signal, stats, sizer, memory });
      } catch (e) {
        signal?.throwIfAborted();
        if (e instanceof ResponseTooLargeError) {
          // Not a failure: the scanner moved past cells we did not keep, so a new one re-reads them, fewer at a time.
          stats.oversized += 1;
          sizer.oversized(asked, e.bytesAtLeast);
          log.debug({ asked, bytesAtLeast: e.bytesAtLeast, next: sizer.cells() }, 'hbase scanner response over the byte budget; asking fewer cells');
          void deleteScanner(transport, scanner, settings);
          scanner = undefined;
          continue;
        }
        outcome = new ScanFault(toError(e), 'failed');
      }
      if (outcome instanceof ScanFault) {
        const lost = scanner;
        scanner = undefined;
        // A failed scanner may still hold a region scanner open on the server: free it, without waiting
        // (after a 410 the server has already dropped it).
        if (outcome.status !== 410) void deleteScanner(transport, lost, settings);
        // HBase REST creates scanners on missing tables (201) and answers their reads 404, like a scanner
        // it does not know: ask which it is rather than reopening until attempts run out.
        if (outcome.status === 404 && (await tableMissing(transport, table, settings, signal))) {
          throw new PermanentError(`HBase table ${table} not found at ${settings.origin}`, { context: { ...context, status: 404 } });
        }
        await fail(outcome);
        continue;
      }
      stats.responses += 1;
      // Only progress clears the failure count: a scanner that keeps failing before its first finished row
      // (always re-reading the same held-back row) must still run out of attempts.
      if (outcome === 'end' || outcome.length > 0) failures = 0;
      if (outcome === 'end') {
        const last = assembler.finish();
        stats.rows += last.length;
        if (last.length > 0) yield last;
        return;
      }
      stats.rows += outcome.length;
      if (outcome.length > 0) yield outcome;
    }
  } finally {
    // The scanner is freed when the scan ends, fails, is aborted, or the consumer stops early.
    if (scanner !== undefined) await deleteScanner(transport, scanner, settings);
  }
}

async function openScanner(transport: RestTransport, table: string, startRow: Buffer, request: ScanRequest, settings: ScanSettings): Promise<string> {
  const body = encodeScanner({
    ...(startRow.length > 0 ? { startRow } : {}),
    ...(request.range.endRow.length > 0 ? { endRow: request.range.endRow } : {}),
    columns: [settings.column],
    batch: settings.batchCells,
    // HBase time ranges are [min, max): exactly our window's half-open [start, end).
    startTime: request.window.start,
    endTime: request.window.end,
    maxVersions: 1,
    cacheBlocks: settings.cacheBlocks,
  });
  const path = `${tablePath(settings.basePath, table)}/scanner`;
  // Not aborted midway (the request is short and bounded by the pool's timeouts): a scanner created by a
  // request we gave up on would never be freed, since only its Location names it.
  const res = await transport.request({ method: 'PUT', path, body, headers: { 'content-type': PROTOBUF, accept: PROTOBUF } });
  const context = { url: settings.origin, table, status: res.status };
  if (res.status === 201) {
    const location = res.headers.location;
    if (typeof location !== 'string' || location === '') throw new TransientError(`HBase REST created a scanner on ${table} without a Location`, { context });
    // The server names itself in the Location (host as it sees it); we keep talking to our configured origin.
    const url = new URL(location, settings.origin);
    return `${url.pathname}${url.search}`;
  }
  const text = res.body.toString('utf8', 0, Math.min(res.body.length, 200)).trim();
  if (res.status === 404) throw new PermanentError(`HBase table ${table} not found at ${settings.origin}`, { context });
  if (res.status === 403) {
    throw new PermanentError(`HBase REST at ${settings.origin} refused to create a scanner on ${table} (403: a read-only REST server cannot scan)`, { context });
  }
  if (res.status === 400) throw new PermanentError(`HBase REST rejected the scanner for ${table}: ${text}`, { context });
  throw new TransientError(`HBase REST answered ${res.status} creating a scanner on ${table}: ${text}`, { context });
}

interface NextBatch {
  /** Cells asked for (`c`). */
  readonly asked: number;
  /** The largest body accepted. */
  readonly limit: number;
  readonly signal: AbortSignal | undefined;
  readonly stats: ScanStats;
  readonly sizer: BatchSizer;
  readonly memory: BodyMemory | undefined;
}

/** Reused response memory is kept up to this size (responses of ordinary cells are ~2–3 MB). */
const KEPT_BODY_BYTES = 8 * 1024 * 1024;

async function nextBatch(transport: RestTransport, scanner: string, assembler: RowAssembler, o: NextBatch): Promise<Cell[] | 'end' | ScanFault> {
  const path = `${scanner}${scanner.includes('?') ? '&' : '?'}c=${o.asked}`;
  const res = await transport.request({
    method: 'GET', path, headers: { accept: PROTOBUF }, signal: o.signal,
    ...(Number.isFinite(o.limit) ? { maxBodyBytes: o.limit } : {}),
    ...(o.memory ? { bodyMemory: o.memory } : {}),
  });
  if (res.status === 200) {
    const rows = decodeCellSet(res.body);
    const size = sizeOf(rows, res.body.length);
    o.stats.bytes += size.bytes;
    if (size.bytes > o.stats.largestResponseBytes) o.stats.largestResponseBytes = size.bytes;
    o.sizer.observed(size);
    return assembler.accept(rows);
  }
  if (res.status === 204) return 'end';
  const error = new Error(`HBase REST answered ${res.status} reading scanner ${scanner}`);
  return new ScanFault(error, res.status === 410 || res.status === 404 ? 'gone' : 'failed', res.status);
}

function sizeOf(rows: readonly RestRow[], bytes: number): ResponseSize {
  let cells = 0;
  let valueBytes = 0;
  let largestCellBytes = 0;
  for (const row of rows) {
    for (const cell of row.cells) {
      cells += 1;
      valueBytes += cell.data.length;
      if (cell.data.length > largestCellBytes) largestCellBytes = cell.data.length;
    }
  }
  return { cells, bytes, valueBytes, largestCellBytes };
}

/** Whether the table is gone (`GET /<table>/schema` → 404); any other answer or failure says no. */
async function tableMissing(transport: RestTransport, table: string, settings: ScanSettings, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    const res = await transport.request({ method: 'GET', path: `${tablePath(settings.basePath, table)}/schema`, headers: { accept: 'application/json' }, signal });
    return res.status === 404;
  } catch (e) {
    signal?.throwIfAborted();
    settings.logger.debug({ table, err: toError(e) }, 'hbase table lookup failed');
    return false;
  }
}

async function deleteScanner(transport: RestTransport, scanner: string, settings: ScanSettings): Promise<void> {
  try {
    // Not the caller's signal: an aborted scan still frees its scanner.
    const res = await transport.request({ method: 'DELETE', path: scanner, signal: AbortSignal.timeout(settings.cleanupTimeoutMs) });
    // 404: already gone; 403: a read-only server keeps scanners until they expire.
    if (res.status !== 200 && res.status !== 404 && res.status !== 403) settings.logger.debug({ scanner, status: res.status }, 'hbase scanner delete refused');
  } catch (e) {
    settings.logger.debug({ scanner, err: toError(e) }, 'hbase scanner delete failed');
  }
}
