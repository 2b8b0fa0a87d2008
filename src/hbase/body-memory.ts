/**
 * Memory that one reader reuses for body after body (a scan: one response at a time). Fresh memory for every
 * ~2.6 MB scanner response costs more than reading it: each new 4 KiB page faults (~3 µs apiece on this kind of
 * machine, ~1.6 ms per response against ~60 µs to copy it into memory already touched; BENCHMARKS.md).
 * A body read into it is valid until the next body is read: whoever keeps bytes past that copies them.
 */
export class BodyMemory {
  private buffer: Buffer = Buffer.alloc(0);

  /** @param keepBytes a buffer grown past this (a response of a few huge cells) is not kept for the next body. */
  constructor(private readonly keepBytes: number) {}

  /** Room for at least `bytes`, the first `kept` bytes of the current buffer carried over when it must grow. */
  room(bytes: number, kept = 0): Buffer {
    if (bytes <= this.buffer.length) return this.buffer;
    // Own memory (never a slice of Node's pool), doubled so that a body of unannounced length grows few times.
    const bigger = Buffer.allocUnsafeSlow(Math.max(bytes, Math.min(this.buffer.length * 2, Math.max(bytes, this.keepBytes))));
    if (kept > 0) this.buffer.copy(bigger, 0, 0, kept);
    this.buffer = bigger;
    return bigger;
  }

  /** Called before a body is read into it: drops a buffer that grew past what is worth keeping. */
  start(): void {
    if (this.buffer.length > this.keepBytes) this.buffer = Buffer.alloc(0);
  }
}
