import { describe, expect, it } from 'vitest';
import { rowFromItem, transitionUpdate, watermarkOf } from '../../src/status/status-item.js';

describe('rowFromItem', () => {
  it('reads every attribute of a full item under its table name', () => {
    expect(rowFromItem({
      CorrelationId: 'run-1', Collection: 'core:addresses', JobStatus: 'EMR_COMPLETED', TriggeredTime: 1000,
      ProcessedDataStart: 1, ProcessedDataEnd: 900, EMRReadyTime: 1100, EMRClusterId: 'j-1', UpdatedAt: 1200,
      AcknowledgedBy: 'ops', AcknowledgedAt: 1300,
    })).toEqual({
      correlationId: 'run-1', collection: 'core:addresses', status: 'EMR_COMPLETED', triggeredTime: 1000,
      processedDataStart: 1, processedDataEnd: 900, emrReadyTime: 1100, emrClusterId: 'j-1', updatedAt: 1200,
      acknowledgedBy: 'ops', acknowledgedAt: 1300,
    });
  });

  it('keeps a NULL ProcessedDataEnd as null and leaves absent attributes out', () => {
    const row = rowFromItem({ CorrelationId: 'r', Collection: 'c:t', JobStatus: 'EMR_COMPLETED', TriggeredTime: 5, ProcessedDataEnd: null });
    expect(row).toEqual({ correlationId: 'r', collection: 'c:t', status: 'EMR_COMPLETED', triggeredTime: 5, processedDataEnd: null });
    expect('processedDataStart' in row).toBe(false);
  });

  it('reads a hand-made seed row: no TriggeredTime, numbers typed as strings', () => {
    expect(rowFromItem({ CorrelationId: '000', Collection: 'c:t', JobStatus: 'EMR_COMPLETED', ProcessedDataEnd: ' 1700000000000 ' })).toEqual({
      correlationId: '000', collection: 'c:t', status: 'EMR_COMPLETED', triggeredTime: 0, processedDataEnd: 1_700_000_000_000,
    });
  });

  it('ignores values that are not numbers where numbers belong', () => {
    expect(rowFromItem({ CorrelationId: 'r', Collection: 'c:t', JobStatus: 'X', ProcessedDataEnd: 'soon' }).processedDataEnd).toBeUndefined();
  });
});

describe('transitionUpdate', () => {
  const row = { correlationId: 'run-1', collection: 'core:addresses', status: 'EMR_COMPLETED' as const, triggeredTime: 1000, processedDataEnd: null };

  it('sets the defined attributes and UpdatedAt under placeholder names, null included', () => {
    const update = transitionUpdate(row, ['EMR_PROCESSING'], 2000);
    expect(update.Key).toEqual({ CorrelationId: 'run-1', Collection: 'core:addresses' });
    expect(update.UpdateExpression).toBe('SET #a0 = :a0, #a1 = :a1, #a3 = :a3, #a10 = :a10');
    expect(update.ExpressionAttributeNames).toEqual({ '#a0': 'JobStatus', '#a1': 'TriggeredTime', '#a3': 'ProcessedDataEnd', '#a10': 'UpdatedAt', '#s': 'JobStatus' });
    expect(update.ExpressionAttributeValues).toEqual({ ':a0': 'EMR_COMPLETED', ':a1': 1000, ':a3': null, ':a10': 2000, ':from0': 'EMR_PROCESSING' });
    expect(update.ConditionExpression).toBe('#s IN (:from0)');
  });

  it('allows an absent item when from includes undefined, and only then', () => {
    const update = transitionUpdate(row, [undefined, 'WAITING', 'EMR_LAUNCHED'], 1);
    expect(update.ConditionExpression).toBe('attribute_not_exists(#id) OR #s IN (:from0, :from1)');
    expect(update.ExpressionAttributeNames['#id']).toBe('CorrelationId');
    expect(transitionUpdate(row, [undefined], 1).ConditionExpression).toBe('attribute_not_exists(#id)');
    expect(transitionUpdate(row, [undefined], 1).ExpressionAttributeNames['#s']).toBeUndefined();
  });

  it('removes bookkeeping attributes given null, and conditions on the owner when asked', () => {
    const update = transitionUpdate({ ...row, reason: null, owner: null, outputChecked: null }, ['EMR_PROCESSING'], 5, { owner: 'attempt-1' });
    expect(update.UpdateExpression).toMatch(/ REMOVE #a6, #a7, #a9$/);
    expect(update.ExpressionAttributeNames).toMatchObject({ '#a6': 'StatusReason', '#a7': 'Owner', '#a9': 'OutputChecked', '#owner': 'Owner' });
    expect(update.ConditionExpression).toBe('(#s IN (:from0)) AND #owner = :owner');
    expect(update.ExpressionAttributeValues[':owner']).toBe('attempt-1');
  });

  it('conditions on an unclaimed publication when asked, besides the owner', () => {
    const update = transitionUpdate(row, ['EMR_PROCESSING', 'EMR_FAILED'], 5, { owner: 'attempt-1', unclaimed: true });
    expect(update.ConditionExpression).toBe('((#s IN (:from0, :from1)) AND #owner = :owner) AND attribute_not_exists(#claim)');
    expect(update.ExpressionAttributeNames['#claim']).toBe('PublishClaim');
  });

  it('refuses an empty list of allowed states', () => {
    expect(() => transitionUpdate(row, [], 1)).toThrow(RangeError);
  });
});

describe('watermarkOf', () => {
  it('is the greatest end of the completed runs, not the newest run\'s', () => {
    expect(watermarkOf([
      { status: 'EMR_COMPLETED', processedDataEnd: null },
      { status: 'EMR_COMPLETED', processedDataEnd: 500 },
      { status: 'EMR_COMPLETED', processedDataEnd: 900 },
      { status: 'EMR_FAILED', processedDataEnd: 2000 },
      { status: '_EMR_FAILED', processedDataEnd: 3000 },
      { status: 'EMR_PROCESSING', processedDataEnd: 4000 },
    ])).toBe(900);
  });

  it('is undefined when no completed run has an end', () => {
    expect(watermarkOf([{ status: 'EMR_COMPLETED', processedDataEnd: null }, { status: 'EMR_COMPLETED' }])).toBeUndefined();
    expect(watermarkOf([])).toBeUndefined();
  });
});
