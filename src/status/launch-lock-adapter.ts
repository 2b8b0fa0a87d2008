import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ErrorContext } from '../shared/errors.js';
import { isConditionFailed, statusStoreError } from './errors.js';
import { LOCK_ATTR, LOCK_NOTE, launchRecordOf, lockKey, type LaunchLock, type LaunchRecord, type LockAttempt } from './launch-lock.js';
import { ATTR, type Item } from './status-item.js';

export interface DynamoLaunchLockOptions {
  readonly tableName: string;
  readonly client: DynamoDBDocumentClient;
}

/** The launch lock (see `launch-lock.ts`) as conditional UpdateItem calls on its item in the status table. */
export class DynamoLaunchLock implements LaunchLock {
  constructor(private readonly options: DynamoLaunchLockOptions) {}

  async acquire(owner: string, now: number, leaseMs: number): Promise<LockAttempt> {
    const item = await this.update('acquire', { owner }, {
      UpdateExpression: 'SET #o = :o, #e = :e, #a = :now, #u = :now, #n = :note',
      // Free (never taken or released), expired, or ours already (a retried acquire).
      ConditionExpression: 'attribute_not_exists(#o) OR #e < :now OR #o = :o',
      ExpressionAttributeNames: { '#o': LOCK_ATTR.owner, '#e': LOCK_ATTR.expiresAt, '#a': LOCK_ATTR.acquiredAt, '#u': LOCK_ATTR.updatedAt, '#n': LOCK_ATTR.note },
      ExpressionAttributeValues: { ':o': owner, ':e': now + leaseMs, ':now': now, ':note': LOCK_NOTE },
      ReturnValues: 'ALL_NEW',
    });
    if (item !== undefined) {
      const lastLaunch = launchRecordOf(item);
      return { acquired: true, ...(lastLaunch ? { lastLaunch } : {}) };
    }
    const current = await this.read();
    return { acquired: false, holder: String(current?.[LOCK_ATTR.owner] ?? '(released meanwhile)'), expiresAt: Number(current?.[LOCK_ATTR.expiresAt] ?? now) };
  }

  async renew(owner: string, now: number, leaseMs: number): Promise<boolean> {
    return (await this.update('renew', { owner }, {
      UpdateExpression: 'SET #e = :e, #u = :now',
      ConditionExpression: '#o = :o',
      ExpressionAttributeNames: { '#o': LOCK_ATTR.owner, '#e': LOCK_ATTR.expiresAt, '#u': LOCK_ATTR.updatedAt },
      ExpressionAttributeValues: { ':o': owner, ':e': now + leaseMs, ':now': now },
    })) !== undefined;
  }

  async recordLaunch(owner: string, launch: LaunchRecord): Promise<boolean> {
    return (await this.update('recordLaunch', { owner, clusterId: launch.clusterId }, {
      UpdateExpression: 'SET #c = :c, #r = :r, #t = :t, #u = :t',
      ConditionExpression: '#o = :o',
      ExpressionAttributeNames: { '#o': LOCK_ATTR.owner, '#c': LOCK_ATTR.lastLaunchClusterId, '#r': LOCK_ATTR.lastLaunchCorrelationId, '#t': LOCK_ATTR.lastLaunchAt, '#u': LOCK_ATTR.updatedAt },
      ExpressionAttributeValues: { ':o': owner, ':c': launch.clusterId, ':r': launch.correlationId, ':t': launch.at },
    })) !== undefined;
  }

  async release(owner: string): Promise<boolean> {
    return (await this.update('release', { owner }, {
      UpdateExpression: 'REMOVE #o, #e',
      ConditionExpression: '#o = :o',
      ExpressionAttributeNames: { '#o': LOCK_ATTR.owner, '#e': LOCK_ATTR.expiresAt },
      ExpressionAttributeValues: { ':o': owner },
    })) !== undefined;
  }

  async peek(owner: string, now: number): Promise<LockAttempt> {
    const item = await this.read();
    const holder = item?.[LOCK_ATTR.owner];
    const expiresAt = Number(item?.[LOCK_ATTR.expiresAt] ?? 0);
    if (typeof holder === 'string' && holder !== owner && expiresAt >= now) return { acquired: false, holder, expiresAt };
    const lastLaunch = launchRecordOf(item);
    return { acquired: true, ...(lastLaunch ? { lastLaunch } : {}) };
  }

  /** The lock item as stored (consistent read), for reports and tests. */
  async read(): Promise<Item | undefined> {
    try {
      const answer = await this.options.client.send(new GetCommand({ TableName: this.options.tableName, Key: lockKey(), ConsistentRead: true }));
      return answer.Item;
    } catch (e) {
      throw statusStoreError(e, 'GetItem', { table: this.options.tableName, item: 'launch lock' });
    }
  }

  /** A conditional update of the lock item: its new attributes, or undefined when the condition failed. */
  private async update(operation: string, context: ErrorContext, parts: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName' | 'Key'>): Promise<Item | undefined> {
    try {
      const answer = await this.options.client.send(new UpdateCommand({ TableName: this.options.tableName, Key: lockKey(), ReturnValues: 'ALL_NEW', ...parts }));
      return answer.Attributes ?? { [ATTR.correlationId]: lockKey()[ATTR.correlationId] };
    } catch (e) {
      if (isConditionFailed(e)) return undefined;
      throw statusStoreError(e, `UpdateItem (launch lock ${operation})`, { table: this.options.tableName, ...context });
    }
  }
}
