import { describe, expect, it } from 'vitest';
import { parseCollectionsSecret } from '../../src/collections/collections-secret.js';
import { collectionFromName } from '../../src/collections/collection-name.js';
import { collectionFolderName } from '../../src/shared/collection-folder.js';
import { silentLogger } from '../../src/shared/logger.js';
import { runFolderOf } from '../../src/shared/time.js';
import { ForeignManifestError } from '../../src/step/errors.js';
import { settleCollection } from '../../src/step/settle.js';
import { FakeSink, FakeStatus } from '../support/fakes.js';

describe('collection output folder (issue 16 item 1)', () => {
  it('keeps the documented <db>_<table> layout for a namespace without _', () => {
    expect(collectionFolderName(collectionFromName('core:addresses'))).toBe('core_addresses');
    expect(runFolderOf('incremental', collectionFromName('core:addresses'), Date.UTC(2020, 7, 5, 7, 7), 'r1'))
      .toBe('incremental/core_addresses/20200805-0707_r1');
  });

  it('gives a_b:c and a:b_c different folders', () => {
    expect(collectionFolderName(collectionFromName('a_b:c'))).toBe('a-b_c');
    expect(collectionFolderName(collectionFromName('a:b_c'))).toBe('a_b_c');
  });

  it('is injective over names that differ only in where the _ falls', () => {
    const names = ['a_b_c:d', 'a_b:c_d', 'a:b_c_d', 'a__b:c', 'a:_b_c', 'a_:b_c', 'a_b_:c', '_a:b'];
    const folders = names.map((n) => collectionFolderName(collectionFromName(n)));
    expect(new Set(folders).size).toBe(names.length);
  });
});

describe('collections secret rejects names that share a <db>_<table> spelling', () => {
  const secret = (all: Record<string, unknown>): string => JSON.stringify({ collections_all: all });

  it('refuses a_b:c beside a:b_c, naming both entries', () => {
    const text = secret({ one: { db: 'a_b', table: 'c', pii: 'true' }, two: { db: 'a', table: 'b_c', pii: 'true' } });
    expect(() => parseCollectionsSecret(text, '/intraday/collections')).toThrow(/"one".*a_b_c|a_b_c.*"one"/);
  });

  it('refuses names that differ only in case', () => {
    const text = secret({ one: { db: 'Core', table: 'x', pii: 'true' }, two: { db: 'core', table: 'x', pii: 'true' } });
    expect(() => parseCollectionsSecret(text, 'id')).toThrow(/rename one of them/);
  });

  it('accepts distinct names', () => {
    const text = secret({ one: { db: 'core', table: 'a', pii: 'true' }, two: { db: 'core', table: 'b', pii: 'false' } });
    expect(parseCollectionsSecret(text, 'id')).toHaveLength(2);
  });
});

describe('settle does not trust another collection\'s manifest', () => {
  it('fails with ForeignManifestError when the row\'s folder holds a manifest of another collection', async () => {
    const sink = new FakeSink();
    const status = new FakeStatus();
    const mine = collectionFromName('a:b_c');
    const folder = 'incremental/a_b_c/20250201-0200_run-1';
    // Another collection published into the folder this collection's row names (the old, colliding mapping).
    const output = await sink.open({ folder, correlationId: 'run-1', attempt: 'x', collection: 'a_b:c', db: 'a_b', table: 'c', pii: true, window: { start: 0, end: 10 }, triggeredTime: 0 } as never);
    await output.publish({ maxTimestamp: 9 });
    await status.transition({ correlationId: 'run-1', collection: mine.name, triggeredTime: 0, status: 'EMR_PROCESSING', outputFolder: folder }, [undefined]);
    const settled = settleCollection({ status, sink }, mine, { correlationId: 'run-2', now: () => 1, logger: silentLogger });
    await expect(settled).rejects.toBeInstanceOf(ForeignManifestError);
    await expect(settled).rejects.toThrow(/holds the manifest of collection a_b:c, not a:b_c/);
    expect((await status.get('run-1', mine.name))?.status).toBe('EMR_PROCESSING');
  });
});
