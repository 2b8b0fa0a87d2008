import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ErrorContext } from '../shared/errors.js';
import type { CollectionName } from '../shared/types.js';
import type { CollectionLease, LeaseAttempt, LeaseHolder } from '../step/ports.js';
import { isConditionFailed, statusStoreError } from './errors.js';
import { ATTR, keyOf, type Item } from './status-item.js';

/**
 * The collection lease (see `CollectionLease`) as one bookkeeping item per collection in the status table:
 * `CorrelationId = "COLLECTION_LEASE"`, `Collection = <ns:table>`. Like the launch lock it has no
 * `TriggeredTime` (absent from the `byCollection` index, so the guard and `status` never see it) and no
 * `JobStatus`. Why an item of its own: two runs of one collection have different correlation ids, so no
 * conditional write on their own rows can see each other; one well-known key per collection can.
 */
export const COLLECTION_LEASE_ID = 'COLLECTION_LEASE';

export const LEASE_ATTR = {
  attempt: 'LeaseOwner',
  correlationId: 'LeaseCorrelationId',
  expiresAt: 'LeaseExpiresAt',
  acquiredAt: 'LeaseAcquiredAt',
  updatedAt: ATTR.updatedAt,
  note: 'Note',
} as const;

const NOTE = 'ingest-replica collection lease: one runner per collection. Safe to delete only when no step runs.';

export interface DynamoCollectionLeaseOptions {
  readonly tableName: string;
  readonly client: DynamoDBDocumentClient;
}

export class DynamoCollectionLease implements CollectionLease {
  constructor(private readonly options: DynamoCollectionLeaseOptions) {}

  async acquire(collection: CollectionName, owner: Omit<LeaseHolder, 'expiresAt'>, now: number, leaseMs: number): Promise<LeaseAttempt> {
    const taken = await this.update(collection, 'acquire', {
      UpdateExpression: 'SET #o = :o, #c = :c, #e = :e, #a = :now, #u = :now, #n = :note',
      // Free (never taken or released), expired, or this attempt's already (a retried acquire).
      ConditionExpression: 'attribute_not_exists(#o) OR #e < :now OR #o = :o',
      ExpressionAttributeNames: { '#o': LEASE_ATTR.attempt, '#c': LEASE_ATTR.correlationId, '#e': LEASE_ATTR.expiresAt, '#a': LEASE_ATTR.acquiredAt, '#u': LEASE_ATTR.updatedAt, '#n': LEASE_ATTR.note },
      ExpressionAttributeValues: { ':o': owner.attempt, ':c': owner.correlationId, ':e': now + leaseMs, ':now': now, ':note': NOTE },
    });
    if (taken) return { acquired: true };
    const holder = await this.holder(collection);
    // Released between the attempt and the read: report it as about to be free, the caller tries again.
    return { acquired: false, holder: holder ?? { attempt: '(released)', correlationId: '(released)', expiresAt: now } };
  }

  renew(collection: CollectionName, attempt: string, now: number, leaseMs: number): Promise<boolean> {
    return this.update(collection, 'renew', {
      UpdateExpression: 'SET #e = :e, #u = :now',
      ConditionExpression: '#o = :o',
      ExpressionAttributeNames: { '#o': LEASE_ATTR.attempt, '#e': LEASE_ATTR.expiresAt, '#u': LEASE_ATTR.updatedAt },
      ExpressionAttributeValues: { ':o': attempt, ':e': now + leaseMs, ':now': now },
    });
  }

  release(collection: CollectionName, attempt: string): Promise<boolean> {
    return this.update(collection, 'release', {
      UpdateExpression: 'REMOVE #o, #c, #e',
      ConditionExpression: '#o = :o',
      ExpressionAttributeNames: { '#o': LEASE_ATTR.attempt, '#c': LEASE_ATTR.correlationId, '#e': LEASE_ATTR.expiresAt },
      ExpressionAttributeValues: { ':o': attempt },
    });
  }

  async holder(collection: CollectionName): Promise<LeaseHolder | undefined> {
    let item: Item | undefined;
    try {
      item = (await this.options.client.send(new GetCommand({ TableName: this.options.tableName, Key: keyOf(COLLECTION_LEASE_ID, collection), ConsistentRead: true }))).Item;
    } catch (e) {
      throw statusStoreError(e, 'GetItem (collection lease)', { table: this.options.tableName, collection });
    }
    const attempt = item?.[LEASE_ATTR.attempt];
    if (typeof attempt !== 'string') return undefined;
    return { attempt, correlationId: String(item?.[LEASE_ATTR.correlationId] ?? ''), expiresAt: Number(item?.[LEASE_ATTR.expiresAt] ?? 0) };
  }

  private async update(collection: CollectionName, operation: string, parts: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName' | 'Key'>): Promise<boolean> {
    const context: ErrorContext = { table: this.options.tableName, collection };
    try {
      await this.options.client.send(new UpdateCommand({ TableName: this.options.tableName, Key: keyOf(COLLECTION_LEASE_ID, collection), ...parts }));
      return true;
    } catch (e) {
      if (isConditionFailed(e)) return false;
      throw statusStoreError(e, `UpdateItem (collection lease ${operation})`, context);
    }
  }
}
