import { randomBytes, X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { CreateKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from '@aws-sdk/client-kms';
import { pino } from 'pino';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { standaloneWrap } from '../../src/contracts/standalone-keys.js';
import { DksKeyService, type DksKeyServiceOptions } from '../../src/keys/dks-adapter.js';
import { KeyRejectedError, KeyServiceAccessError, KeyServiceUnavailableError } from '../../src/keys/errors.js';
import { KmsKeyService } from '../../src/keys/kms-adapter.js';
import { CLIENT_COMMON_NAME, ensureDevCertificates, type DevCertificates } from '../../src/local/dks/certs.js';
import { KmsDataKeys } from '../../src/local/dks/kms-adapter.js';
import { HSM_KEY_ID, HsmDataKeys } from '../../src/local/dks/hsm-keys.js';
import { CachingKeyService } from '../../src/keys/key-cache.js';
import { aesCtrEncrypt } from '../../src/contracts/aes-ctr.js';
import { buildEnvelope } from '../../src/contracts/envelope.js';
import { idJsonOf, rowKeyOf } from '../../src/contracts/row-key.js';
import { TransientError } from '../../src/shared/errors.js';
import { decodeBatch } from '../../src/step/record-decoder.js';
import type { Cell, WrappedKey } from '../../src/step/ports.js';
import { startDksServer, type DksServer } from '../../src/local/dks/server.js';

/** The local DKS runs in-process on a free port, with certificates in a fresh temp folder. */
interface Pems { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string; rogueCa: string; rogueCert: string; rogueKey: string }

let dir: string;
let certs: DevCertificates;
let pems: Pems;
let server: DksServer;
const logLines: string[] = [];
const clients: DksKeyService[] = [];

function dks(overrides: Partial<DksKeyServiceOptions> = {}): DksKeyService {
  const client = new DksKeyService({
    url: server.url, caCert: pems.ca, clientCert: pems.clientCert, clientKey: pems.clientKey,
    baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3, ...overrides,
  });
  clients.push(client);
  return client;
}

/** A raw HTTPS call with whatever credentials the test wants to present. */
async function raw(path: string, options: { method?: string; body?: string; cert?: string; key?: string; ca?: string; url?: string } = {}) {
  const agent = new Agent({ connect: { ca: options.ca ?? pems.ca, ...(options.cert ? { cert: options.cert, key: options.key } : {}) } });
  try {
    const res = await request(`${options.url ?? server.url}${path}`, { method: (options.method ?? 'GET') as 'GET', body: options.body ?? null, dispatcher: agent });
    const text = await res.body.text();
    return { status: res.statusCode, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  } finally {
    await agent.close();
  }
}

const admin = (path: string, method: string, body?: unknown) => raw(path, { method, cert: pems.clientCert, key: pems.clientKey, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
const fresh = () => ({ keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: standaloneWrap(randomBytes(16)) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dks-test-'));
  certs = await ensureDevCertificates(join(dir, 'certs'));
  const files = { ca: certs.caCert, serverCert: certs.serverCert, serverKey: certs.serverKey, clientCert: certs.clientCert, clientKey: certs.clientKey, rogueCa: certs.rogueCaCert, rogueCert: certs.rogueClientCert, rogueKey: certs.rogueClientKey };
  pems = Object.fromEntries(await Promise.all(Object.entries(files).map(async ([k, f]) => [k, await readFile(f, 'utf8')]))) as Pems;
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { logLines.push(...chunk.toString().trim().split('\n')); done(); } });
  server = await startDksServer({
    tls: { cert: pems.serverCert, key: pems.serverKey, ca: pems.ca }, port: 0, logger: pino({ level: 'info' }, sink),
  });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  await admin('/__faults', 'POST', {});
  await admin('/__stats', 'DELETE');
});

describe('development certificates', () => {
  it('chain a localhost/127.0.0.1 server and an ingest-replica-local client to one CA', () => {
    const ca = new X509Certificate(pems.ca);
    const serverCert = new X509Certificate(pems.serverCert);
    const clientCert = new X509Certificate(pems.clientCert);
    expect(ca.ca).toBe(true);
    expect(serverCert.verify(ca.publicKey) && clientCert.verify(ca.publicKey)).toBe(true);
    expect(serverCert.subjectAltName).toContain('DNS:localhost');
    expect(serverCert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(serverCert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(clientCert.subject).toContain(`CN=${CLIENT_COMMON_NAME}`);
    expect(new X509Certificate(pems.rogueCert).verify(ca.publicKey)).toBe(false);
  });

  it('are reused once made, with private keys readable by the owner only', async () => {
    const again = await ensureDevCertificates(certs.dir);
    expect(await readFile(again.caCert, 'utf8')).toBe(pems.ca);
    expect(await readFile(again.clientKey, 'utf8')).toBe(pems.clientKey);
    for (const key of [certs.serverKey, certs.clientKey, certs.rogueClientKey, join(certs.dir, 'ca-key.pem')]) {
      expect(((await stat(key)).mode & 0o777).toString(8), key).toBe('600');
    }
  });
});

describe('local DKS over mutual TLS', () => {
  it('generates a STANDALONE key (201) that DksKeyService unwraps back', async () => {
    const client = dks();
    const generated = await client.generate('corr-gen');
    expect(generated.dataKeyEncryptionKeyId).toBe('STANDALONE');
    expect(generated.ciphertextDataKey).toBe(standaloneWrap(generated.plaintextDataKey));
    const unwrapped = await client.unwrap({ keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: generated.ciphertextDataKey }, 'corr-1');
    expect(unwrapped.equals(generated.plaintextDataKey)).toBe(true);
    expect((await raw('/datakey?correlationId=c', { cert: pems.clientCert, key: pems.clientKey })).status).toBe(201);
  });

  it('unwraps fixtures made for the real DKS, 32-byte keys included', async () => {
    const key = randomBytes(32);
    expect((await dks().unwrap({ keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: standaloneWrap(key) }, 'c')).equals(key)).toBe(true);
  });

  it('answers the decrypt with the documented fields', async () => {
    const key = randomBytes(16);
    const res = await raw(`/datakey/actions/decrypt?keyId=STANDALONE&correlationId=abc`, {
      method: 'POST', body: standaloneWrap(key), cert: pems.clientCert, key: pems.clientKey,
    });
    expect(res).toEqual({ status: 200, json: { dataKeyDecryptionKeyId: 'STANDALONE', plaintextDataKey: key.toString('base64'), correlationId: 'abc' } });
  });

  it('reuses keep-alive connections across many unwraps', async () => {
    const client = dks({ connections: 2 });
    const before = server.stats().connections;
    for (let i = 0; i < 100; i += 1) await client.unwrap(fresh(), `c${i}`);
    // Without keep-alive this would be 100; undici may open its second pooled connection early.
    expect(server.stats().connections - before).toBeLessThanOrEqual(2);
    expect(client.stats()).toMatchObject({ calls: 100, requests: 100, retries: 0 });
  });

  it('answers health and ping', async () => {
    expect(await dks().health()).toEqual({ healthy: true, status: 200 });
    expect((await raw('/ping', { cert: pems.clientCert, key: pems.clientKey })).status).toBe(200);
  });

  it('refuses a caller without a client certificate with 403', async () => {
    const res = await raw('/datakey/actions/decrypt?keyId=STANDALONE&correlationId=c', { method: 'POST', body: standaloneWrap(randomBytes(16)) });
    expect(res.status).toBe(403);
    expect((await raw('/__faults', { method: 'POST', body: '{"down":true}' })).status).toBe(403);
    expect(server.stats()).toMatchObject({ forbidden: 2, decrypt: { calls: 0 } });
    expect(server.faults.down).toBe(false);
  });

  it('refuses a client certificate from another CA with 403, which DksKeyService reports as revoked, unretried', async () => {
    expect((await raw('/healthcheck', { cert: pems.rogueCert, key: pems.rogueKey })).status).toBe(403);
    const client = dks({ clientCert: pems.rogueCert, clientKey: pems.rogueKey });
    const error = await client.unwrap(fresh(), 'c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyServiceAccessError);
    expect((error as Error).message).toMatch(/revoked/);
    expect((error as KeyServiceAccessError).context.status).toBe(403);
    expect(client.stats().requests).toBe(1);
    expect(server.stats().decrypt.calls).toBe(0);
  });

  it('refuses a server whose certificate our CA did not sign (TLS verification on)', async () => {
    const client = dks({ caCert: pems.rogueCa });
    const error = await client.unwrap(fresh(), 'c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyServiceAccessError);
    expect(String((error as KeyServiceAccessError).context.code)).toMatch(/CERT|SIGNATURE|ISSUER/);
    expect(client.stats().requests).toBe(1);
    expect(server.stats().requests).toBe(0);
  });

  it('rejects an unknown keyId with 400 as a KeyRejectedError, asked once', async () => {
    const client = dks();
    const error = await client.unwrap({ keyEncryptionKeyId: 'cloudhsm:1,2', encryptedEncryptionKey: standaloneWrap(Buffer.alloc(16)) }, 'corr-bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyRejectedError);
    expect(error).toMatchObject({ reason: 'unknown-data-key', context: { status: 400, keyEncryptionKeyId: 'cloudhsm:1,2', correlationId: 'corr-bad' } });
    expect(server.stats().decrypt).toMatchObject({ calls: 1, rejected: 1 });
  });

  it.each([
    ['not base64', 'STANDALONE', '!!not-base64!!', 'wrapped-key-malformed'],
    ['too short to be a wrap', 'STANDALONE', Buffer.alloc(12).toString('base64'), 'wrapped-key-malformed'],
    ['under a key id with a newline', 'STANDALONE\n', standaloneWrap(Buffer.alloc(16)), 'key-id-malformed'],
  ])('refuses a wrapped key that is %s without calling DKS', async (_, keyId, wrapped, reason) => {
    const client = dks();
    const error = await client.unwrap({ keyEncryptionKeyId: keyId, encryptedEncryptionKey: wrapped }, 'corr-bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyRejectedError);
    expect(error).toMatchObject({ reason, context: { correlationId: 'corr-bad' } });
    expect(client.stats().requests).toBe(0);
    expect(server.stats().decrypt.calls).toBe(0);
  });

  it('answers a garbled key with 500, Spring\'s error JSON and the connection closed, as the real STANDALONE mode', async () => {
    const agent = new Agent({ connect: { ca: pems.ca, cert: pems.clientCert, key: pems.clientKey } });
    try {
      const res = await request(`${server.url}/datakey/actions/decrypt?keyId=STANDALONE&correlationId=c`, { method: 'POST', body: '!!not-base64!!', dispatcher: agent });
      const json = JSON.parse(await res.body.text()) as Record<string, unknown>;
      expect(res.statusCode).toBe(500);
      expect(res.headers.connection).toBe('close');
      expect(json).toMatchObject({ status: 500, error: 'Internal Server Error', path: '/datakey/actions/decrypt' });
      expect(Number.isNaN(Date.parse(String(json.timestamp)))).toBe(false);
    } finally {
      await agent.close();
    }
    expect(server.stats().decrypt).toMatchObject({ calls: 1, failed: 1, rejected: 0 });
  });

  it('answers valid base64 of the wrong length with 200 and that many bytes, which the client refuses as bad-data-key', async () => {
    const wrapped = Buffer.from(Array.from({ length: 24 }, (_, i) => i));
    const res = await raw('/datakey/actions/decrypt?keyId=STANDALONE&correlationId=c', { method: 'POST', body: wrapped.toString('base64'), cert: pems.clientCert, key: pems.clientKey });
    expect(res.status).toBe(200);
    expect(Buffer.from(String(res.json?.plaintextDataKey), 'base64')).toEqual(Buffer.from(wrapped).reverse());
    const client = dks();
    const error = await client.unwrap({ keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: wrapped.toString('base64') }, 'c').catch((e: unknown) => e);
    expect(error).toMatchObject({ reason: 'bad-data-key', retryable: false, context: { dataKeyBytes: 24 } });
    expect(client.stats()).toMatchObject({ requests: 1, retries: 0 });
  });

  it('answers 400 to an empty body and a missing keyId', async () => {
    const post = (path: string, body: string) => raw(path, { method: 'POST', body, cert: pems.clientCert, key: pems.clientKey });
    expect((await post('/datakey/actions/decrypt?keyId=STANDALONE', '')).status).toBe(400);
    expect((await post('/datakey/actions/decrypt', standaloneWrap(Buffer.alloc(16)))).status).toBe(400);
  });

  it('retries 503s with backoff, then gives up with a TransientError naming DKS and the attempts', async () => {
    await admin('/__faults', 'POST', { failRate: 1, failStatus: 503 });
    const client = dks({ maxAttempts: 4 });
    const error = await client.unwrap(fresh(), 'c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyServiceUnavailableError);
    expect((error as KeyServiceUnavailableError).retryable).toBe(true);
    expect((error as Error).message).toContain(server.url);
    expect((error as KeyServiceUnavailableError).context.attempts).toBe(4);
    expect(server.stats().decrypt).toMatchObject({ calls: 4, failed: 4 });
    expect(client.stats()).toMatchObject({ calls: 1, requests: 4, retries: 3, failures: 1 });
  });

  it('asks 5 times by default on 503 (DKS_RETRY), and once on a 400', async () => {
    await admin('/__faults', 'POST', { failRate: 1, failStatus: 503 });
    const client = dks({ maxAttempts: undefined, baseDelayMs: 1, maxDelayMs: 2 });
    const error = await client.unwrap(fresh(), 'corr-503').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyServiceUnavailableError);
    expect((error as Error).message).toMatch(new RegExp(`^DKS at ${server.url} failed to decrypt a data key after 5 attempts: `));
    expect(server.stats().decrypt).toMatchObject({ calls: 5, failed: 5 });
    expect(client.stats()).toMatchObject({ requests: 5, retries: 4 });

    await admin('/__faults', 'POST', {});
    await admin('/__stats', 'DELETE');
    await expect(client.unwrap({ keyEncryptionKeyId: 'cloudhsm:1,2', encryptedEncryptionKey: standaloneWrap(Buffer.alloc(16)) }, 'corr-400')).rejects.toBeInstanceOf(KeyRejectedError);
    expect(server.stats().decrypt).toMatchObject({ calls: 1, rejected: 1 });
    expect(client.stats()).toMatchObject({ requests: 6, retries: 4 });
  });

  it('recovers when DKS comes back within the retry bound', async () => {
    await admin('/__faults', 'POST', { failRate: 1, failStatus: 429 });
    const client = dks({ maxAttempts: 8, baseDelayMs: 40, maxDelayMs: 40 });
    const key = randomBytes(16);
    const pending = client.unwrap({ keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: standaloneWrap(key) }, 'c');
    await new Promise((r) => setTimeout(r, 30));
    await admin('/__faults', 'POST', {});
    expect((await pending).equals(key)).toBe(true);
    expect(client.stats().retries).toBeGreaterThanOrEqual(1);
  });

  it('retries dropped connections (DKS down) as network failures', async () => {
    await admin('/__faults', 'POST', { down: true });
    const before = server.stats().requests;
    const client = dks({ maxAttempts: 3 });
    const error = await client.unwrap(fresh(), 'c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyServiceUnavailableError);
    expect(client.stats().requests).toBe(3);
    expect(server.stats().requests - before).toBe(3);
    expect(server.stats().decrypt.calls).toBe(0);
    expect((await client.health()).healthy).toBe(false);
  });

  it('times out a slow answer and retries it', async () => {
    await admin('/__faults', 'POST', { delayMs: 400 });
    const client = dks({ maxAttempts: 2, timeoutMs: 100 });
    const error = await client.unwrap(fresh(), 'c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyServiceUnavailableError);
    expect(client.stats().requests).toBe(2);
  });

  it('rejects the keys listed in rejectKeys, and counts decrypt calls in /__stats', async () => {
    const wrapped = standaloneWrap(randomBytes(16));
    expect((await admin('/__faults', 'POST', { rejectKeys: [wrapped] })).status).toBe(200);
    await expect(dks().unwrap({ keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: wrapped }, 'c')).rejects.toBeInstanceOf(KeyRejectedError);
    expect((await admin('/__stats', 'GET')).json).toMatchObject({ decrypt: { calls: 1, rejected: 1, ok: 0 } });
    expect((await admin('/__faults', 'POST', { failRate: 3 })).status).toBe(400);
  });

  it('stops at once when the caller aborts', async () => {
    await admin('/__faults', 'POST', { delayMs: 2_000 });
    const controller = new AbortController();
    const pending = dks().unwrap(fresh(), 'c', controller.signal);
    setTimeout(() => controller.abort(new Error('run cancelled')), 50);
    await expect(pending).rejects.toThrow('run cancelled');
  });

  it('logs one JSON line per request, never a key or a request body', async () => {
    const key = randomBytes(16);
    const wrapped = standaloneWrap(key);
    const from = logLines.length;
    const client = dks();
    await client.unwrap({ keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: wrapped }, 'corr-log');
    const generated = await client.generate('corr-log-2');
    const lines = logLines.slice(from);
    expect(lines).toHaveLength(2);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed[0]).toMatchObject({ method: 'POST', path: '/datakey/actions/decrypt', status: 200, keyId: 'STANDALONE', correlationId: 'corr-log', client: CLIENT_COMMON_NAME });
    const text = lines.join('\n');
    for (const secret of [key.toString('base64'), wrapped, generated.plaintextDataKey.toString('base64'), generated.ciphertextDataKey]) {
      expect(text).not.toContain(secret);
    }
  });
});

describe('local DKS backed by KMS (moto)', () => {
  const endpoint = process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566';
  const kms = new KMSClient({ endpoint, region: 'eu-west-2', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  let kmsServer: DksServer;
  let keyArn: string;
  let client: DksKeyService;

  beforeAll(async () => {
    const created = await kms.send(new CreateKeyCommand({ Description: `ingest-replica dks test ${randomBytes(6).toString('hex')}` }))
      .catch((e: unknown) => { throw new Error(`moto must answer on ${endpoint} (start: moto_server -H 127.0.0.1 -p 4566)`, { cause: e }); });
    keyArn = created.KeyMetadata!.Arn!;
    kmsServer = await startDksServer({
      tls: { cert: pems.serverCert, key: pems.serverKey, ca: pems.ca }, port: 0, kms: await KmsDataKeys.open(kms, created.KeyMetadata!.KeyId!),
    });
    client = new DksKeyService({ url: kmsServer.url, caCert: pems.ca, clientCert: pems.clientCert, clientKey: pems.clientKey, maxAttempts: 2, baseDelayMs: 5 });
  });

  afterAll(async () => {
    await client?.close();
    await kmsServer?.close();
    if (keyArn) await kms.send(new ScheduleKeyDeletionCommand({ KeyId: keyArn, PendingWindowInDays: 7 })).catch(() => undefined);
    kms.destroy();
  });

  it('generates KMS data keys that unwrap back through DKS and through KMS directly', async () => {
    const generated = await client.generate('corr-kms');
    expect(generated.dataKeyEncryptionKeyId).toBe(keyArn);
    expect(generated.plaintextDataKey).toHaveLength(16);
    expect(generated.ciphertextDataKey).not.toBe(standaloneWrap(generated.plaintextDataKey));
    const wrapped = { keyEncryptionKeyId: generated.dataKeyEncryptionKeyId, encryptedEncryptionKey: generated.ciphertextDataKey };
    expect((await client.unwrap(wrapped, 'corr-kms')).equals(generated.plaintextDataKey)).toBe(true);
    expect((await new KmsKeyService({ client: kms }).unwrap(wrapped, 'corr-kms')).equals(generated.plaintextDataKey)).toBe(true);
  });

  it.each([
    ['random bytes', randomBytes(120).toString('base64'), 'unknown-data-key'],
    ['not base64', '%%%', 'wrapped-key-malformed'],
  ])('rejects a garbled KMS ciphertext (%s) as a KeyRejectedError (%s)', async (_, garbled, reason) => {
    const error = await client.unwrap({ keyEncryptionKeyId: keyArn, encryptedEncryptionKey: garbled }, 'c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyRejectedError);
    expect(error).toMatchObject({ reason });
    expect(kmsServer.stats().decrypt.failed).toBe(0);
  });

  it('answers 400 to a garbled KMS ciphertext, as the real KMS mode', async () => {
    const res = await raw(`/datakey/actions/decrypt?keyId=${encodeURIComponent(keyArn)}&correlationId=c`, {
      method: 'POST', body: '%%%', cert: pems.clientCert, key: pems.clientKey, url: kmsServer.url,
    });
    expect(res.status).toBe(400);
  });

  it('in a run, quarantines the records under garbled keys (400 or refused locally) and decrypts the rest', async () => {
    const good = await client.generate('c');
    const keys = new CachingKeyService(client.scoped());
    const cells = [
      ...cellsUnder({ keyEncryptionKeyId: keyArn, encryptedEncryptionKey: randomBytes(120).toString('base64') }, randomBytes(16), 2),
      ...cellsUnder({ keyEncryptionKeyId: good.dataKeyEncryptionKeyId, encryptedEncryptionKey: good.ciphertextDataKey }, good.plaintextDataKey, 3),
      ...cellsUnder({ keyEncryptionKeyId: keyArn, encryptedEncryptionKey: '%%%' }, randomBytes(16), 1),
    ];
    const batch = await decode(cells, keys);
    expect(batch.rows).toHaveLength(3);
    expect(reasons(batch)).toEqual({ 'unknown-data-key': 2, 'wrapped-key-malformed': 1 });
  });

  it('keeps serving STANDALONE keys', async () => {
    const key = randomBytes(16);
    expect((await client.unwrap({ keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: standaloneWrap(key) }, 'c')).equals(key)).toBe(true);
    expect(await client.health()).toMatchObject({ healthy: true });
  });
});

/** Cells of one collection, each encrypted under the data key of its wrapped key (as the seeder makes them). */
let serial = 0;
function cellsUnder(wrapped: WrappedKey, dataKey: Buffer, count: number): Cell[] {
  return Array.from({ length: count }, () => {
    serial += 1;
    const id = { declarationId: `dks-${serial}` };
    const iv = randomBytes(16);
    const envelope = buildEnvelope({
      id, db: 'core', collection: 'dks', lastModifiedMs: 1_700_000_000_000 + serial, traceId: 't', unitOfWorkId: 'u',
      ciphertext: aesCtrEncrypt(dataKey, iv, Buffer.from(JSON.stringify({ _id: id, n: serial }))), iv, ...wrapped,
    });
    return { rowKey: rowKeyOf(idJsonOf(id)), timestamp: 1_700_000_000_000 + serial, value: Buffer.from(JSON.stringify(envelope)) };
  });
}

/** One collection run's view of the key service, as wiring/step-graph.ts builds it. */
const runKeys = (client: DksKeyService) => new CachingKeyService(client.scoped());
const decode = (cells: Cell[], keys: CachingKeyService) => decodeBatch(cells, { db: 'core', collection: 'dks', correlationId: 'corr-run', keys });
const reasons = (batch: Awaited<ReturnType<typeof decodeBatch>>) => Object.fromEntries(
  [...new Set(batch.quarantined.map((q) => q.reason))].map((r) => [r, batch.quarantined.filter((q) => q.reason === r).length]),
);

describe('a collection run against the local DKS (STANDALONE mode)', () => {
  const goodKeys = () => Array.from({ length: 3 }, () => {
    const key = randomBytes(16);
    return { key, wrapped: { keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: standaloneWrap(key) } };
  });

  it('quarantines the records under a garbled key (DKS would answer 500) without asking DKS, and decrypts the rest', async () => {
    const good = goodKeys();
    const garbled = { keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: '%%%garbled%%%' };
    const cells = [...good.flatMap((g) => cellsUnder(g.wrapped, g.key, 5)), ...cellsUnder(garbled, randomBytes(16), 4)];
    const keys = runKeys(dks());
    const batch = await decode(cells, keys);
    expect(batch.rows).toHaveLength(15);
    expect(reasons(batch)).toEqual({ 'wrapped-key-malformed': 4 });
    expect(server.stats().decrypt).toMatchObject({ calls: 3, ok: 3, failed: 0 });
  });

  it('quarantines the records under a key DKS keeps failing on (500) once other keys unwrap, asking for it once', async () => {
    const good = goodKeys();
    const broken = { keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: standaloneWrap(randomBytes(16)) };
    await admin('/__faults', 'POST', { failKeys: [broken.encryptedEncryptionKey], failStatus: 500 });
    const keys = runKeys(dks({ maxAttempts: 3 }));
    // Broken key first in the batch: it may give up before the others answer; the verdict waits for them.
    const first = await decode([...cellsUnder(broken, randomBytes(16), 3), ...cellsUnder(good[0]!.wrapped, good[0]!.key, 3)], keys);
    const second = await decode([...cellsUnder(broken, randomBytes(16), 2), ...cellsUnder(good[1]!.wrapped, good[1]!.key, 3)], keys);
    expect(first.rows.length + second.rows.length).toBe(6);
    expect(reasons(first)).toEqual({ 'key-unwrap-failed': 3 });
    expect(reasons(second)).toEqual({ 'key-unwrap-failed': 2 });
    expect(first.quarantined[0]!.detail).toMatch(/kept failing.*500/);
    expect(server.stats().decrypt).toMatchObject({ failed: 3, ok: 2 });
    expect(keys.stats()).toMatchObject({ failingKeys: 1, retries: 2 });
  });

  it('fails the run with a TransientError when DKS is down for every key, quarantining nothing', async () => {
    const good = goodKeys();
    await admin('/__faults', 'POST', { failRate: 1, failStatus: 500 });
    const keys = runKeys(dks({ maxAttempts: 2 }));
    const error = await decode(good.flatMap((g) => cellsUnder(g.wrapped, g.key, 3)), keys).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toBeInstanceOf(KeyServiceUnavailableError);
    expect((error as Error).message).toContain(server.url);
    expect(keys.stats().failingKeys).toBe(0);
  });

  it('fails the run when more keys fail than the bound, even though one unwrapped (DKS degraded)', async () => {
    const good = goodKeys()[0]!;
    const broken = Array.from({ length: 4 }, () => ({ keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: standaloneWrap(randomBytes(16)) }));
    await admin('/__faults', 'POST', { failKeys: broken.map((b) => b.encryptedEncryptionKey), failStatus: 503 });
    const keys = runKeys(dks({ maxAttempts: 2 }));
    await decode(cellsUnder(good.wrapped, good.key, 2), keys);
    const error = await decode(broken.flatMap((b) => cellsUnder(b, randomBytes(16), 2)), keys).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyServiceUnavailableError);
    expect((error as Error).message).toMatch(/more than 3 data keys kept failing/);
  });
});

describe('crafted cells (issue 16 item 2): quarantined with a reason, never a failed collection', () => {
  it.each([
    ['a lone surrogate in keyEncryptionKeyId', { keyEncryptionKeyId: 'STANDALONE\ud800', encryptedEncryptionKey: standaloneWrap(randomBytes(16)) }, 'key-id-malformed'],
    ['a 70 KB keyEncryptionKeyId', { keyEncryptionKeyId: `cloudhsm:${'7'.repeat(70_000)}`, encryptedEncryptionKey: standaloneWrap(randomBytes(16)) }, 'key-id-malformed'],
    ['a 20 KB encryptedEncryptionKey', { keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: randomBytes(15_000).toString('base64') }, 'wrapped-key-malformed'],
  ])('%s: its records are quarantined before any DKS call, the rest decrypt', async (_, crafted, reason) => {
    const good = { key: randomBytes(16), wrapped: fresh() };
    good.wrapped = { keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: standaloneWrap(good.key) };
    const keys = runKeys(dks());
    const batch = await decode([...cellsUnder(crafted, randomBytes(16), 2), ...cellsUnder(good.wrapped, good.key, 3)], keys);
    expect(batch.rows).toHaveLength(3);
    expect(reasons(batch)).toEqual({ [reason]: 2 });
    expect(server.stats().decrypt.calls).toBe(1);
  });

  describe('against a DKS with small request limits', () => {
    let small: DksServer;
    beforeAll(async () => {
      small = await startDksServer({ tls: { cert: pems.serverCert, key: pems.serverKey, ca: pems.ca }, port: 0, maxBodyBytes: 64, maxHeaderBytes: 1024 });
    });
    afterAll(async () => small?.close());
    const smallDks = () => dks({ url: small.url });
    const post = (keyId: string, body: string) => raw(`/datakey/actions/decrypt?keyId=${encodeURIComponent(keyId)}&correlationId=c`, {
      method: 'POST', body, cert: pems.clientCert, key: pems.clientKey, url: small.url,
    }).catch((e: unknown) => e);

    it('answers 413 to a body over its limit and 431 to headers over its limit, as a real server', async () => {
      expect(await post('STANDALONE', randomBytes(200).toString('base64'))).toMatchObject({ status: 413 });
      expect(await post(`cloudhsm:${'1'.repeat(1500)}`, standaloneWrap(randomBytes(16)))).toMatchObject({ status: 431 });
    });

    it('quarantines a record whose wrapped key DKS finds too large (413) as dks-body-too-large', async () => {
      const big = { keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: randomBytes(200).toString('base64') };
      const error = await smallDks().unwrap(big, 'corr-413').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(KeyRejectedError);
      expect(error).toMatchObject({ reason: 'dks-body-too-large', context: { status: 413 } });
      expect((error as Error).message).not.toMatch(/DKS URL/);
      const batch = await decode(cellsUnder(big, randomBytes(16), 2), runKeys(smallDks()));
      expect(reasons(batch)).toEqual({ 'dks-body-too-large': 2 });
    });

    it('quarantines a record whose key id DKS finds too large (431) as dks-headers-too-large', async () => {
      const long = { keyEncryptionKeyId: `cloudhsm:${'1'.repeat(1500)}`, encryptedEncryptionKey: standaloneWrap(randomBytes(16)) };
      const error = await smallDks().unwrap(long, 'corr-431').catch((e: unknown) => e);
      expect(error).toMatchObject({ reason: 'dks-headers-too-large', context: { status: 431 } });
      expect((error as Error).message).not.toMatch(/DKS URL/);
      const batch = await decode(cellsUnder(long, randomBytes(16), 2), runKeys(smallDks()));
      expect(reasons(batch)).toEqual({ 'dks-headers-too-large': 2 });
    });
  });
});

describe('DKS answer cap (issue 16 item 3)', () => {
  it('refuses an answer over the cap without reading it whole, naming the cap', async () => {
    await admin('/__faults', 'POST', { answerPadBytes: 50 * 1024 * 1024 });
    const before = process.memoryUsage().rss;
    const error = await dks({ maxAnswerBytes: 64 * 1024 }).unwrap(fresh(), 'corr-cap').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyServiceAccessError);
    expect((error as Error).message).toMatch(/over 65536 bytes \(the cap on a DKS answer\)/);
    expect(process.memoryUsage().rss - before).toBeLessThan(40 * 1024 * 1024);
  });

  it('reads an answer under the cap as before', async () => {
    await admin('/__faults', 'POST', { answerPadBytes: 1000 });
    const key = randomBytes(16);
    const unwrapped = await dks().unwrap({ keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: standaloneWrap(key) }, 'corr-cap');
    expect(unwrapped.equals(key)).toBe(true);
  });
});

describe('local DKS in emulated HSM mode', () => {
  let hsmServer: DksServer;
  let client: DksKeyService;

  beforeAll(async () => {
    hsmServer = await startDksServer({ tls: { cert: pems.serverCert, key: pems.serverKey, ca: pems.ca }, port: 0, hsm: new HsmDataKeys() });
    client = new DksKeyService({ url: hsmServer.url, caCert: pems.ca, clientCert: pems.clientCert, clientKey: pems.clientKey, maxAttempts: 2, baseDelayMs: 5 });
  });

  afterAll(async () => {
    await client?.close();
    await hsmServer?.close();
  });

  const post = (keyId: string, body: string) => raw(`/datakey/actions/decrypt?keyId=${encodeURIComponent(keyId)}&correlationId=c`, {
    method: 'POST', body, cert: pems.clientCert, key: pems.clientKey, url: hsmServer.url,
  });

  it('generates RSA-wrapped keys under a cloudhsm: key id that unwrap back', async () => {
    const generated = await client.generate('corr-hsm');
    expect(generated.dataKeyEncryptionKeyId).toBe(HSM_KEY_ID);
    expect(Buffer.from(generated.ciphertextDataKey, 'base64')).toHaveLength(256);
    const key = await client.unwrap({ keyEncryptionKeyId: HSM_KEY_ID, encryptedEncryptionKey: generated.ciphertextDataKey }, 'c');
    expect(key.equals(generated.plaintextDataKey)).toBe(true);
  });

  it('answers 500 to a garbled key and 503 to a malformed keyId or corrupt ciphertext, never 400', async () => {
    const { ciphertextDataKey } = await client.generate('c');
    expect((await post(HSM_KEY_ID, '%%%')).status).toBe(500);
    expect((await post('cloudhsm:nope', ciphertextDataKey)).status).toBe(503);
    expect((await post(HSM_KEY_ID, randomBytes(256).toString('base64'))).status).toBe(503);
  });

  it('in a run, quarantines the records under a corrupt ciphertext (503 after retries) and decrypts the rest', async () => {
    const good = await client.generate('c');
    const corrupt = { keyEncryptionKeyId: HSM_KEY_ID, encryptedEncryptionKey: randomBytes(256).toString('base64') };
    const keys = new CachingKeyService(client.scoped());
    const cells = [...cellsUnder(corrupt, randomBytes(16), 3), ...cellsUnder({ keyEncryptionKeyId: HSM_KEY_ID, encryptedEncryptionKey: good.ciphertextDataKey }, good.plaintextDataKey, 4)];
    const batch = await decode(cells, keys);
    expect(batch.rows).toHaveLength(4);
    expect(reasons(batch)).toEqual({ 'key-unwrap-failed': 3 });
  });
});
