import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ConfigError, exitCodeFor, toError } from '../../shared/errors.js';
import { createLogger } from '../../shared/logger.js';
import { ensureDevCertificates } from './certs.js';
import { HsmDataKeys } from './hsm-keys.js';
import { KmsDataKeys, createKmsClient } from './kms-adapter.js';
import { startDksServer } from './server.js';

/**
 * Entry of the local DKS:
 *   node dist/src/local/dks/main.js --port 8443 --certs DIR [--host 127.0.0.1]
 *     [--kms-key-id ID --aws-endpoint URL --region eu-west-2 | --hsm]
 * `--hsm` emulates the real DKS's HSM mode (hsm-keys.ts: `cloudhsm:` key ids, its 500/503 answers), with an
 * RSA key pair made at startup, so its wrapped keys do not survive a restart.
 * Creates the development certificates in DIR if missing; stops cleanly on SIGTERM/SIGINT.
 */
const USAGE = 'usage: main.js --port N --certs DIR [--host H] [--kms-key-id ID] [--aws-endpoint URL] [--region R] [--hsm]';

function flags(argv: string[]): { port: number; certs: string; host: string; kmsKeyId?: string; awsEndpoint?: string; region: string; hsm: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', default: '8443' },
        certs: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        'kms-key-id': { type: 'string' },
        'aws-endpoint': { type: 'string' },
        region: { type: 'string', default: 'eu-west-2' },
        hsm: { type: 'boolean', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    throw new ConfigError(`${toError(e).message}\n${USAGE}`);
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port must be a TCP port, got ${values.port}\n${USAGE}`);
  if (!values.certs) throw new ConfigError(`--certs DIR is required\n${USAGE}`);
  if (values.hsm && values['kms-key-id']) throw new ConfigError(`--hsm and --kms-key-id choose different modes: give one\n${USAGE}`);
  return {
    port, certs: values.certs, host: values.host, region: values.region, hsm: values.hsm,
    ...(values['kms-key-id'] ? { kmsKeyId: values['kms-key-id'] } : {}),
    ...(values['aws-endpoint'] ? { awsEndpoint: values['aws-endpoint'] } : {}),
  };
}

async function main(): Promise<void> {
  const logger = createLogger({ name: 'local-dks' });
  const options = flags(process.argv.slice(2));
  const certs = await ensureDevCertificates(options.certs);
  const [cert, key, ca] = await Promise.all([certs.serverCert, certs.serverKey, certs.caCert].map((f) => readFile(f)));
  let kms: KmsDataKeys | undefined;
  if (options.kmsKeyId) {
    const client = createKmsClient({
      region: options.region,
      ...(options.awsEndpoint ? { endpoint: options.awsEndpoint } : {}),
      // A local endpoint (moto) takes any credentials; real AWS uses the default provider chain.
      ...(options.awsEndpoint && !process.env.AWS_ACCESS_KEY_ID ? { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } : {}),
    });
    kms = await KmsDataKeys.open(client, options.kmsKeyId).catch((e: unknown) => {
      throw new ConfigError(`cannot use KMS key ${options.kmsKeyId}: ${toError(e).message}`, { cause: e });
    });
  }
  const server = await startDksServer({
    tls: { cert: cert!, key: key!, ca: ca! }, port: options.port, host: options.host, logger,
    ...(kms ? { kms } : {}), ...(options.hsm ? { hsm: new HsmDataKeys() } : {}),
  });
  logger.info({ url: server.url, kmsKeyArn: kms?.keyArn, certs: certs.dir }, 'local dks listening');
  const stop = (signal: string): void => {
    logger.info({ signal }, 'local dks stopping');
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((e: unknown) => {
  const error = toError(e);
  process.stderr.write(`local dks: ${error.message}\n`);
  process.exit(exitCodeFor(error));
});
