import type { BodyMemory } from './body-memory.js';

/**
 * The HTTP surface the HBase REST client logic needs, so that the scanner state machine runs over undici in
 * production (rest-adapter.ts) and over anything in tests. Network failures reject; HTTP statuses resolve.
 */
export const PROTOBUF = 'application/x-protobuf';

export interface RestRequest {
  readonly method: 'GET' | 'PUT' | 'POST' | 'DELETE';
  /** Absolute path (and query) on the configured origin. */
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
  readonly signal?: AbortSignal | undefined;
  /** The largest body read: a larger one is abandoned unread (ResponseTooLargeError). Default: unbounded. */
  readonly maxBodyBytes?: number;
  /** Read the body into this reused memory (valid until the next body read into it) instead of fresh memory. */
  readonly bodyMemory?: BodyMemory;
}

export interface RestResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The whole body (empty for 204). */
  readonly body: Buffer;
}

/** A response body past the request's `maxBodyBytes`: abandoned (the connection closed) after `bytesAtLeast`. */
export class ResponseTooLargeError extends Error {
  constructor(readonly limit: number, readonly bytesAtLeast: number) {
    super(`HBase REST response is larger than ${limit} bytes (at least ${bytesAtLeast}): abandoned unread`);
    this.name = 'ResponseTooLargeError';
  }
}

export interface RestTransport {
  request(request: RestRequest): Promise<RestResponse>;
}

/**
 * `<base>/<table>`: the table name percent-encoded as one path segment (`core%3Aaddresses`); HBase REST
 * decodes it (checked against HBase 2.6: `ns%3Atable` and `ns:table` reach the same table).
 */
export function tablePath(basePath: string, table: string): string {
  return `${basePath}/${encodeURIComponent(table)}`;
}
