import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { ensureDevCertificates } from './dks/certs.js';
import { hbaseBuildProblem, hbaseCommand } from './hbase-process.js';
import { httpOk, isAlive, startDetached, stopProcess, waitUntil } from './processes.js';
import { projectRoot, stackFiles } from './paths.js';
import { readStackState, stackEnvText, writeStackState, type StackState } from './stack-state.js';
import { ConfigError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { collectionFromName } from '../collections/index.js';
import { ensureLocalAwsResources } from './aws-resources.js';
import { seededCollectionNames } from './seeder/collections.js';
import { LOCAL_AWS_NAMES } from './local-aws-names.js';

/**
 * The local stack: a real HBase with its REST server, moto for AWS, and the local DKS over mutual TLS.
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
}

export type PartName = 'hbase' | 'aws' | 'dks';

export interface PartStatus {
  up: boolean;
  pid?: number;
  /** True when the part answers but was not started by this stack (so `down` leaves it alone). */
  external?: boolean;
}

export interface StackStatus extends Omit<StackState, 'pids'> {
  parts: Record<PartName, PartStatus>;
  envFile: string;
}

export async function stackUp(options: StackOptions, logger: Logger): Promise<StackStatus> {
  const root = options.projectRoot ?? projectRoot();
  // Before anything starts: an HBase that cannot start would only show as a ClassNotFoundException in its log.
  const hbaseUrls = { hbaseRestUrl: `http://127.0.0.1:${options.hbaseRestPort}`, hbaseAdminUrl: `http://127.0.0.1:${options.hbaseAdminPort}` };
  const problem = hbaseBuildProblem(root);
  if (problem !== undefined && !(await hbaseAnswers(hbaseUrls))) throw new ConfigError(problem);
  const files = stackFiles(options.home);
  const previous = readStackState(files.state);
  const certs = await ensureDevCertificates(files.certs);
  const state: StackState = {
    ...hbaseUrls,
    awsEndpointUrl: `http://127.0.0.1:${options.awsPort}`,
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
    aws: () => startDetached(motoServer(), ['-H', '127.0.0.1', '-p', String(options.awsPort)], join(files.logs, 'moto.log')),
    dks: () =>
      startDetached(
        process.execPath,
        [join(root, 'dist/src/local/dks/main.js'), '--port', String(options.dksPort), '--certs', files.certs,
          '--aws-endpoint', state.awsEndpointUrl, '--region', options.awsRegion],
        join(files.logs, 'dks.log'),
      ),
  };
  const timeouts: Record<PartName, number> = { hbase: 240_000, aws: 60_000, dks: 30_000 };
  // moto first (DKS's KMS mode talks to it), HBase in parallel since it is the slowest.
  const order: PartName[][] = [['aws', 'hbase'], ['dks']];
  for (const group of order) {
    await Promise.all(group.map(async (part) => {
      const started = Date.now();
      if (await probe(part, state)) {
        const pid = previous?.pids[part];
        if (pid !== undefined && isAlive(pid)) state.pids[part] = pid;
        logger.info({ part, pid, external: state.pids[part] === undefined }, 'local stack part already up');
        return;
      }
      const pid = starts[part]();
      state.pids[part] = pid;
      await waitUntil(`${part} (log: ${join(files.logs, `${part === 'aws' ? 'moto' : part}.log`)})`, () => probe(part, state), timeouts[part], () => !isAlive(pid));
      logger.info({ part, pid, ms: Date.now() - started }, 'local stack part started');
    }));
  }
  // The AWS resources the step expects exist as soon as the stack is up, so every default just works.
  await ensureLocalAwsResources({
    endpoint: state.awsEndpointUrl,
    region: state.awsRegion,
    ...LOCAL_AWS_NAMES,
    collections: seededCollectionNames(3).map((name) => collectionFromName(name)),
    existingSecret: 'keep',
  });
  writeStackState(files.state, state);
  writeFileSync(files.env, stackEnvText(state));
  return stackStatus(options.home);
}

export async function stackDown(home: string, logger: Logger): Promise<void> {
  const files = stackFiles(home);
  const state = readStackState(files.state);
  if (state === undefined) return;
  // Stop in reverse dependency order, each by the process id recorded when we started it.
  for (const part of ['dks', 'hbase', 'aws'] as const) {
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
  const parts = {} as Record<PartName, PartStatus>;
  await Promise.all((['hbase', 'aws', 'dks'] as const).map(async (part) => {
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

function motoServer(): string {
  return process.env.MOTO_SERVER ?? 'moto_server';
}
