import type { BodyMemory } from './body-memory.js';
import { ResponseTooLargeError } from './rest-transport.js';

/**
 * Reads a response body into one Buffer, refusing one larger than `limit` bytes: as soon as its announced
 * length (`content-length`) or the bytes received pass the limit, reading stops and the caller's `abandon`
 * closes the connection, so an oversized body is never buffered whole. With a length announced, the chunks
 * are copied into one buffer of that size as they arrive (no second copy at the end). With `memory`, every body
 * is copied into that reused memory instead (valid until the next body read into it).
 */
export async function readBounded(
  chunks: AsyncIterable<Uint8Array>,
  contentLength: string | string[] | undefined,
  limit: number,
  abandon: () => void,
  memory?: BodyMemory,
): Promise<Buffer> {
  const announced = typeof contentLength === 'string' && /^\d+$/.test(contentLength) ? Number(contentLength) : undefined;
  if (announced !== undefined && announced > limit) {
    abandon();
    throw new ResponseTooLargeError(limit, announced);
  }
  if (memory !== undefined) return readInto(memory, chunks, announced, limit, abandon);
  const parts: Uint8Array[] = [];
  const whole = announced === undefined ? undefined : Buffer.allocUnsafe(announced);
  let total = 0;
  for await (const chunk of chunks) {
    if (total + chunk.length > limit) {
      abandon();
      throw new ResponseTooLargeError(limit, total + chunk.length);
    }
    if (whole !== undefined && total + chunk.length <= whole.length) whole.set(chunk, total);
    else parts.push(chunk);
    total += chunk.length;
  }
  if (whole !== undefined && parts.length === 0) return total === whole.length ? whole : whole.subarray(0, total);
  // No length announced (or more bytes than announced): one copy, as the body's whole.
  const all = whole === undefined ? parts : [whole.subarray(0, total - parts.reduce((n, p) => n + p.length, 0)), ...parts];
  if (all.length === 1) {
    const one = all[0] as Uint8Array;
    return Buffer.isBuffer(one) ? one : Buffer.from(one.buffer, one.byteOffset, one.byteLength);
  }
  return Buffer.concat(all, total);
}

/** The body copied into reused memory as it arrives (announced or not): no fresh pages, no concatenation. */
async function readInto(memory: BodyMemory, chunks: AsyncIterable<Uint8Array>, announced: number | undefined, limit: number, abandon: () => void): Promise<Buffer> {
  memory.start();
  let buffer = memory.room(announced ?? 0);
  let total = 0;
  for await (const chunk of chunks) {
    if (total + chunk.length > limit) {
      abandon();
      throw new ResponseTooLargeError(limit, total + chunk.length);
    }
    if (total + chunk.length > buffer.length) buffer = memory.room(total + chunk.length, total);
    buffer.set(chunk, total);
    total += chunk.length;
  }
  return buffer.subarray(0, total);
}
