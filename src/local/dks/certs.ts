import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import forge from 'node-forge';

/**
 * Development certificates for the local DKS's mutual TLS: a CA, a server certificate for `localhost` and
 * 127.0.0.1, and a client certificate (CN `ingest-replica-local`), all signed by that CA. Also a second,
 * untrusted CA with its own client certificate, so tests can show that DKS refuses a stranger.
 * Generated once per folder and reused; private keys are written 0600.
 */
export interface DevCertificates {
  readonly dir: string;
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A CA that DKS does not trust, and a client certificate it signed. */
  readonly rogueCaCert: string;
  readonly rogueClientCert: string;
  readonly rogueClientKey: string;
}

export const CLIENT_COMMON_NAME = 'ingest-replica-local';

const FILES = {
  caCert: 'ca.pem', caKey: 'ca-key.pem',
  serverCert: 'server.pem', serverKey: 'server-key.pem',
  clientCert: 'client.pem', clientKey: 'client-key.pem',
  rogueCaCert: 'rogue-ca.pem', rogueClientCert: 'rogue-client.pem', rogueClientKey: 'rogue-client-key.pem',
} as const;

type FileName = keyof typeof FILES;

export async function ensureDevCertificates(dir: string): Promise<DevCertificates> {
  const paths = Object.fromEntries(Object.entries(FILES).map(([k, f]) => [k, join(dir, f)])) as Record<FileName, string>;
  const complete = (): boolean => Object.values(paths).every((p) => existsSync(p));
  if (!complete()) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // Two processes may start at once (the stack and a test): the lock keeps one set of files consistent.
    await withLock(join(dir, '.lock'), async () => {
      if (!complete()) await writeAll(paths, generateAll());
    });
  }
  const { caKey: _caKey, ...rest } = paths;
  return { dir, ...rest };
}

interface Issued { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey; keyPem: string }

function generateAll(): Record<FileName, string> {
  const ca = selfSignedCa('ingest-replica local development CA');
  const server = issue(ca, 'localhost', [
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    { name: 'extKeyUsage', serverAuth: true },
  ]);
  const client = issue(ca, CLIENT_COMMON_NAME, [{ name: 'extKeyUsage', clientAuth: true }]);
  const rogueCa = selfSignedCa('untrusted development CA');
  const rogueClient = issue(rogueCa, CLIENT_COMMON_NAME, [{ name: 'extKeyUsage', clientAuth: true }]);
  const pem = (c: forge.pki.Certificate): string => forge.pki.certificateToPem(c);
  return {
    caCert: pem(ca.cert), caKey: ca.keyPem,
    serverCert: pem(server.cert), serverKey: server.keyPem,
    clientCert: pem(client.cert), clientKey: client.keyPem,
    rogueCaCert: pem(rogueCa.cert), rogueClientCert: pem(rogueClient.cert), rogueClientKey: rogueClient.keyPem,
  };
}

/** RSA keys come from Node's native generator: forge's pure-JS one takes seconds per key. */
function keyPair(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey; keyPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  return { publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), privateKey: forgeKey, keyPem };
}

function newCertificate(publicKey: forge.pki.PublicKey, years: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive serial: the leading byte must not have its high bit set.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 24 * 3600_000); // tolerate small clock skew
  cert.validity.notAfter = new Date(now + years * 365 * 24 * 3600_000);
  return cert;
}

function selfSignedCa(commonName: string): Issued {
  const { publicKey, privateKey, keyPem } = keyPair();
  const cert = newCertificate(publicKey, 10);
  const subject = [{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'ingest-replica' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(privateKey, forge.md.sha256.create());
  return { cert, key: privateKey, keyPem };
}

function issue(ca: Issued, commonName: string, extensions: object[]): Issued {
  const { publicKey, privateKey, keyPem } = keyPair();
  const cert = newCertificate(publicKey, 5);
  cert.setSubject([{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'ingest-replica' }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.cert.generateSubjectKeyIdentifier().getBytes() },
    ...extensions,
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  return { cert, key: privateKey, keyPem };
}

async function writeAll(paths: Record<FileName, string>, contents: Record<FileName, string>): Promise<void> {
  // Each file appears whole (write then rename); readers wait on the lock until the set is complete.
  for (const name of Object.keys(FILES) as FileName[]) {
    const mode = isKey(name) ? 0o600 : 0o644;
    const tmp = `${paths[name]}.${process.pid}.tmp`;
    await writeFile(tmp, contents[name], { mode });
    await chmod(tmp, mode); // the process umask must not change the intended mode
    await rename(tmp, paths[name]);
  }
}

function isKey(name: FileName): boolean {
  return name.endsWith('Key');
}

async function withLock(lock: string, body: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      // A lock older than any generation takes is left by a crashed process.
      if (age > 30_000) await rm(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new Error(`timed out waiting for the certificate lock ${lock}`);
      else await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    await body();
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}
