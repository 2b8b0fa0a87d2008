import { sleep } from '../shared/time.js';
import type { Logger } from '../shared/logger.js';
import { toError } from '../shared/errors.js';
import type { CollectionName } from '../shared/types.js';
import { StaleRunnerError } from './errors.js';
import type { CollectionLease, LeaseHolder } from './ports.js';

/**
 * A runner's hold on its collection's lease: taken (waiting a bounded time for a live holder), renewed every
 * third of its duration while the run works, released at the end. When a renewal says the lease is gone,
 * `signal` aborts the run; `fence()`, awaited before each write, renews a lease within `marginMs` of expiring
 * by this runner's own clock and refuses the write when that fails, so a runner that stalled (GC pause, lost
 * network) stops writing. The lease only keeps two runners from doing the same work: exactly-once does not
 * rest on clocks, but on the publication claim (`StatusStore.claimPublication`), which a settle step and a
 * stalled runner cannot both win.
 */
export interface LeaseSettings {
  /** How long a lease lasts without renewal (default 2 min). */
  readonly leaseMs: number;
  /** How long to wait for a live holder to finish before giving up (default 10 min). */
  readonly waitMs: number;
  /** Between acquire attempts while waiting (default: half the lease, at most 5 s). */
  readonly pollMs?: number;
}

export const DEFAULT_LEASE: LeaseSettings = { leaseMs: 120_000, waitMs: 600_000 };

export interface LeaseOwner {
  readonly collection: CollectionName;
  readonly attempt: string;
  readonly correlationId: string;
}

export class HeldLease {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private onRenew: (() => Promise<unknown>) | undefined;
  private validUntil: number;
  private readonly marginMs: number;

  private constructor(
    private readonly lease: CollectionLease,
    private readonly owner: LeaseOwner,
    private readonly settings: LeaseSettings,
    private readonly now: () => number,
    private readonly logger: Logger,
    takenAt: number,
  ) {
    this.validUntil = takenAt + settings.leaseMs;
    this.marginMs = Math.min(settings.leaseMs / 4, 30_000);
  }

  /** The lease, or who holds it when it stayed taken for the whole wait. */
  static async take(lease: CollectionLease, owner: LeaseOwner, settings: LeaseSettings, options: {
    readonly now: () => number; readonly logger: Logger; readonly signal?: AbortSignal; readonly onWait?: (holder: LeaseHolder) => void;
  }): Promise<HeldLease | { readonly busy: LeaseHolder }> {
    const started = options.now();
    for (;;) {
      const at = options.now();
      const attempt = await lease.acquire(owner.collection, { attempt: owner.attempt, correlationId: owner.correlationId }, at, settings.leaseMs);
      if (attempt.acquired) return new HeldLease(lease, owner, settings, options.now, options.logger, at);
      const waited = options.now() - started;
      if (waited >= settings.waitMs) return { busy: attempt.holder };
      options.onWait?.(attempt.holder);
      await sleep(Math.min(settings.pollMs ?? Math.min(5_000, settings.leaseMs / 2), settings.waitMs - waited), options.signal);
    }
  }

  /** Aborted when the lease is lost: the run stops and publishes nothing. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Starts renewing; `onRenew` runs after each renewal (the status row's heartbeat). */
  keepAlive(onRenew?: () => Promise<unknown>): void {
    const every = Math.max(Math.floor(this.settings.leaseMs / 3), 10);
    this.onRenew = onRenew;
    this.timer = setInterval(() => void this.renew(), every);
    this.timer.unref();
  }

  /** Resolves while this runner surely still holds the lease, renewing it first when near expiry (see the class comment). */
  async fence(): Promise<void> {
    if (this.controller.signal.aborted) throw toError(this.controller.signal.reason);
    if (this.now() <= this.validUntil - this.marginMs) return;
    // The timer's renewal is late (a busy event loop, a slow status table): renew now, once for all writers.
    this.renewing ??= this.renew().finally(() => { this.renewing = undefined; });
    await this.renewing;
    if (this.controller.signal.aborted) throw toError(this.controller.signal.reason);
    if (this.now() > this.validUntil - this.marginMs) {
      throw this.lost(`the lease on ${this.owner.collection} could not be renewed in time (valid until ${new Date(this.validUntil).toISOString()})`);
    }
  }

  async release(): Promise<void> {
    clearInterval(this.timer);
    await this.lease.release(this.owner.collection, this.owner.attempt).catch((e: unknown) =>
      // It expires by itself; the next runner only waits for that.
      this.logger.warn({ err: toError(e), collection: this.owner.collection }, 'could not release the collection lease'));
  }

  private async renew(): Promise<void> {
    if (this.controller.signal.aborted) return;
    const at = this.now();
    try {
      if (!(await this.lease.renew(this.owner.collection, this.owner.attempt, at, this.settings.leaseMs))) {
        this.lost(`another runner took the lease on ${this.owner.collection}`);
        return;
      }
      this.validUntil = at + this.settings.leaseMs;
      await this.onRenew?.();
    } catch (e) {
      // A failed renewal is retried at the next tick; the fence stops writes if none succeeds in time.
      this.logger.warn({ err: toError(e), collection: this.owner.collection }, 'lease renewal failed');
    }
  }

  private lost(message: string): StaleRunnerError {
    const error = new StaleRunnerError(message, { context: { ...this.owner } });
    if (!this.controller.signal.aborted) {
      this.logger.error({ err: error }, 'collection lease lost: stopping this run');
      this.controller.abort(error);
    }
    return error;
  }
}
