import pLimit from 'p-limit';
import type { JobStatus } from '../../shared/types.js';
import type { StatusRow } from '../../step/ports.js';
import { RowsChangedError } from './errors.js';
import type { TriggerStatus } from './ports.js';

const PRE_LAUNCH: readonly JobStatus[] = ['LAMBDA_TRIGGERED', 'WAITING'];

/**
 * This run's status rows, one per collection, moved together with conditional writes:
 * (absent) → LAMBDA_TRIGGERED → [WAITING →] EMR_LAUNCHED | DEFERRED | LAMBDA_FAILED.
 * Each write requires the state this trigger left, so a row someone else moved is never overwritten.
 */
export class RunRows {
  private current: JobStatus = 'LAMBDA_TRIGGERED';
  private readonly limit = pLimit(8);

  constructor(
    private readonly status: TriggerStatus,
    readonly correlationId: string,
    readonly collections: readonly string[],
    readonly triggeredTime: number,
  ) {}

  get state(): JobStatus {
    return this.current;
  }

  async create(): Promise<void> {
    await this.move('LAMBDA_TRIGGERED', [undefined], undefined, true);
  }

  /** WAITING with the reason; again while waiting, it refreshes `UpdatedAt` (the heartbeat). */
  async wait(reason: string): Promise<void> {
    await this.move('WAITING', PRE_LAUNCH, reason, true);
  }

  /** Refreshes `UpdatedAt` in the current pre-launch state, so no other trigger takes this run for dead. */
  async heartbeat(reason?: string): Promise<void> {
    await this.move(this.current, [this.current], reason, true);
  }

  async defer(reason: string): Promise<string[]> {
    return this.move('DEFERRED', PRE_LAUNCH, reason, false);
  }

  async launched(clusterId: string): Promise<string[]> {
    return this.move('EMR_LAUNCHED', PRE_LAUNCH, undefined, false, { emrClusterId: clusterId });
  }

  async fail(reason: string, clusterId?: string): Promise<string[]> {
    return this.move('LAMBDA_FAILED', [...PRE_LAUNCH, 'EMR_LAUNCHED'], reason, false, clusterId === undefined ? {} : { emrClusterId: clusterId });
  }

  /** Moves every row; returns the collections whose row was not in an allowed state (or throws when `strict`). */
  private async move(to: JobStatus, from: readonly (JobStatus | undefined)[], reason: string | undefined, strict: boolean, extra: Partial<StatusRow> = {}): Promise<string[]> {
    const results = await Promise.all(this.collections.map((collection) => this.limit(async () => {
      const row: StatusRow = { correlationId: this.correlationId, collection, status: to, triggeredTime: this.triggeredTime, ...extra };
      return (await this.status.transition(row, from, reason)) ? undefined : collection;
    })));
    const refused = results.filter((c): c is string => c !== undefined);
    if (refused.length < this.collections.length) this.current = to;
    if (strict && refused.length > 0) {
      throw new RowsChangedError(`status rows of run ${this.correlationId} are no longer in ${from.map((s) => s ?? '(absent)').join('/')}: ${refused.join(', ')}`, {
        context: { correlationId: this.correlationId, to },
      });
    }
    return refused;
  }
}
