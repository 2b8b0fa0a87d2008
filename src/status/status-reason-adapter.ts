import { UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { JobStatus } from '../shared/types.js';
import type { StatusRow } from '../step/ports.js';
import { isConditionFailed, statusStoreError } from './errors.js';
import { ATTR, transitionUpdate } from './status-item.js';

/**
 * Why a row is in its state, in words for the operator reading the table: "cluster j-… terminated
 * (TERMINATED_WITH_ERRORS: bootstrap failure) before the run finished", "deferred: cluster j-… still active".
 * An attribute added next to the contract's ones (DESIGN.md §3.3 names stay as they are).
 */
export const REASON_ATTR = ATTR.reason;

export interface StatusReasonsOptions {
  readonly tableName: string;
  readonly client: DynamoDBDocumentClient;
  readonly now?: () => number;
}

/** The orchestrator's conditional transitions: the step's `transition` plus the reason, set or cleared. */
export class StatusReasons {
  private readonly now: () => number;

  constructor(private readonly options: StatusReasonsOptions) {
    this.now = options.now ?? Date.now;
  }

  /**
   * Like `DynamoStatusStore.transition` (same condition, same attributes) and records `reason`; without a
   * reason it removes an earlier one, so a launched row does not keep the "waiting for …" of its past.
   */
  async transition(row: StatusRow, from: readonly (JobStatus | undefined)[], reason?: string): Promise<boolean> {
    const update = transitionUpdate({ ...row, reason: reason ?? null }, from, this.now());
    try {
      await this.options.client.send(new UpdateCommand({ TableName: this.options.tableName, ...update }));
      return true;
    } catch (e) {
      if (isConditionFailed(e)) return false;
      throw statusStoreError(e, 'UpdateItem', { table: this.options.tableName, correlationId: row.correlationId, collection: row.collection, status: row.status });
    }
  }
}
