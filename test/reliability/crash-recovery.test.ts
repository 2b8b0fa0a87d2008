import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultProxy, type ProxiedRequest, type ProxyRule } from '../support/faults.js';
import { listKeys, publishedFolders } from '../support/published-output.js';
import { seedLocal, uniqueCollection } from '../support/local-stack.js';
import { runArgs, runCli } from './support/cli.js';
import {
  configFor, dropTable, envFor, expectedRows, expireLeases, forgetStatus, openUploads, s3Of, space, stack, statusOf, uniquePrefix,
} from './support/stack.js';

/**
 * Issue 6 §4: the step killed with SIGKILL at 30 points spread over scan, upload, manifest and status
 * update, then rerun with the same correlation id. Each point is hit deterministically: a named crash point
 * (INGEST_REPLICA_CRASH_AT / _HIT, src/shared/crash-points.ts), or a proxy that kills the step while one
 * of its requests is in flight (before or after the request took effect), or a measured time.
 */
const collections = [uniqueCollection('relcrasha'), uniqueCollection('relcrashb'), uniqueCollection('relcrashc')];
const RECORDS = 150;
const truth = new Map(collections.map((c) => [c, expectedRows(c, RECORDS)]));
let aws: FaultProxy;
let hbase: FaultProxy;
let child: ChildProcess | undefined;
let baselineMs = 0;

type Phase = 'start' | 'scan' | 'upload' | 'manifest' | 'status';
interface Scenario {
  readonly name: string;
  readonly phase: Phase;
  readonly crashAt?: readonly [point: string, hit: number];
  /** Kills the step from the AWS (moto) or HBase proxy when one of its requests is in flight. */
  readonly aws?: ProxyRule;
  readonly hbase?: ProxyRule;
  /** Kills the step at this fraction of a clean run's duration. */
  readonly atFraction?: number;
}

const kill = (): void => {
  child?.kill('SIGKILL');
};
/** The first request matching `match` kills the step: before it reaches the origin, or after it took effect. */
function killOn(match: (r: ProxiedRequest) => boolean, effect: 'lost' | 'applied'): ProxyRule {
  let fired = false;
  return (r) => {
    if (fired || !match(r)) return 'forward';
    fired = true;
    if (effect === 'lost') {
      kill();
      return 'drop';
    }
    return { then: kill };
  };
}
const scannerRead = (r: ProxiedRequest): boolean => r.method === 'GET' && /\/scanner\/[^/?]+/.test(r.path);
const partPut = (r: ProxiedRequest): boolean => r.method === 'PUT' && /\/part-[0-9a-f]+-\d+\.parquet/.test(r.path);
const manifestPut = (r: ProxiedRequest): boolean => r.method === 'PUT' && r.path.includes('/_manifest.json');
const statusUpdate = (status: 'EMR_PROCESSING' | 'EMR_COMPLETED') => (r: ProxiedRequest): boolean =>
  String(r.headers['x-amz-target'] ?? '').endsWith('.UpdateItem')
  // Only the move to EMR_PROCESSING may start from EMR_LAUNCHED; only the completion names EMR_COMPLETED.
  && r.body.includes(status === 'EMR_COMPLETED' ? '"EMR_COMPLETED"' : '"EMR_LAUNCHED"');

const named = (phase: Phase, point: string, hits: readonly number[]): Scenario[] =>
  hits.map((hit) => ({ name: `${point} #${hit}`, phase, crashAt: [point, hit] as const }));

const SCENARIOS: Scenario[] = [
  { name: 'while the process starts', phase: 'start', atFraction: 0.15 },
  ...named('scan', 'after-status-processing', [1, 3]),
  { name: 'scanner read in flight', phase: 'scan', hbase: killOn(scannerRead, 'lost') },
  { name: 'scanner read answered, answer lost', phase: 'scan', hbase: killOn(scannerRead, 'applied') },
  ...named('scan', 'after-scan-batch', [1, 4, 8]),
  { name: 'part upload in flight', phase: 'upload', aws: killOn(partPut, 'lost') },
  { name: 'part uploaded, answer lost', phase: 'upload', aws: killOn(partPut, 'applied') },
  ...named('upload', 'after-part-upload', [1, 2, 3]),
  ...named('manifest', 'before-manifest', [1, 3]),
  ...named('manifest', 'after-pending-manifest', [1]),
  ...named('manifest', 'after-publication-claim', [1]),
  { name: 'manifest upload in flight', phase: 'manifest', aws: killOn(manifestPut, 'lost') },
  { name: 'manifest uploaded, answer lost', phase: 'manifest', aws: killOn(manifestPut, 'applied') },
  ...named('manifest', 'after-manifest-put', [1, 2]),
  { name: 'EMR_PROCESSING written, answer lost', phase: 'status', aws: killOn(statusUpdate('EMR_PROCESSING'), 'applied') },
  ...named('status', 'after-manifest', [1, 3]),
  { name: 'EMR_COMPLETED update in flight', phase: 'status', aws: killOn(statusUpdate('EMR_COMPLETED'), 'lost') },
  { name: 'EMR_COMPLETED written, answer lost', phase: 'status', aws: killOn(statusUpdate('EMR_COMPLETED'), 'applied') },
  ...named('status', 'after-status-completed', [1, 2, 3]),
  ...[0.4, 0.6, 0.8, 0.95].map((f) => ({ name: `at ${Math.round(f * 100)}% of a clean run`, phase: 'scan' as const, atFraction: f })),
];

