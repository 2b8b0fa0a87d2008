import { KeyServiceAccessError } from './errors.js';
import type { ErrorContext } from '../shared/errors.js';

/**
 * A DKS answer is a few hundred bytes (a decrypt: two ids and a base64 key). Reading one whole, whatever
 * its size, let a misbehaving DKS or proxy take the step's memory (a 400 MB answer was read in one piece).
 * 64 KiB is ~200 times a real answer and still nothing to memory.
 */
export const DEFAULT_MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Reads an HTTP answer body as UTF-8, chunk by chunk, and stops at `maxBytes`: the rest is never buffered
 * (the stream is destroyed, which also closes the connection). Over the cap is a DKS fault, not a record's:
 * a permanent access error that names the cap, so the collection fails at once instead of retrying.
 */
export async function readBoundedAnswer(
  body: AsyncIterable<Uint8Array> & { destroy?: (error?: Error) => unknown },
  maxBytes: number,
  context: ErrorContext,
): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy?.();
      throw new KeyServiceAccessError(
        `DKS answer is over ${maxBytes} bytes (the cap on a DKS answer): DKS or a proxy in front of it is misbehaving`,
        { context: { ...context, maxAnswerBytes: maxBytes } },
      );
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}
