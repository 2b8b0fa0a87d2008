/**
 * A counting semaphore whose waiters can give up (abort signal). The DKS client takes a slot before it starts
 * an attempt's clock: a request waiting behind others for a connection must not time out for the wait
 * (measured: with a 2 s DKS and 40 distinct keys over 6 connections, 6 of 40 requests timed out in the queue
 * and were sent twice).
 */
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`slots must be a whole number of at least 1, got ${size}`);
    this.free = size;
  }

  /** Runs `task` once a slot is free, and frees the slot when it settles. Rejects at once on abort while waiting. */
  async run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.acquire(signal);
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private acquire(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (this.free > 0) {
      this.free -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        const at = this.waiting.indexOf(grant);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal?.reason);
      };
      this.waiting.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private release(): void {
    // The slot passes straight to the next waiter, so `free` never counts a slot somebody is about to take.
    const next = this.waiting.shift();
    if (next) next();
    else this.free += 1;
  }
}