beforeAll(async () => {
  aws = new FaultProxy(stack.awsEndpointUrl);
  hbase = new FaultProxy(stack.hbaseRestUrl);
  await Promise.all([aws.up(), hbase.up()]);
  await Promise.all(collections.map((c) => seedLocal({ collection: c, space: space(c), records: RECORDS, keys: 2, regions: 2 })));
  // A clean run, through the same proxies, to know how long one takes.
  const prefix = uniquePrefix('crash-baseline');
  const clean = await runCli(runArgs('rel-crash-baseline', Date.now(), collections), { env: envFor(prefix, { awsEndpointUrl: aws.url, hbaseRestUrl: hbase.url }) });
  expect(clean.code, clean.stderr).toBe(0);
  baselineMs = clean.ms;
}, 180_000);

afterAll(async () => {
  await Promise.all([aws?.close(), hbase?.close()]);
  await Promise.all(collections.map(dropTable));
});

/** What readers trust under the prefix is right: each published folder is whole, and a completed status has its folder. */
async function expectConsistent(prefix: string, correlationId: string, mustBeComplete: boolean): Promise<void> {
  const config = configFor(prefix);
  const s3 = s3Of(config);
  const status = statusOf(config);
  const folders = await publishedFolders(s3, config.outputBucket, prefix);
  const keys = new Set(await listKeys(s3, config.outputBucket, prefix));
  for (const collection of collections) {
    const expected = truth.get(collection)!;
    const mine = folders.filter((f) => f.manifest.collection === collection);
    expect(mine.length, `${collection}: published folders`).toBeLessThanOrEqual(1);
    const ids = mine.flatMap((f) => f.rows.map((r) => r.id as string));
    // Either nothing readers trust, or every record exactly once: never a partial run.
    if (ids.length > 0 || mustBeComplete) {
      expect(ids.length, `${collection}: rows published`).toBe(expected.size);
      expect(new Set(ids)).toEqual(new Set(expected.keys()));
    }
    const row = await status.get(correlationId, collection);
    const watermark = await status.lastCompletedEnd(collection);
    if (row?.status === 'EMR_COMPLETED' || mustBeComplete) {
      // The watermark moved only with a published run, and exactly to its newest record.
      expect(row?.status, `${collection}: status`).toBe('EMR_COMPLETED');
      expect(mine, `${collection}: a completed status has its published folder`).toHaveLength(1);
      expect(watermark).toBe(Math.max(...[...expected.values()].map((r) => r.timestamp)));
    } else {
      expect(watermark, `${collection}: no watermark without completion`).toBeUndefined();
    }
  }
  if (mustBeComplete) {
    for (const folder of folders) {
      // After the rerun each folder is exactly what a clean run writes: listed parts, manifest, _SUCCESS.
      const inFolder = [...keys].filter((k) => k.startsWith(`${folder.manifest.folder}/`)).sort();
      const listed = [...folder.manifest.files.map((f) => f.key), `${folder.manifest.folder}/_manifest.json`, `${folder.manifest.folder}/_SUCCESS`].sort();
      expect(inFolder).toEqual(listed);
    }
    expect([...keys].every((k) => folders.some((f) => k.startsWith(`${f.manifest.folder}/`))), 'no objects outside published folders').toBe(true);
    expect(await openUploads(s3, config.outputBucket, prefix)).toEqual([]);
  }
}

describe('the step killed with SIGKILL, then rerun with the same correlation id', () => {
  const crashed: string[] = [];

  it('has at least 20 crash points spread over scan, upload, manifest and status update', () => {
    expect(SCENARIOS.length).toBeGreaterThanOrEqual(20);
    for (const phase of ['scan', 'upload', 'manifest', 'status'] as const) expect(SCENARIOS.filter((s) => s.phase === phase).length).toBeGreaterThanOrEqual(4);
  });

  for (const [n, scenario] of SCENARIOS.entries()) {
    it(`${scenario.phase}: ${scenario.name} → every record published exactly once, watermark consistent`, async () => {
      const prefix = uniquePrefix(`crash${n}`);
      const correlationId = `rel-crash-${n}`;
      const triggeredTime = Date.now();
      await Promise.all(collections.map((c) => forgetStatus(configFor(prefix), c)));
      aws.clearRules();
      hbase.clearRules();
      if (scenario.aws) aws.use(scenario.aws);
      if (scenario.hbase) hbase.use(scenario.hbase);
      const env = {
        ...envFor(prefix, { awsEndpointUrl: aws.url, hbaseRestUrl: hbase.url }),
        ...(scenario.crashAt ? { INGEST_REPLICA_CRASH_AT: scenario.crashAt[0], INGEST_REPLICA_CRASH_HIT: String(scenario.crashAt[1]) } : {}),
      };
      let timer: NodeJS.Timeout | undefined;
      const first = await runCli(runArgs(correlationId, triggeredTime, collections), {
        env,
        started: (c) => {
          child = c;
          if (scenario.atFraction !== undefined) timer = setTimeout(kill, Math.round(baselineMs * scenario.atFraction));
        },
      });
      clearTimeout(timer);
      aws.clearRules();
      hbase.clearRules();
      if (scenario.atFraction === undefined) expect(first.signal, first.stderr.slice(-2000)).toBe('SIGKILL');
      if (first.signal === 'SIGKILL') crashed.push(scenario.name);
      await expectConsistent(prefix, correlationId, first.code === 0);
      await expireLeases(configFor(prefix), collections);

      const rerun = await runCli(runArgs(correlationId, triggeredTime, collections), { env: envFor(prefix, { awsEndpointUrl: aws.url, hbaseRestUrl: hbase.url }) });
      expect(rerun.code, rerun.stderr.slice(-2000)).toBe(0);
      await expectConsistent(prefix, correlationId, true);
    });
  }

  it('killed the step in at least 20 of them', () => {
    expect(crashed.length).toBeGreaterThanOrEqual(20);
  });
});
