import type { IncomingMessage, ServerResponse } from 'node:http';

/** Small HTTP helpers of the local DKS. Answers are never cached by anything in between: they carry keys. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

const REASONS: Record<number, string> = { 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

/**
 * The error answer of the real DKS's Spring Boot when a handler throws: Spring's error JSON, and the
 * connection closed (its error page path sends `Connection: close`), so clients must cope with both.
 */
export function sendSpringError(res: ServerResponse, status: number, path: string): void {
  const text = JSON.stringify({ timestamp: new Date().toISOString(), status, error: REASONS[status] ?? 'Error', path });
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    connection: 'close',
  });
  res.end(text);
}

export class BodyTooLarge extends Error {}

/** The request body as UTF-8 text, refused past `limit` bytes (a wrapped key is well under 1 KB). */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLarge(`body over ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
