import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { standaloneUnwrap } from '../../src/contracts/standalone-keys.js';
import { ensureDevCertificates } from '../../src/local/dks/certs.js';
import { startDksServer, type DksServer } from '../../src/local/dks/server.js';
import { alternating, devTls, startFaultDks, type FaultDks } from '../support/faults.js';
import { seedLocal, uniqueCollection } from '../support/local-stack.js';
import { runArgs, runCli } from './support/cli.js';
import { tableCells, putCells } from './support/hbase-cells.js';
import { cellOf, dataKey } from './support/records.js';
import { configFor, dropTable, envFor, expectedRows, forgetStatus, FROM, publishedRows, s3Of, space, uniquePrefix } from './support/stack.js';

/**
 * Issue 6 "security": plaintext and key material never reach logs or disk, and DKS's server certificate is
 * verified by default. The step runs as the real CLI, its output captured whole, at the most verbose level,
 * through the paths that log the most: retries, a refused key, quarantined records.
 */
const collection = uniqueCollection('relsec');
const [db, table] = collection.split(':') as [string, string];
const RECORDS = 150;
let dks: FaultDks;
let secrets: string[] = [];

/** Fragments that must never appear: whole documents, distinctive parts of them, and every data key. */
async function knownSecrets(): Promise<string[]> {
  const found = new Set<string>();
  for (const row of expectedRows(collection, RECORDS).values()) {
    found.add(row.record);
    const doc = JSON.parse(row.record) as { person?: { nino?: string }; padding?: string };
    if (doc.person?.nino) found.add(doc.person.nino);
    if (doc.padding) found.add(doc.padding.slice(0, 40));
  }
  // The data keys, as DKS hands them over and as anyone might print them.
  const wrapped = new Set((await tableCells(collection)).map((c) => c.envelope?.encryptedEncryptionKey).filter((k): k is string => k !== undefined));
  for (const w of wrapped) {
    const key = standaloneUnwrap(w);
    if (key.length !== 16 && key.length !== 32) continue;
    found.add(key.toString('base64'));
    found.add(key.toString('base64url'));
    found.add(key.toString('hex'));
    found.add(key.toString('hex').toUpperCase());
  }
  return [...found];
}

const leaks = (text: string): string[] => secrets.filter((s) => text.includes(s)).map((s) => `${s.slice(0, 24)}…`);

beforeAll(async () => {
  dks = await startFaultDks({ random: alternating() });
  await seedLocal({ collection, space: space(collection), records: RECORDS, keys: 3, regions: 2 });
  // Records that decrypt to something unusable: their (garbage) plaintext must not be logged either.
  const wrongKey = dataKey('relsec-wrong');
  const envelopeKey = dataKey('relsec-named');
  await putCells(collection, [0, 1, 2].map((i) => cellOf({
    id: { id: `sec-bad-${i}` }, timestamp: FROM + i, plaintext: Buffer.from(`{"secret":"wrong-key-${i}"}`), key: wrongKey, db, collection: table,
  }, (e) => ({ ...e, message: { ...e.message, encryption: { ...e.message.encryption, encryptedEncryptionKey: envelopeKey.encryptedEncryptionKey } } }))));
  secrets = await knownSecrets();
  for (const k of [wrongKey, envelopeKey]) secrets.push(k.plaintext.toString('base64'), k.plaintext.toString('hex'));
  expect(secrets.length).toBeGreaterThan(RECORDS);
}, 120_000);

afterAll(async () => {
  await dks?.close();
  await dropTable(collection);
});

beforeEach(async () => {
  // Each test reads the whole collection again: no watermark from the one before.
  await forgetStatus(configFor('unused'), collection);
});

