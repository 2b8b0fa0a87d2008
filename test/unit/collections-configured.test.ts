import { describe, expect, it } from 'vitest';
import { collectionFromName, requireConfigured, selectCollections } from '../../src/collections/collection-name.js';
import { ConfigError } from '../../src/shared/errors.js';
import { NOT_CONFIGURED_NOTE, noteUnconfigured } from '../../src/step/report.js';
import type { CollectionSummary } from '../../src/step/run-step.js';

const configured = [collectionFromName('core:addresses', false)];

describe('collections a trigger event may name (issue 16 item 4)', () => {
  it('accepts configured names, in any HBase spelling', () => {
    expect(() => requireConfigured(configured, ['core:addresses', ' core:addresses'], '/intraday/collections')).not.toThrow();
  });

  it('refuses tables the secret does not list, naming each and the secret', () => {
    const refuse = () => requireConfigured(configured, ['hbase:meta', 'core:addresses', 'otherteam:payroll'], '/intraday/collections');
    expect(refuse).toThrow(ConfigError);
    expect(refuse).toThrow(/"hbase:meta", "otherteam:payroll", not in the collections secret \/intraday\/collections/);
  });
});

describe('an operator\'s run of a table outside the secret', () => {
  it('is accepted, marked not configured, and its summary says so', () => {
    const chosen = selectCollections(configured, ['core:addresses', 'otherteam:payroll']);
    expect(chosen.map((c) => [c.name, c.configured])).toEqual([['core:addresses', undefined], ['otherteam:payroll', false]]);
    const summary = (collection: string): CollectionSummary => ({
      collection, outcome: 'completed', records: 0, quarantined: 0, bytesIn: 0, bytesOut: 0, keyLookups: 0,
      keys: { calls: 0, retries: 0 } as CollectionSummary['keys'], durationMs: 1,
    });
    const noted = noteUnconfigured([summary('core:addresses'), summary('otherteam:payroll')], chosen);
    expect(noted[0]?.note).toBeUndefined();
    expect(noted[1]?.note).toBe(NOT_CONFIGURED_NOTE);
  });
});
