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

  it.each([
    ['not base64', 'STANDALONE', '!!not-base64!!'],
    ['the wrong length', 'STANDALONE', Buffer.alloc(12).toString('base64')],
    ['an unknown keyId', 'cloudhsm:1,2', standaloneWrap(Buffer.alloc(16))],
  ])('rejects a key that is %s with 400 as a KeyRejectedError, asked once', async (_, keyId, wrapped) => {
    const client = dks();
    const error = await client.unwrap({ keyEncryptionKeyId: keyId, encryptedEncryptionKey: wrapped }, 'corr-bad').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyRejectedError);
    expect((error as KeyRejectedError).context).toMatchObject({ status: 400, keyEncryptionKeyId: keyId, correlationId: 'corr-bad' });
    expect(server.stats().decrypt).toMatchObject({ calls: 1, rejected: 1 });
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
    ['random bytes', randomBytes(120).toString('base64')],
    ['not base64', '%%%'],
  ])('rejects a garbled KMS ciphertext (%s) with 400', async (_, garbled) => {
    const error = await client.unwrap({ keyEncryptionKeyId: keyArn, encryptedEncryptionKey: garbled }, 'c').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeyRejectedError);
    expect(kmsServer.stats().decrypt.failed).toBe(0);
  });

  it('keeps serving STANDALONE keys', async () => {
    const key = randomBytes(16);
    expect((await client.unwrap({ keyEncryptionKeyId: 'STANDALONE', encryptedEncryptionKey: standaloneWrap(key) }, 'c')).equals(key)).toBe(true);
    expect(await client.health()).toMatchObject({ healthy: true });
  });
});