describe('no plaintext or key material in logs', () => {
  it('a full run at debug level, with retries, a refused key and quarantined records, prints none', async () => {
    const prefix = uniquePrefix('sec-logs');
    const refused = (await tableCells(collection)).find((c) => c.envelope?.keyEncryptionKeyId === 'STANDALONE')!.envelope!.encryptedEncryptionKey;
    dks.set({ failRate: 0.5, rejectKeys: [refused] });
    const r = await runCli(runArgs('rel-sec-logs', Date.now(), [collection]), { env: { ...envFor(prefix, { dksUrl: dks.url }), LOG_LEVEL: 'debug' } });
    dks.set({});

    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    // The run did go through the noisy paths, and published the plaintexts we search for.
    expect(r.stderr).toMatch(/DKS call retried/);
    expect(r.stderr).toMatch(/records quarantined/);
    expect(r.stderr).toMatch(/"level":20/);
    const published = await publishedRows(s3Of(configFor(prefix)), configFor(prefix).outputBucket, prefix);
    expect(published.length).toBeGreaterThan(50);
    // The search has teeth: it finds the secrets where they belong, in the published records.
    expect(leaks(published.map((p) => p.record).join('\n')).length).toBeGreaterThan(50);
    expect(leaks(r.stdout)).toEqual([]);
    expect(leaks(r.stderr)).toEqual([]);
  }, 90_000);
});

describe('no plaintext on disk', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  async function filesUnder(dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) out.push(...(await filesUnder(path)));
      else out.push(path);
    }
    return out;
  }

  it('a run from an empty working directory, with an empty TMPDIR and HOME, leaves no file holding plaintext or keys', async () => {
    const [cwd, tmp, home] = await Promise.all(['cwd', 'tmp', 'home'].map((n) => mkdtemp(join(tmpdir(), `relsec-${n}-`))));
    dirs.push(cwd!, tmp!, home!);
    const prefix = uniquePrefix('sec-disk');
    const r = await runCli(runArgs('rel-sec-disk', Date.now(), [collection]), {
      cwd: cwd!,
      env: { ...envFor(prefix), TMPDIR: tmp!, TMP: tmp!, TEMP: tmp!, HOME: home!, LOG_LEVEL: 'debug' },
    });
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    expect(await publishedRows(s3Of(configFor(prefix)), configFor(prefix).outputBucket, prefix)).not.toHaveLength(0);

    const files = (await Promise.all([cwd!, tmp!, home!].map(filesUnder))).flat();
    for (const file of files) {
      if ((await stat(file)).size > 64 * 1024 * 1024) continue;
      expect(leaks((await readFile(file)).toString('latin1')), file).toEqual([]);
    }
    // Nothing at all is expected there; list it so a new file is a conscious decision.
    expect(files).toEqual([]);
  }, 90_000);
});

describe('TLS verification of DKS, on by default', () => {
  let rogue: DksServer;
  let rogueDir: string;

  beforeAll(async () => {
    // A DKS whose server certificate another CA signed (it would accept our client certificate).
    rogueDir = await mkdtemp(join(tmpdir(), 'relsec-rogue-'));
    const other = await ensureDevCertificates(join(rogueDir, 'certs'));
    const [cert, key] = await Promise.all([readFile(other.serverCert), readFile(other.serverKey)]);
    rogue = await startDksServer({ tls: { cert, key, ca: devTls().ca }, port: 0 });
  }, 60_000);

  afterAll(async () => {
    await rogue?.close();
    await rm(rogueDir, { recursive: true, force: true });
  });

  it('refuses a DKS whose certificate our CA did not sign, without retrying, even with NODE_TLS_REJECT_UNAUTHORIZED=0', async () => {
    const prefix = uniquePrefix('sec-tls');
    const r = await runCli(runArgs('rel-sec-tls', Date.now(), [collection]), {
      env: { ...envFor(prefix, { dksUrl: rogue.url }), NODE_TLS_REJECT_UNAUTHORIZED: '0', LOG_LEVEL: 'warn' },
    });
    expect(r.code).toBe(1);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { outcome: string; note: string; dksRetries: number };
    expect(summary.outcome).toBe('failed');
    expect(summary.note).toMatch(/TLS with DKS failed/);
    expect(summary.dksRetries).toBe(0);
    // Not one request got through to the impostor.
    expect(rogue.stats().requests).toBe(0);
    expect(rogue.stats().connections).toBe(0);
  }, 60_000);
});
