import { readFileSync } from 'node:fs';
import { collectionFromName } from '../../collections/index.js';
import { HBaseRestSource } from '../../hbase/rest-adapter.js';
import { DksKeyService } from '../../keys/dks-adapter.js';
import type { Logger } from '../../shared/logger.js';
import { ensureLocalAwsResources } from '../aws-resources.js';
import { HBaseAdmin } from '../hbase-process.js';
import type { StackState } from '../stack-state.js';
import { DEFAULT_SEED_FROM, DEFAULT_SEED_UNTIL, seededCollectionNames } from './collections.js';
import { resetLocalCollection } from './reset.js';
import { seedCollection, type SeedCollectionResult, type SeedPorts } from './seed.js';

export { LOCAL_AWS_NAMES } from '../local-aws-names.js';
import { LOCAL_AWS_NAMES } from '../local-aws-names.js';

export interface SeedOptions {
  readonly collections: number;
  readonly records: number;
  readonly keys: number;
  readonly regions: number;
  readonly seed: string;
  /** Forget the collections first: drop their tables, status rows and published output. */
  readonly fresh?: boolean;
  readonly from?: number;
  readonly until?: number;
}

/** Builds the seeder's ports on the local stack. */
export function localSeedPorts(state: StackState): SeedPorts & { close(): Promise<void> } {
  const admin = new HBaseAdmin(state.hbaseAdminUrl);
  const hbase = new HBaseRestSource({ url: state.hbaseRestUrl });
  const dks = new DksKeyService({
    url: state.dksUrl,
    caCert: readFileSync(state.dksCaCert),
    clientCert: readFileSync(state.dksClientCert),
    clientKey: readFileSync(state.dksClientKey),
  });
  return {
    createTable: (name, options) => admin.createTable(name, options),
    putCells: (table, cells) => hbase.putCells(table, cells),
    generateKey: (correlationId) => dks.generate(correlationId),
    close: async () => {
      await Promise.all([hbase.close(), dks.close()]);
    },
  };
}

export async function runSeed(state: StackState, options: SeedOptions, logger: Logger): Promise<string> {
  const started = Date.now();
  const names = seededCollectionNames(options.collections);
  const collections = names.map((name) => collectionFromName(name, true));
  const aws = await ensureLocalAwsResources({
    endpoint: state.awsEndpointUrl,
    serviceEndpoints: state.awsServiceEndpoints,
    region: state.awsRegion,
    ...LOCAL_AWS_NAMES,
    collections,
  });
  if (options.fresh === true) {
    for (const collection of names) {
      await resetLocalCollection(state, { collection, statusTable: LOCAL_AWS_NAMES.statusTable, bucket: LOCAL_AWS_NAMES.bucket, outputPrefix: 'incremental' });
    }
  }
  const ports = localSeedPorts(state);
  const results: SeedCollectionResult[] = [];
  try {
    for (const name of names) {
      results.push(await seedCollection(ports, {
        collection: name,
        space: { seed: options.seed, collection: name, from: options.from ?? DEFAULT_SEED_FROM, until: options.until ?? DEFAULT_SEED_UNTIL },
        records: options.records,
        keys: options.keys,
        regions: options.regions,
      }, logger));
    }
  } finally {
    await ports.close();
  }
  const seconds = (Date.now() - started) / 1000;
  const cells = results.reduce((n, r) => n + r.cells, 0);
  const lines = [
    `seeded ${results.length} collections in ${seconds.toFixed(1)} s (${Math.round(cells / seconds)} cells/s), seed ${JSON.stringify(options.seed)}`,
    ...results.map((r) => `  ${r.collection.padEnd(30)} ${String(r.records).padStart(8)} records ${String(r.cells).padStart(8)} cells ${String(r.keys).padStart(4)} data keys  ${new Date(r.minTimestamp).toISOString()} … ${new Date(r.maxTimestamp).toISOString()}`),
    `  status table ${LOCAL_AWS_NAMES.statusTable}, collections secret ${LOCAL_AWS_NAMES.collectionsSecretId}, bucket s3://${LOCAL_AWS_NAMES.bucket}, KMS ${aws.kmsKeyArn}`,
  ];
  return lines.join('\n');
}
