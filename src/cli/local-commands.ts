import type { Command } from 'commander';
import { localHome, stackFiles } from '../local/paths.js';
import { stackDown, stackStatus, stackUp, type StackOptions, type StackStatus } from '../local/stack.js';
import { runSeed } from '../local/seeder/run-seed.js';
import { parsers } from '../config/settings.js';
import { createLogger } from '../shared/logger.js';
import { runCommand } from './command.js';
import { readStackState } from '../local/stack-state.js';
import { ConfigError } from '../shared/errors.js';

/** `ingest-replica local up|down|status|seed`: the local stack (HBase + REST, moto, DKS) and its data. */
export function registerLocalCommands(program: Command): void {
  const local = program.command('local').description('manage the local stack: HBase + REST, moto or LocalStack + moto (AWS), DKS over mutual TLS');

  local
    .command('up')
    .description('start what is not running yet and wait until every part answers (idempotent)')
    .option('--hbase-rest-port <port>', 'HBase REST port (env INGEST_LOCAL_HBASE_REST_PORT)', process.env.INGEST_LOCAL_HBASE_REST_PORT ?? '8080')
    .option('--hbase-admin-port <port>', 'local HBase admin port (env INGEST_LOCAL_HBASE_ADMIN_PORT)', process.env.INGEST_LOCAL_HBASE_ADMIN_PORT ?? '8079')
    .option('--zk-port <port>', 'ZooKeeper port (env INGEST_LOCAL_ZK_PORT)', process.env.INGEST_LOCAL_ZK_PORT ?? '2181')
    .option('--aws-port <port>', 'moto server port, as LocalStack\'s edge (env INGEST_LOCAL_AWS_PORT)', process.env.INGEST_LOCAL_AWS_PORT ?? '4566')
    .option('--aws <servers>', 'moto (every service) or localstack (LocalStack for S3, KMS, Secrets Manager, SNS; moto for DynamoDB, EMR and the rest)', process.env.INGEST_LOCAL_AWS ?? 'moto')
    .option('--localstack-port <port>', 'LocalStack port with --aws localstack (env INGEST_LOCAL_LOCALSTACK_PORT); a LocalStack already there is adopted', process.env.INGEST_LOCAL_LOCALSTACK_PORT ?? '4567')
    .option('--dks-port <port>', 'local DKS https port (env INGEST_LOCAL_DKS_PORT)', process.env.INGEST_LOCAL_DKS_PORT ?? '8443')
    .option('--hbase-heap <mb>', 'HBase JVM heap in MiB (at most 2048)', '1024')
    .option('--json', 'print the status as JSON')
    .action((flags: Record<string, string | boolean | undefined>) =>
      runCommand(async () => {
        const started = Date.now();
        const status = await stackUp(stackOptions(flags), createLogger());
        printStatus(status, flags.json === true);
        if (flags.json !== true) console.log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s; source ${status.envFile} to use it from a shell`);
        return allUp(status) ? 0 : 1;
      }),
    );

  local
    .command('down')
    .description('stop the processes `local up` started (by their recorded ids), nothing else')
    .action(() => runCommand(async () => stackDown(localHome(), createLogger())));

  local
    .command('status')
    .description('whether each part of the local stack is up, and its endpoints')
    .option('--json', 'print as JSON')
    .action((flags: { json?: boolean }) =>
      runCommand(async () => {
        const status = await stackStatus(localHome());
        printStatus(status, flags.json === true);
        return allUp(status) ? 0 : 1;
      }),
    );

  local
    .command('seed')
    .description('write faithful encrypted records into the local HBase and create the AWS resources')
    .option('--collections <n>', 'number of collections', '3')
    .option('--records <m>', 'records per collection', '1000')
    .option('--keys <k>', 'distinct data keys per collection', '8')
    .option('--seed <s>', 'seed: the same seed gives the same ids, timestamps and documents', 'ingest-replica')
    .option('--regions <r>', 'pre-split regions per table', '4')
    .option('--fresh', 'first drop these collections\' tables, status rows and published output (local stack only)')
    .action((flags: Record<string, string | boolean>) =>
      runCommand(async () => {
        const state = readStackState(stackFiles(localHome()).state);
        if (state === undefined) throw new ConfigError('the local stack is not running here. Fix: run `ingest-replica local up` first.');
        const int = (name: string): number => {
          try {
            return parsers.positiveInt(String(flags[name] ?? ''));
          } catch (error) {
            throw new ConfigError(`invalid --${name} ${JSON.stringify(flags[name])}: ${(error as Error).message}`);
          }
        };
        const summary = await runSeed(state, {
          collections: int('collections'),
          records: int('records'),
          keys: int('keys'),
          regions: int('regions'),
          seed: String(flags.seed ?? 'ingest-replica'),
          fresh: flags.fresh === true,
        }, createLogger());
        console.log(summary);
      }),
    );
}

function stackOptions(flags: Record<string, string | boolean | undefined>): StackOptions {
  const port = (name: string): number => {
    const value = String(flags[name]);
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new ConfigError(`invalid --${name} ${JSON.stringify(value)}: must be a TCP port (1–65535)`);
    return n;
  };
  const heap = Number(flags.hbaseHeap);
  if (!Number.isInteger(heap) || heap < 256 || heap > 2048) throw new ConfigError(`invalid --hbase-heap ${JSON.stringify(flags.hbaseHeap)}: must be 256–2048 MiB`);
  if (flags.aws !== 'moto' && flags.aws !== 'localstack') throw new ConfigError(`invalid --aws ${JSON.stringify(flags.aws)}: must be moto or localstack`);
  return {
    aws: flags.aws,
    localstackPort: port('localstackPort'),
    home: localHome(),
    hbaseRestPort: port('hbaseRestPort'),
    hbaseAdminPort: port('hbaseAdminPort'),
    zkPort: port('zkPort'),
    awsPort: port('awsPort'),
    dksPort: port('dksPort'),
    awsRegion: process.env.AWS_REGION ?? 'eu-west-2',
    hbaseHeapMb: heap,
  };
}

function allUp(status: StackStatus): boolean {
  return Object.values(status.parts).every((p) => p.up);
}

function printStatus(status: StackStatus, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(status, null, 2));
    return;
  }
  const split = Object.entries(status.awsServiceEndpoints ?? {});
  const rows: [string, string, string][] = [
    ['hbase', status.hbaseRestUrl, describe(status.parts.hbase)],
    ['aws', `${status.awsEndpointUrl}${split.length > 0 ? ' (moto: every service not listed below)' : ''}`, describe(status.parts.aws)],
    ...(status.parts.localstack ? [['localstack', `${split[0]?.[1] ?? ''} (${split.map(([s]) => s).join(', ')})`, describe(status.parts.localstack)] as [string, string, string]] : []),
    ['dks', status.dksUrl, describe(status.parts.dks)],
  ];
  for (const [name, url, state] of rows) console.log(`${name.padEnd(10)} ${state.padEnd(22)} ${url}`);
}

function describe(part: StackStatus['parts']['hbase']): string {
  if (part === undefined || !part.up) return 'down';
  return part.pid === undefined ? 'up (not ours)' : `up (pid ${part.pid})`;
}
