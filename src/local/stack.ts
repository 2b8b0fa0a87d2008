import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { ensureDevCertificates } from './dks/certs.js';
import { hbaseBuildProblem, hbaseCommand } from './hbase-process.js';
import { httpOk, isAlive, startDetached, stopProcess, waitUntil } from './processes.js';
import { projectRoot } from '../shared/project-root.js';
import { stackFiles } from './paths.js';
import { readStackState, stackEnvText, writeStackState, type StackState } from './stack-state.js';
import { ConfigError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { collectionFromName } from '../collections/index.js';
import { ensureLocalAwsResources } from './aws-resources.js';
import { seededCollectionNames } from './seeder/collections.js';
import { LOCAL_AWS_NAMES } from './local-aws-names.js';
import { identifyAwsServer, localstackCommand, localstackPython, LOCALSTACK_SERVICES, type AwsServer } from './aws-servers.js';

/**
 * The local stack: a real HBase with its REST server, moto for AWS (or LocalStack for S3, KMS, Secrets Manager
 * and SNS with moto for the rest), and the local DKS over mutual TLS.
 * `up` is idempotent and adopts a part already answering on its port; `down` stops only what `up` started.
 */
export interface StackOptions {
  home: string;
  hbaseRestPort: number;
  hbaseAdminPort: number;
  zkPort: number;
  awsPort: number;
  dksPort: number;
  awsRegion: string;
  hbaseHeapMb: number;
  /** The checkout whose HBase module and DKS are started (default: this one). */
  projectRoot?: string;
  /** `moto`: moto serves every service; `localstack`: LocalStack for S3, KMS, Secrets Manager, SNS, moto for the rest. */
  aws?: 'moto' | 'localstack';
  localstackPort?: number;
}

export type PartName = 'hbase' | 'aws' | 'localstack' | 'dks';

export interface PartStatus {
  up: boolean;
  pid?: number;
  /** True when the part answers but was not started by this stack (so `down` leaves it alone). */
  external?: boolean;
}

export interface StackStatus extends Omit<StackState, 'pids'> {
  parts: Partial<Record<PartName, PartStatus>>;
  envFile: string;
}

const LOG_NAMES: Record<PartName, string> = { hbase: 'hbase', aws: 'moto', localstack: 'localstack', dks: 'dks' };

export async function stackUp(options: StackOptions, logger: Logger): Promise<StackStatus> {
  const root = options.projectRoot ?? projectRoot();
  // Before anything starts: an HBase that cannot start would only show as a ClassNotFoundException in its log.
  const hbaseUrls = { hbaseRestUrl: `http://127.0.0.1:${options.hbaseRestPort}`, hbaseAdminUrl: `http://127.0.0.1:${options.hbaseAdminPort}` };
  const problem = hbaseBuildProblem(root);
  if (problem !== undefined && !(await hbaseAnswers(hbaseUrls))) throw new ConfigError(problem);
  const files = stackFiles(options.home);
  const previous = readStackState(files.state);
  const certs = await ensureDevCertificates(files.certs);
  const withLocalstack = options.aws === 'localstack';
  const localstackUrl = `http://127.0.0.1:${options.localstackPort ?? 4567}`;
  const state: StackState = {
    ...hbaseUrls,
    awsEndpointUrl: `http://127.0.0.1:${options.awsPort}`,
    ...(withLocalstack ? { awsServiceEndpoints: Object.fromEntries(LOCALSTACK_SERVICES.map((s) => [s, localstackUrl])) } : {}),
    awsRegion: options.awsRegion,
    dksUrl: `https://127.0.0.1:${options.dksPort}`,
    dksClientCert: certs.clientCert,
    dksClientKey: certs.clientKey,
    dksCaCert: certs.caCert,
    pids: {},
  };
  const starts: Record<PartName, () => number> = {
    hbase: () => {
      const { command, args } = hbaseCommand({
        projectRoot: root,
        dataDir: files.hbaseData,
        restPort: options.hbaseRestPort,
        zkPort: options.zkPort,
        adminPort: options.hbaseAdminPort,
        heapMb: options.hbaseHeapMb,
      });
      return startDetached(command, args, join(files.logs, 'hbase.log'));
    },
    aws: () => {
      const [command, ...args] = motoServer(root);
      return startDetached(command!, [...args, '-H', '127.0.0.1', '-p', String(options.awsPort)], join(files.logs, 'moto.log'));
    },
    localstack: () => {
      const lsRoot = join(options.home, 'localstack');
      mkdirSync(lsRoot, { recursive: true });
      const { command, args, env } = localstackCommand(localstackPython(root), options.localstackPort ?? 4567, lsRoot);
      return startDetached(command, args, join(files.logs, 'localstack.log'), env);
    },
    dks: () =>
      startDetached(
        process.execPath,
        [join(root, 'dist/src/local/dks/main.js'), '--port', String(options.dksPort), '--certs', files.certs,
          '--aws-endpoint', state.awsServiceEndpoints?.kms ?? state.awsEndpointUrl, '--region', options.awsRegion],
        join(files.logs, 'dks.log'),
      ),
  };
  const timeouts: Record<PartName, number> = { hbase: 240_000, aws: 60_000, localstack: 90_000, dks: 30_000 };
  // The AWS endpoints first (DKS's KMS mode talks to them), HBase in parallel since it is the slowest.
  const order: PartName[][] = [[...(withLocalstack ? ['localstack' as const] : []), 'aws', 'hbase'], ['dks']];
  // Invariant: every process this `up` starts is in stack.json from the moment it starts; if `up` fails, it
  // stops them again, so a failed `up` leaves nothing running (adopted parts are never touched).
  const startedHere: PartName[] = [];
  let failed = false;
  const record = (): void => writeStackState(files.state, state);
  try {
    for (const group of order) {
      await Promise.all(group.map(async (part) => {
        const started = Date.now();
        if (await adopt(part, state, previous, logger)) return;
        if (failed) throw new Error(`not starting ${part}: another part failed`);
        const pid = starts[part]();
        state.pids[part] = pid;
        startedHere.push(part);
        record();
        logger.info({ part, pid }, 'local stack part starting');
        await waitUntil(`${part} (log: ${join(files.logs, `${LOG_NAMES[part]}.log`)})`, () => probe(part, state), timeouts[part], () => failed || !isAlive(pid));
        logger.info({ part, pid, ms: Date.now() - started }, 'local stack part started');
      }).map((p) => p.catch((e: unknown) => {
        failed = true;
        throw e;
      })));
    }
    // The AWS resources the step expects exist as soon as the stack is up, so every default just works.
    await ensureLocalAwsResources({
      endpoint: state.awsEndpointUrl,
      serviceEndpoints: state.awsServiceEndpoints,
      region: state.awsRegion,
      ...LOCAL_AWS_NAMES,
      collections: seededCollectionNames(3).map((name) => collectionFromName(name)),
      existingSecret: 'keep',
    });
  } catch (error) {
    failed = true;
    for (const part of startedHere.reverse()) {
      const pid = state.pids[part];
      if (pid !== undefined) await stopProcess(pid, 5_000);
      delete state.pids[part];
      logger.warn({ part, pid }, 'local stack part stopped: `up` failed');
    }
    record();
    throw error;
  }
  record();
  writeFileSync(files.env, stackEnvText(state));
  return stackStatus(options.home);
}

/**
 * A part already answering on its port is adopted (kept if this stack started it before). An AWS port is
 * adopted only by what it should hold: moto for `aws`, LocalStack for `localstack`; anything else fails at
 * once, naming the port, since nothing may be started on an occupied port.
 */
async function adopt(part: PartName, state: StackState, previous: StackState | undefined, logger: Logger): Promise<boolean> {
  if (part === 'aws' || part === 'localstack') {
    const url = part === 'aws' ? state.awsEndpointUrl : (state.awsServiceEndpoints?.s3 as string);
    const server = await identifyAwsServer(url);
    if (server.kind === 'none') return false;
    const wanted = part === 'aws' ? 'moto' : 'localstack';
    if (server.kind !== wanted) throw new ConfigError(occupied(url, server, wanted));
    state.awsServers = { ...state.awsServers, [url]: wanted };
    if (server.kind === 'localstack') {
      const lacking = LOCALSTACK_SERVICES.filter((s) => !server.serves.includes(s));
      if (lacking.length > 0) throw new ConfigError(`LocalStack ${server.version} at ${url} does not serve ${lacking.join(', ')}. Fix: enable them in LocalStack (SERVICES) or run \`local up\` without --aws localstack.`);
    }
  } else if (!(await probe(part, state))) {
    return false;
  }
  const pid = previous?.pids[part];
  if (pid !== undefined && isAlive(pid)) state.pids[part] = pid;
  logger.info({ part, pid, external: state.pids[part] === undefined }, 'local stack part already up');
  return true;
}

function occupied(url: string, server: AwsServer, wanted: 'moto' | 'localstack'): string {
  const port = new URL(url).port;
  if (server.kind === 'localstack') {
    return `port ${port} holds LocalStack ${server.version} (it serves ${server.serves.join(', ')} of what the product needs; it lacks DynamoDB here and EMR). ` +
      `Fix: pair it with moto: \`ingest-replica local up --aws localstack --localstack-port ${port} --aws-port <a free port>\`.`;
  }
  if (server.kind === 'moto') return `port ${port} holds moto, not LocalStack. Fix: pass --localstack-port with a free port or LocalStack's.`;
  return `port ${port} is in use by something that is neither moto nor LocalStack (${server.kind === 'unknown' ? server.answer : ''}), and \`local up\` never starts a server on an occupied port. ` +
    `Fix: stop it, or pass ${wanted === 'moto' ? '--aws-port' : '--localstack-port'} with a free port.`;
}

export async function stackDown(home: string, logger: Logger): Promise<void> {
  const files = stackFiles(home);
  const state = readStackState(files.state);
  if (state === undefined) return;
  // Stop in reverse dependency order, each by the process id recorded when we started it.
  for (const part of ['dks', 'hbase', 'aws', 'localstack'] as const) {
    const pid = state.pids[part];
    if (pid === undefined || !isAlive(pid)) continue;
    await stopProcess(pid);
    logger.info({ part, pid }, 'local stack part stopped');
  }
  writeStackState(files.state, { ...state, pids: {} });
}

export async function stackStatus(home: string): Promise<StackStatus> {
  const files = stackFiles(home);
  const state = readStackState(files.state);
  if (state === undefined) throw new Error(`the local stack has not been started here (no ${files.state}): run \`ingest-replica local up\``);
  const parts: Partial<Record<PartName, PartStatus>> = {};
  const names: PartName[] = ['hbase', 'aws', ...(state.awsServiceEndpoints?.s3 !== undefined ? ['localstack' as const] : []), 'dks'];
  await Promise.all(names.map(async (part) => {
    const pid = state.pids[part];
    const up = await probe(part, state);
    parts[part] = { up, ...(pid !== undefined && isAlive(pid) ? { pid } : { external: up }) };
  }));
  const { pids: _pids, ...urls } = state;
  return { ...urls, parts, envFile: files.env };
}

async function hbaseAnswers(urls: Pick<StackState, 'hbaseRestUrl' | 'hbaseAdminUrl'>): Promise<boolean> {
  return (await httpOk(`${urls.hbaseRestUrl}/version/cluster`).catch(() => false))
    && (await httpOk(`${urls.hbaseAdminUrl}/health`).catch(() => false));
}

async function probe(part: PartName, state: StackState): Promise<boolean> {
  switch (part) {
    case 'hbase':
      return hbaseAnswers(state);
    case 'aws':
      return httpOk(`${state.awsEndpointUrl}/moto-api/`).catch(() => false);
    case 'localstack':
      return (await identifyAwsServer(state.awsServiceEndpoints?.s3 ?? '')).kind === 'localstack';
    case 'dks':
      return httpsOk(`${state.dksUrl}/healthcheck`, state).catch(() => false);
  }
}

function httpsOk(url: string, state: StackState): Promise<boolean> {
  if (!existsSync(state.dksClientCert)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = request(url, {
      ca: readFileSync(state.dksCaCert),
      cert: readFileSync(state.dksClientCert),
      key: readFileSync(state.dksClientKey),
      timeout: 2000,
    }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * moto, with DynamoDB's conditional writes atomic as in DynamoDB (local-aws/atomic_moto_server.py: plain
 * moto_server lets two concurrent conditional writes on one key both succeed under load). MOTO_SERVER names
 * another server binary instead (plain moto, without that guarantee); MOTO_PYTHON the Python that has moto.
 */
function motoServer(root: string): string[] {
  if (process.env.MOTO_SERVER !== undefined) return [process.env.MOTO_SERVER];
  return [process.env.MOTO_PYTHON ?? 'python3', join(root, 'local-aws', 'atomic_moto_server.py')];
}
