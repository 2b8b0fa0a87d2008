import { Readable } from 'node:stream';
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
  if (memory !== undefined) {
    if (chunks instanceof Readable) return readStreamInto(memory, chunks, announced, limit, abandon);
    // Any other source of chunks as a stream of its own, closed (its source with it) once the body is read or refused.
    const stream = Readable.from(chunks);
    return readStreamInto(memory, stream, announced, limit, abandon).finally(() => stream.destroy());
  }
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

/**
 * The body copied into reused memory as it arrives (announced or not): no fresh pages, no concatenation. Chunk
 * by chunk as the stream's 'data' events deliver them, not by async iteration: that calls `read()`, which joins
 * every chunk buffered so far into a new buffer first (a copy of most of the body).
 */
function readStreamInto(memory: BodyMemory, stream: Readable, announced: number | undefined, limit: number, abandon: () => void): Promise<Buffer> {
  memory.start();
  let buffer = memory.room(announced ?? 0);
  let total = 0;
  return new Promise<Buffer>((resolve, reject) => {
    const settle = (error?: Error): void => {
      stream.off('data', onData).off('end', onEnd).off('error', settle).off('close', onClose);
      if (error === undefined) resolve(buffer.subarray(0, total));
      else reject(error);
    };
    const onData = (chunk: Buffer): void => {
      if (total + chunk.length > limit) {
        const error = new ResponseTooLargeError(limit, total + chunk.length);
        settle(error);
        abandon();
        return;
      }
      if (total + chunk.length > buffer.length) buffer = memory.room(total + chunk.length, total);
      buffer.set(chunk, total);
      total += chunk.length;
    };
    const onEnd = (): void => settle();
    // Closed before its end without an error (destroyed): the body is incomplete.
    const onClose = (): void => settle(new Error(`response body closed after ${total} bytes, before its end`));
    stream.on('data', onData).once('end', onEnd).once('error', settle).once('close', onClose);
  });
}
