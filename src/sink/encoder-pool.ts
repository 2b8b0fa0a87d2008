import { Worker } from 'node:worker_threads';
import { PermanentError, toError } from '../shared/errors.js';
import {
  ENCODER_WORKER_ROLE, encodeParquetPart, type EncodedPart, type EncodeOptions, type EncodeRequest, type EncodeResponse,
} from './parquet-encoder-adapter.js';
import { partBuffers, type ColumnarPart } from './part-buffer.js';

/**
 * Where Parquet encoding runs. Encoding is synchronous CPU work (~0.5 s for a 64 MiB part); on encoder
 * threads it overlaps with the scan and decryption on the main thread instead of stalling them.
 */
export interface PartEncoder {
  encode(part: ColumnarPart): Promise<EncodedPart>;
  /** Stops the encoder threads. Idle threads never keep the process alive, so this is optional. */
  close(): Promise<void>;
}

export function createInlineEncoder(options: EncodeOptions): PartEncoder {
  return {
    encode: async (part) => encodeParquetPart(part, options),
    close: async () => undefined,
  };
}

interface Pending {
  readonly resolve: (part: EncodedPart) => void;
  readonly reject: (error: Error) => void;
}

// Under the tests the sources run as .ts (Node strips the types of the worker entry); built, they are .js.
const WORKER_URL = new URL(`./parquet-encoder-adapter${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** One encoder thread: one part at a time, queued in order. */
class EncoderThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  get load(): number {
    return this.pending.size;
  }

  encode(part: ColumnarPart, options: EncodeOptions): Promise<EncodedPart> {
    const worker = this.ensureWorker();
    const id = (this.nextId += 1);
    const request: EncodeRequest = { id, part, options };
    return new Promise<EncodedPart>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      // Transfer, not copy: the part's buffers move to the thread and are unusable here afterwards.
      worker.postMessage(request, partBuffers(part));
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker !== undefined) await worker.terminate();
  }

  private ensureWorker(): Worker {
    if (this.worker !== undefined) return this.worker;
    // The thread's JavaScript allocates little (its data lives in ArrayBuffers): a small young
    // generation keeps V8 from growing it to its large-machine default (~20 MiB less RSS, BENCHMARKS.md).
    const worker = new Worker(WORKER_URL, {
      workerData: { role: ENCODER_WORKER_ROLE },
      resourceLimits: { maxYoungGenerationSizeMb: 16 },
    });
    worker.on('message', (response: EncodeResponse) => this.settle(response));
    worker.on('error', (e) => this.failAll(worker, toError(e)));
    worker.on('exit', (code) => this.failAll(worker, new Error(`parquet encoder thread exited with code ${code}`)));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private settle(response: EncodeResponse): void {
    const waiter = this.pending.get(response.id);
    if (waiter === undefined) return;
    this.pending.delete(response.id);
    if (this.pending.size === 0) this.worker?.unref();
    if (response.ok) waiter.resolve(response.part);
    else waiter.reject(new PermanentError('parquet encoding failed', { cause: Object.assign(new Error(response.message), { stack: response.stack }) }));
  }

  private failAll(worker: Worker, error: Error): void {
    if (this.worker === worker) this.worker = undefined;
    const waiters = [...this.pending.values()];
    this.pending.clear();
    for (const waiter of waiters) waiter.reject(new PermanentError('parquet encoder thread failed', { cause: error }));
  }
}

/** A pool of encoder threads shared by every run output of a sink; each part goes to the least loaded. */
export function createThreadEncoder(options: EncodeOptions & { threads: number }): PartEncoder {
  const threads = Array.from({ length: Math.max(1, options.threads) }, () => new EncoderThread());
  const encodeOptions: EncodeOptions = { compression: options.compression };
  return {
    encode: (part) => {
      const thread = threads.reduce((best, t) => (t.load < best.load ? t : best));
      return thread.encode(part, encodeOptions);
    },
    close: async () => {
      await Promise.all(threads.map((t) => t.close()));
    },
  };
}
