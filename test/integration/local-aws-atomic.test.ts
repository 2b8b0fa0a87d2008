import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadStepConfig } from '../../src/config/step-config.js';
import { localHome } from '../../src/local/paths.js';
import { dynamoDocumentClient } from '../../src/wiring/aws-clients.js';
import { localStack } from '../support/local-stack.js';

/**
 * The local AWS keeps DynamoDB's promise that a conditional write is atomic: the collection lease, the launch
 * lock and the publication claim all rest on it. Plain moto_server does not (it reads, checks and writes an
 * item in steps, on request threads); the stack runs local-aws/atomic_moto_server.py, which serialises them.
 */
const stack = localStack();
const config = loadStepConfig({ local: stack, localHome: localHome(), flags: { engine: 'single' }, env: {} });
const client = dynamoDocumentClient(config);
const table = `atomic-${randomBytes(4).toString('hex')}`;

describe('the local DynamoDB under concurrent conditional writes', () => {
  beforeAll(async () => {
    await client.send(new CreateTableCommand({
      TableName: table, BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'k', KeyType: 'HASH' }], AttributeDefinitions: [{ AttributeName: 'k', AttributeType: 'S' }],
    }));
  });

  afterAll(async () => {
    await client.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
  });

  it('lets exactly one of 8 concurrent "take it if nobody holds it" writes win, every time (100 keys)', async () => {
    const winners: number[] = [];
    for (let round = 0; round < 100; round += 1) {
      const attempts = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => client.send(new UpdateCommand({
        TableName: table, Key: { k: `lease-${round}` },
        UpdateExpression: 'SET #o = :o', ConditionExpression: 'attribute_not_exists(#o)',
        ExpressionAttributeNames: { '#o': 'Owner' }, ExpressionAttributeValues: { ':o': `runner-${i}` },
      }))));
      for (const a of attempts) if (a.status === 'rejected') expect((a.reason as Error).name).toBe('ConditionalCheckFailedException');
      winners.push(attempts.filter((a) => a.status === 'fulfilled').length);
    }
    expect(winners.every((n) => n === 1), `winners per key: ${winners.join(',')}`).toBe(true);
  });
});
