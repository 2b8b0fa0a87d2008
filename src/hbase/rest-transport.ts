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
}

export interface RestResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The whole body (empty for 204). */
  readonly body: Buffer;
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
