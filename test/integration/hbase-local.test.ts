import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, PermanentError } from '../../src/shared/errors.js';
import { HBaseAdmin, hbaseCommand, parseReadyLine, waitForHBase } from '../../src/local/hbase-process.js';

// Runs against the local HBase already started by the stack (`make stack`).
const restUrl = process.env.HBASE_REST_URL ?? 'http://127.0.0.1:8080';
const adminUrl = process.env.HBASE_ADMIN_URL ?? 'http://127.0.0.1:8079';
const admin = new HBaseAdmin(adminUrl);
const table = `itest:hbase_local_${randomBytes(4).toString('hex')}`;

const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64');
const fromB64 = (value: string): string => Buffer.from(value, 'base64').toString('utf8');

interface RegionsJson { Region: { startKey: string; endKey: string }[] }
interface CellSetJson { Row: { key: string; Cell: { column: string; timestamp: number; $: string }[] }[] }

async function restJson<T>(path: string): Promise<T> {
  const response = await fetch(`${restUrl}${path}`, { headers: { accept: 'application/json' } });
  expect(response.status, `GET ${path}`).toBe(200);
  return (await response.json()) as T;
}

/** The split i of N: floor(i * 2^32 / N) as 4 big-endian bytes, base64 as the REST server prints it. */
function boundary(i: number, n: number): string {
  const key = Buffer.alloc(4);
  key.writeUInt32BE(Math.floor((i * 2 ** 32) / n));
  return key.toString('base64');
}

describe('local HBase', () => {
  beforeAll(async () => {
    await waitForHBase(restUrl, adminUrl, 60_000);
    expect(await admin.createTable(table, { regions: 4, versions: 3 })).toBe('created');
  });

  afterAll(async () => {
    await admin.deleteTable(table);
  });

  it('pre-splits a table into 4 regions at uniform 4-byte boundaries', async () => {
    const regions = (await restJson<RegionsJson>(`/${table}/regions`)).Region
      .map((r) => [r.startKey, r.endKey])
      .sort((a, b) => Buffer.from(a[0] ?? '', 'base64').compare(Buffer.from(b[0] ?? '', 'base64')));
    expect(regions).toEqual([
      ['', boundary(1, 4)],
      [boundary(1, 4), boundary(2, 4)],
      [boundary(2, 4), boundary(3, 4)],
      [boundary(3, 4), ''],
    ]);
    expect(boundary(1, 4)).toBe(b64(Buffer.from([0x40, 0, 0, 0])));
  });

  it('answers exists when the same table is created again', async () => {
    expect(await admin.createTable(table, { regions: 4, versions: 3 })).toBe('exists');
  });

  it('round-trips cells with explicit timestamps through a JSON CellSet, keeping older versions', async () => {
    const rows = [
      { key: b64(Buffer.concat([Buffer.from([0x10, 0, 0, 1]), Buffer.from('{"id":"a"}')])), ts: [1_000, 2_000] },
      { key: b64(Buffer.concat([Buffer.from([0xf0, 0, 0, 2]), Buffer.from('{"id":"b"}')])), ts: [3_000] },
    ];
    const cellSet: CellSetJson = {
      Row: rows.map((r) => ({
        key: r.key,
        Cell: r.ts.map((timestamp) => ({ column: b64('cf:record'), timestamp, $: b64(`value@${timestamp}`) })),
      })),
    };
    // The row in the path is a placeholder: each Row in the CellSet carries its own key.
    const put = await fetch(`${restUrl}/${table}/placeholder`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(cellSet),
    });
    expect(put.status).toBe(200);

    // Binary keys cannot travel in a URL path (Jetty refuses %00), so read back with a scanner, as the step does.
    const scanned = await scanAll(table);
    expect(scanned).toEqual([
      { key: rows[0]!.key, cells: [[2_000, 'value@2000'], [1_000, 'value@1000']] },
      { key: rows[1]!.key, cells: [[3_000, 'value@3000']] },
    ]);
  });

  it('flushes a table and reports a missing one as a permanent error', async () => {
    await expect(admin.flush(table)).resolves.toBeUndefined();
    await expect(admin.flush(`${table}_missing`)).rejects.toBeInstanceOf(PermanentError);
  });

  it('rejects a bad table name or region count with a permanent error', async () => {
    await expect(admin.createTable('itest:bad name', { regions: 4 })).rejects.toThrow(/400/);
    await expect(admin.createTable(`${table}_x`, { regions: 0 })).rejects.toBeInstanceOf(PermanentError);
  });

  it('deletes a table once; a second delete reports it missing', async () => {
    const scratch = `${table}_scratch`;
    expect(await admin.createTable(scratch, { regions: 1 })).toBe('created');
    expect(await admin.deleteTable(scratch)).toBe('deleted');
    expect(await admin.deleteTable(scratch)).toBe('missing');
    const response = await fetch(`${restUrl}/${scratch}/regions`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(404);
  });
});

describe('hbaseCommand', () => {
  const base = { projectRoot: '/p', dataDir: '/d', restPort: 8080, zkPort: 2181, adminPort: 8079 };

  it('runs the thin jar with its lib folder, the Java 17 flags and the ports', () => {
    const { command, args } = hbaseCommand({ ...base, heapMb: 1024 });
    expect(command).toBe('java');
    expect(args).toContain('-Xmx1024m');
    expect(args).toContain('java.base/sun.nio.ch=ALL-UNNAMED');
    expect(args.slice(args.indexOf('-cp'), args.indexOf('-cp') + 3)).toEqual([
      '-cp', '/p/hbase-local/target/hbase-local.jar:/p/hbase-local/target/lib/*', 'ingest.replica.hbase.LocalHBase',
    ]);
    expect(args.slice(-8)).toEqual(['--data-dir', '/d', '--rest-port', '8080', '--zk-port', '2181', '--admin-port', '8079']);
  });

  it('passes HBase setting overrides as --conf key=value', () => {
    const { args } = hbaseCommand({ ...base, conf: { 'hbase.client.scanner.timeout.period': '5000' } });
    expect(args.slice(-2)).toEqual(['--conf', 'hbase.client.scanner.timeout.period=5000']);
  });

  it('refuses a heap above 2 GiB', () => {
    expect(() => hbaseCommand({ ...base, heapMb: 4096 })).toThrow(ConfigError);
  });

  it('parses the READY line and nothing else', () => {
    expect(parseReadyLine('READY rest=http://127.0.0.1:8080 admin=http://127.0.0.1:8079\n'))
      .toEqual({ restUrl: 'http://127.0.0.1:8080', adminUrl: 'http://127.0.0.1:8079' });
    expect(parseReadyLine('2026-01-01 WARN something')).toBeUndefined();
  });
});

/** Every row of the table through one REST scanner (all versions), then the scanner is released. */
async function scanAll(name: string): Promise<{ key: string; cells: [number, string][] }[]> {
  const open = await fetch(`${restUrl}/${name}/scanner`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ batch: 100, maxVersions: 10 }),
  });
  expect(open.status).toBe(201);
  const location = open.headers.get('location');
  expect(location).toBeTruthy();
  const rows: { key: string; cells: [number, string][] }[] = [];
  try {
    for (;;) {
      const page = await fetch(location!, { headers: { accept: 'application/json' } });
      if (page.status === 204) break;
      expect(page.status).toBe(200);
      for (const row of ((await page.json()) as CellSetJson).Row) {
        rows.push({ key: row.key, cells: row.Cell.map((c) => [c.timestamp, fromB64(c.$)]) });
      }
    }
  } finally {
    await fetch(location!, { method: 'DELETE' });
  }
  return rows;
}
