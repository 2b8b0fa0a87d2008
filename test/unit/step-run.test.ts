import { describe, expect, it } from 'vitest';
import { aesCtrEncrypt } from '../../src/contracts/aes-ctr.js';
import { buildEnvelope } from '../../src/contracts/envelope.js';
import { standaloneWrap } from '../../src/contracts/standalone-keys.js';
import { seededRecords, type SeededRecord } from '../../src/local/seeder/documents.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { CollectionConfig } from '../../src/shared/types.js';
import type { Cell } from '../../src/step/ports.js';
import { runStep, type StepRunRequest } from '../../src/step/run-step.js';
import { FakeHBase, FakeKeys, FakeLease, FakeSink, FakeStatus } from '../support/fakes.js';

const collection: CollectionConfig = { name: 'core:addresses', db: 'core', table: 'addresses', pii: true };
const dataKey = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
const space = { seed: 'unit', collection: collection.name, from: Date.UTC(2025, 0, 1), until: Date.UTC(2025, 1, 1) };
const HOUR = 3_600_000;

function cellOf(r: SeededRecord, wrapped = standaloneWrap(dataKey)): Cell {
  const iv = Buffer.alloc(16, r.index % 251);
  const envelope = buildEnvelope({
    id: r.id, db: 'core', collection: 'addresses', lastModifiedMs: r.timestamp, traceId: 't', unitOfWorkId: 'u',
    ciphertext: aesCtrEncrypt(dataKey, iv, Buffer.from(r.plaintext)), iv,
    keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: wrapped,
  });
  return { rowKey: r.rowKey, timestamp: r.timestamp, value: Buffer.from(JSON.stringify(envelope)) };
}

function world(records: SeededRecord[]) {
  const hbase = new FakeHBase(new Map([[collection.name, records.map((r) => cellOf(r))]]));
  const keys = new FakeKeys(new Map([[standaloneWrap(dataKey), dataKey]]));
  const sink = new FakeSink();
  const status = new FakeStatus();
  const lease = new FakeLease();
  const portsFor = () => ({ hbase, keys, sink, status, lease, keyStats: () => keys.stats() });
  const request = (correlationId: string, endTime: number): StepRunRequest => ({
    correlationId, triggeredTime: endTime, endTime, collections: [collection], concurrency: 2, scanConcurrency: 2,
    visibilityLagMs: HOUR, maxQuarantined: 10, outputPrefix: 'incremental', logger: silentLogger,
    lease: { leaseMs: 60_000, waitMs: 0 },
  });
  return { hbase, keys, sink, status, lease, run: (id: string, endTime: number) => runStep(portsFor, request(id, endTime)) };
}

