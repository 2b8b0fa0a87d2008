import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrchestratorConfig } from '../../src/config/orchestrator-config.js';
import { projectRoot } from '../../src/shared/project-root.js';
import { launchPlanner, readTemplates, type RunJobFlowRequest } from '../../src/orchestrator/emr/index.js';
import { trigger, type TriggerPorts } from '../../src/orchestrator/trigger/index.js';
import { silentLogger } from '../../src/shared/logger.js';
import { ENGINE_CONF } from '../../src/spark/spark-submit-adapter.js';
import { LAUNCH_ENV } from '../support/launch-env.js';

/**
 * The replica cluster runs the step's Spark engine (DESIGN.md §3.8): what `trigger --dry-run` prints must show
 * Spark installed, the side-effecting task settings, and a REST server on every node bound to 127.0.0.1.
 */
const config = loadOrchestratorConfig({ env: LAUNCH_ENV });
const templates = readTemplates(join(projectRoot(), 'emr-config', 'cluster'));
const planner = launchPlanner(config, config.step, () => templates);

/** A dry run reads (the guards) but must write nothing: every port that writes fails the test if it is called. */
const untouchable = (name: string): never => { throw new Error(`a dry run used ${name}`); };
const dryRunPorts: TriggerPorts = {
  schedule: () => ({ allowed: true }),
  collections: (names) => Promise.resolve(names.map((name) => ({ name, db: 'core', table: name.split(':')[1] as string, pii: true }))),
  status: { transition: () => untouchable('status'), get: () => Promise.resolve(undefined), blockingRows: () => Promise.resolve([]) },
  statusTable: 'intraday-job-status',
  lock: {
    acquire: () => untouchable('lock'), renew: () => untouchable('lock'), recordLaunch: () => untouchable('lock'), release: () => untouchable('lock'),
    peek: () => Promise.resolve({ acquired: true }),
  },
  emr: { runJobFlow: () => untouchable('emr'), describeCluster: () => Promise.resolve(undefined), listClusters: () => Promise.resolve([]), terminate: () => untouchable('emr') },
  planner,
  alerts: { publish: () => untouchable('alerts') },
  clock: { now: () => Date.UTC(2026, 10, 25, 10, 30), sleep: () => Promise.resolve(), random: () => 0.5 },
  logger: silentLogger,
};

async function dryRunRequest(): Promise<RunJobFlowRequest> {
  const result = await trigger({ force: true, dryRun: true, waitMs: 0, collections: ['core:addresses'], correlationId: 'run-spark-1' }, dryRunPorts);
  if (result.outcome !== 'dry-run') throw new Error(`expected a dry run, got ${result.outcome}`);
  return result.request;
}

interface Configuration { Classification: string; Properties: Record<string, string> }
const classification = (request: RunJobFlowRequest, name: string): Record<string, string> => {
  const found = (request.Configurations as Configuration[]).find((c) => c.Classification === name);
  if (!found) throw new Error(`no ${name} classification in the launch request`);
  return found.Properties;
};
const installArgs = (request: RunJobFlowRequest): string[] => {
  const actions = request.BootstrapActions as { Name: string; ScriptBootstrapAction: { Args: string[] } }[];
  return actions.find((a) => a.Name === 'install-ingest-replica-and-start-hbase-rest')?.ScriptBootstrapAction.Args ?? [];
};

describe('the Spark replica cluster in trigger --dry-run', () => {
  it('installs Spark beside Hadoop, ZooKeeper and HBase', async () => {
    expect((await dryRunRequest()).Applications).toEqual([{ Name: 'Hadoop' }, { Name: 'ZooKeeper' }, { Name: 'HBase' }, { Name: 'Spark' }]);
  });

  it('sets spark-defaults for side-effecting tasks: no speculation, bounded task failures, one application attempt, one core per task', async () => {
    expect(classification(await dryRunRequest(), 'spark-defaults')).toMatchObject({
      'spark.speculation': 'false',
      'spark.task.maxFailures': '4',
      'spark.yarn.maxAppAttempts': '1',
      'spark.task.cpus': '1',
    });
  });

  it('agrees with the settings the step passes to every job (spark-submit --conf wins over spark-defaults)', async () => {
    const defaults = classification(await dryRunRequest(), 'spark-defaults');
    for (const key of ['spark.speculation', 'spark.task.maxFailures', 'spark.yarn.maxAppAttempts'] as const) {
      expect(defaults[key], key).toBe(ENGINE_CONF[key]);
    }
  });

  it('sizes the executor memory overhead for one Node worker per task (about 600 MiB each) plus the JVM\'s own 384 MiB', async () => {
    const defaults = classification(await dryRunRequest(), 'spark-defaults');
    const cores = Number(defaults['spark.executor.cores']);
    const overheadMiB = Number(/^(\d+)m$/.exec(defaults['spark.executor.memoryOverhead'] ?? '')?.[1]);
    expect(cores).toBeGreaterThanOrEqual(1);
    expect(overheadMiB).toBe(cores * 600 + 384);
    expect(defaults['spark.executor.memory']).toMatch(/^\d+[mg]$/);
  });

  it('keeps dynamic allocation (no shuffle to lose) with idle executors released', async () => {
    expect(classification(await dryRunRequest(), 'spark-defaults')).toMatchObject({
      'spark.dynamicAllocation.enabled': 'true',
      'spark.shuffle.service.enabled': 'true',
      'spark.dynamicAllocation.minExecutors': '0',
    });
  });

  it('lets YARN count cores, so a node never runs more Node workers than it has vCPUs', async () => {
    expect(classification(await dryRunRequest(), 'capacity-scheduler')).toEqual({
      'yarn.scheduler.capacity.resource-calculator': 'org.apache.hadoop.yarn.util.resource.DominantResourceCalculator',
    });
  });

  it('binds every node\'s HBase REST server (and its info UI) to 127.0.0.1', async () => {
    expect(classification(await dryRunRequest(), 'hbase-site')).toMatchObject({
      'hbase.rootdir': 's3://ingest-hbase/hbase', 'hbase.rest.host': '127.0.0.1', 'hbase.rest.info.bindAddress': '127.0.0.1',
    });
  });

  it('gives the install action the REST port and heap it starts the server with on every node', async () => {
    const args = installArgs(await dryRunRequest());
    expect(args.slice(args.indexOf('--rest-port'), args.indexOf('--rest-port') + 2)).toEqual(['--rest-port', '8080']);
    expect(args.slice(args.indexOf('--rest-heap'), args.indexOf('--rest-heap') + 2)).toEqual(['--rest-heap', '1g']);
    expect(args).not.toContain('--no-rest');
  });

  it('is the request a launch sends (the dry run prints the planner\'s request)', async () => {
    const { request } = planner.incremental({ correlationId: 'run-spark-1', triggeredTime: Date.UTC(2026, 10, 25, 10, 30), endTime: Date.UTC(2026, 10, 25, 10, 30), collections: ['core:addresses'] });
    expect(await dryRunRequest()).toEqual(request);
  });
});