describe('runStep (in-memory ports)', () => {
  const records = [...seededRecords(space, 40)];
  const endTime = Date.UTC(2025, 1, 1) + 2 * HOUR;

  it('publishes every record in the window once, decrypted to the source text, and moves the watermark', async () => {
    const w = world(records);
    const [summary] = await w.run('run-1', endTime);
    expect(summary?.outcome).toBe('completed');
    const published = [...w.sink.published_.values()];
    expect(published).toHaveLength(1);
    const rows = published[0]!.rows;
    expect(rows).toHaveLength(records.length);
    const byId = new Map(rows.map((r) => [r.id, r]));
    for (const r of records) {
      expect(byId.get(r.idJson)?.record).toBe(r.plaintext);
      expect(byId.get(r.idJson)?.timestamp).toBe(r.timestamp);
    }
    expect(published[0]!.run.folder).toBe('incremental/core_addresses/20250201-0200_run-1');
    const row = await w.status.get('run-1', collection.name);
    expect(row?.status).toBe('EMR_COMPLETED');
    expect(row?.processedDataEnd).toBe(Math.max(...records.map((r) => r.timestamp)));
    expect(w.keys.calls).toBeGreaterThan(0);
  });

  it('publishes nothing and keeps the watermark when no new data arrived', async () => {
    const w = world(records);
    await w.run('run-1', endTime);
    const before = await w.status.lastCompletedEnd(collection.name);
    const [summary] = await w.run('run-2', endTime + HOUR);
    expect(summary?.records).toBe(0);
    expect(w.sink.published_.size).toBe(1);
    expect(await w.status.lastCompletedEnd(collection.name)).toBe(before);
    expect((await w.status.get('run-2', collection.name))?.processedDataEnd).toBeNull();
  });

  it('picks up records added after the watermark exactly once', async () => {
    const w = world(records);
    await w.run('run-1', endTime);
    const later = [...seededRecords({ ...space, from: endTime, until: endTime + HOUR }, 45)].slice(40);
    w.hbase.tables.get(collection.name)!.push(...later.map((r) => cellOf(r)));
    const [second] = await w.run('run-2', endTime + 3 * HOUR);
    expect(second?.records).toBe(later.length);
    const ids = [...w.sink.published_.values()].flatMap((p) => p.rows.map((r) => r.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(records.length + later.length);
  });

  it('leaves records newer than the visibility lag for a later run', async () => {
    const w = world(records);
    const lastTs = Math.max(...records.map((r) => r.timestamp));
    const [summary] = await w.run('run-1', lastTs + HOUR / 2);
    expect(summary?.window?.end).toBe(lastTs - HOUR / 2);
    expect(summary?.records).toBe(records.filter((r) => r.timestamp < lastTs - HOUR / 2).length);
  });

  it('quarantines the records of a refused key and keeps the rest', async () => {
    const w = world(records);
    const bad = records[3]!;
    w.hbase.tables.get(collection.name)![3] = cellOf(bad, standaloneWrap(Buffer.alloc(16, 7)));
    const [summary] = await w.run('run-1', endTime);
    expect(summary?.outcome).toBe('completed');
    expect(summary?.quarantined).toBe(1);
    expect(summary?.records).toBe(records.length - 1);
    const { quarantined } = [...w.sink.published_.values()][0]!;
    expect(quarantined[0]?.reason).toBe('unknown-data-key');
    // Kept still encrypted: the envelope as read, not the plaintext.
    expect(quarantined[0]?.value.toString()).toContain('"dbObject"');
    expect(quarantined[0]?.value.toString()).not.toContain(bad.plaintext.slice(0, 40));
  });

  it('completes a run that crashed before its manifest when rerun with the same correlation id', async () => {
    const w = world(records);
    w.sink.failNextPublish = true;
    const [first] = await w.run('run-1', endTime);
    expect(first?.outcome).toBe('failed');
    expect((await w.status.get('run-1', collection.name))?.status).toBe('EMR_FAILED');
    expect(await w.status.lastCompletedEnd(collection.name)).toBeUndefined();
    const [rerun] = await w.run('run-1', endTime);
    expect(rerun?.outcome).toBe('completed');
    const rows = [...w.sink.published_.values()].flatMap((p) => p.rows);
    expect(rows).toHaveLength(records.length);
  });

  it('does nothing when the same run is started again after it completed', async () => {
    const w = world(records);
    await w.run('run-1', endTime);
    const [again] = await w.run('run-1', endTime);
    expect(again?.outcome).toBe('skipped');
    expect(w.sink.published_.size).toBe(1);
  });

  it('counts a run that published and then died as done: a new run after reconcile and ack reads nothing twice', async () => {
    const w = world(records);
    // The step dies after its manifest, before EMR_COMPLETED: the completion never reaches the table.
    const transition = w.status.transition.bind(w.status);
    w.status.transition = (row, from, guard) => (row.status === 'EMR_COMPLETED' ? Promise.reject(new Error('killed')) : transition(row, from, guard));
    await w.run('run-1', endTime).catch(() => undefined);
    w.status.transition = transition;
    w.lease.items.clear(); // its lease expired
    // Reconcile marks the row failed; an operator acknowledges it.
    await w.status.transition({ ...(await w.status.get('run-1', collection.name))!, status: 'EMR_FAILED' }, ['EMR_PROCESSING']);
    await w.status.transition({ ...(await w.status.get('run-1', collection.name))!, status: '_EMR_FAILED' }, ['EMR_FAILED']);
    const [next] = await w.run('run-2', endTime + HOUR);
    expect(next?.outcome).toBe('completed');
    expect(next?.records).toBe(0);
    const ids = [...w.sink.published_.values()].flatMap((p) => p.rows.map((r) => r.id));
    expect(ids).toHaveLength(records.length);
    const settled = await w.status.get('run-1', collection.name);
    expect(settled?.status).toBe('EMR_COMPLETED');
    expect(settled?.reason).toMatch(/completed from its published manifest .* by run run-2; the row was _EMR_FAILED/);
  });

  it('gives two runs triggered in the same minute folders of their own', async () => {
    const w = world(records);
    const [a] = await w.run('run-a', endTime);
    w.hbase.tables.get(collection.name)!.push(...[...seededRecords({ ...space, from: endTime - 2 * HOUR, until: endTime - HOUR - 1 }, 3)].map((r) => cellOf(r)));
    const [b] = await w.run('run-b', endTime + 1000);
    expect(a?.outcome).toBe('completed');
    expect(b?.outcome).toBe('completed');
    expect(a?.folder).not.toBe(b?.folder);
    expect(b?.folder).toBe('incremental/core_addresses/20250201-0200_run-b');
  });

  it('defers, touching nothing, while another runner holds the collection', async () => {
    const w = world(records);
    await w.lease.acquire(collection.name, { attempt: 'other', correlationId: 'run-0' }, Date.now(), 60_000);
    const [summary] = await w.run('run-1', endTime);
    expect(summary?.outcome).toBe('deferred');
    expect(summary?.note).toMatch(/another runner holds core:addresses: run run-0/);
    const row = await w.status.get('run-1', collection.name);
    expect(row?.status).toBe('DEFERRED');
    expect(row?.reason).toMatch(/run run-0/);
    expect(w.sink.published_.size).toBe(0);
    expect(w.sink.discarded).toEqual([]);
  });

  it('finishes a run that claimed its publication and then died: the next run publishes it from its pending manifest', async () => {
    const w = world(records);
    w.sink.failAfterClaim = true;
    const [first] = await w.run('run-1', endTime);
    expect(first?.outcome).toBe('failed');
    expect(w.sink.published_.size).toBe(0);
    expect((await w.status.get('run-1', collection.name))?.publishClaim).toBeDefined();
    const [next] = await w.run('run-2', endTime + HOUR);
    expect(next?.outcome).toBe('completed');
    expect(next?.records).toBe(0);
    const ids = [...w.sink.published_.values()].flatMap((p) => p.rows.map((r) => r.id));
    expect(ids.sort()).toEqual(records.map((r) => r.idJson).sort());
    const settled = await w.status.get('run-1', collection.name);
    expect(settled?.status).toBe('EMR_COMPLETED');
    expect(settled?.processedDataEnd).toBe(Math.max(...records.map((r) => r.timestamp)));
    expect(w.sink.discarded).toEqual([]);
  });

  it('publishes nothing of a runner that stalled past its lease: another run abandons it first, and its claim is refused', async () => {
    const w = world(records);
    const claim = w.status.claimPublication.bind(w.status);
    let second: Awaited<ReturnType<typeof w.run>> | undefined;
    w.status.claimPublication = async (id, c, owner) => {
      if (id === 'run-1' && second === undefined) {
        w.lease.items.clear(); // run-1 stalled until its lease expired; run-2 takes the collection over
        second = await w.run('run-2', endTime + HOUR);
      }
      return claim(id, c, owner);
    };
    const [first] = await w.run('run-1', endTime);
    expect(first?.outcome).toBe('failed');
    expect(first?.note).toMatch(/publication refused: another runner's settle step abandoned this run/);
    expect(second?.[0]?.outcome).toBe('completed');
    expect(second?.[0]?.records).toBe(records.length);
    expect([...w.sink.published_.keys()]).toEqual([second?.[0]?.folder]);
    expect(w.sink.discarded).toEqual([first?.folder]);
    expect(await w.status.lastCompletedEnd(collection.name)).toBe(Math.max(...records.map((r) => r.timestamp)));
  });

  it('completes a runner that claimed just before another run settled it: its records once, both runs completed', async () => {
    const w = world(records);
    const claim = w.status.claimPublication.bind(w.status);
    let second: Awaited<ReturnType<typeof w.run>> | undefined;
    w.status.claimPublication = async (id, c, owner) => {
      const claimed = await claim(id, c, owner);
      if (id === 'run-1' && second === undefined) {
        w.lease.items.clear(); // run-1 stalls right after its commit point
        second = await w.run('run-2', endTime + HOUR);
      }
      return claimed;
    };
    const [first] = await w.run('run-1', endTime);
    expect(first?.outcome).toBe('completed');
    expect(second?.[0]?.outcome).toBe('completed');
    expect(second?.[0]?.records).toBe(0);
    const ids = [...w.sink.published_.values()].flatMap((p) => p.rows.map((r) => r.id));
    expect(ids.sort()).toEqual(records.map((r) => r.idJson).sort());
    expect((await w.status.get('run-1', collection.name))?.reason).toMatch(/completed from its published manifest .* by run run-2/);
  });

  it('records why a collection failed on its row', async () => {
    const w = world(records);
    w.sink.failNextPublish = true;
    await w.run('run-1', endTime);
    expect((await w.status.get('run-1', collection.name))?.reason).toBe('Error: crash before the manifest');
  });
});
