import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { collectionFromName } from '../collections/index.js';
import { jobFlowFile } from '../config/emr-node.js';
import { ConfigError } from '../shared/errors.js';
import { createLogger, type Logger } from '../shared/logger.js';
import { parseInstant } from '../shared/time.js';
import { collectionDdl, DDL_STATEMENTS, ddlStatements, type DdlStatement } from '../step/ddl.js';
import { noteUnconfigured, summaryFields, summaryTable } from '../step/report.js';
import type { ScanProgress } from '../step/collection-run.js';
import { reprocess } from '../step/reprocess.js';
import { runStep, type CollectionSummary } from '../step/run-step.js';
import { buildStepGraph } from '../wiring/step-graph.js';
import { runCommand } from './command.js';
import { terminalProgress } from './progress-display.js';
import { stepConfigFrom, withSettings } from './settings-flags.js';

/** `run` (the EMR step), `reprocess` (ad hoc, one collection) and `ddl` (Athena/Hive). */
export function registerStepCommands(program: Command): void {
  withSettings(
    program
      .command('run')
      .description('the EMR step: each collection on its own window since its watermark → Parquet on S3 → job status')
      .requiredOption('--correlation-id <id>', 'the run\'s correlation id (status rows are keyed by it)')
      .requiredOption('--triggered-time <ms>', 'when the run was triggered, epoch ms or ISO-8601 (names the output folder)')
      .requiredOption('--end-time <ms>', 'end of the window before the visibility lag, epoch ms or ISO-8601')
      .requiredOption('--collections <ns:table...>', 'collections to process (need not be in the collections secret)'),
  ).action((flags: Record<string, unknown>) =>
    runCommand(async () => {
      const config = stepConfigFrom(flags);
      const correlationId = String(flags.correlationId);
      if (!/^[A-Za-z0-9._:-]{1,128}$/.test(correlationId)) throw new ConfigError(`invalid --correlation-id ${JSON.stringify(correlationId)}: use 1–128 letters, digits, '.', '_', ':' or '-'`);
      const triggeredTime = instant(flags.triggeredTime, '--triggered-time');
      const endTime = instant(flags.endTime, '--end-time');
      const logger = createLogger();
      const graph = buildStepGraph(config, logger);
      const controller = stopOnSignals(logger);
      const progress = terminalProgress();
      try {
        const collections = await graph.collections((flags.collections as string[]).flatMap((c) => c.split(',')).filter(Boolean));
        const summaries = await runStep(graph.portsFor, {
          correlationId,
          triggeredTime,
          endTime,
          collections,
          concurrency: config.concurrency,
          scanConcurrency: config.scanConcurrency,
          visibilityLagMs: config.visibilityLagMs,
          maxQuarantined: config.maxQuarantined,
          maxRecordBytes: config.maxRecordBytes,
          outputPrefix: config.outputPrefix,
          lease: { leaseMs: config.leaseMs, waitMs: config.leaseWaitMs },
          ...emrCluster(),
          signal: controller.signal,
          logger,
          ...(progress ? { onProgress: (name: string, p: ScanProgress) => (p.done >= 1 ? progress.display.finish(name) : progress.display.update(name, p)) } : {}),
        });
        progress?.stop();
        report(noteUnconfigured(summaries, collections), logger);
        // A deferred collection is not a failure: another runner has it, and the next run takes it up.
        return summaries.some((s) => s.outcome === 'failed') || controller.signal.aborted ? 1 : 0;
      } finally {
        progress?.stop();
        await graph.close();
      }
    }),
  );

  withSettings(
    program
      .command('reprocess')
      .description('reprocess one collection for a time range under its own prefix; never moves the watermark')
      .argument('<collection>', 'ns:table')
      .requiredOption('--from <time>', 'window start (inclusive), ISO-8601 or epoch ms')
      .requiredOption('--to <time>', 'window end (exclusive), ISO-8601 or epoch ms')
      .option('--output-prefix <prefix>', 'key prefix for this reprocessing', 'reprocess'),
  ).action((name: string, flags: Record<string, unknown>) =>
    runCommand(async () => {
      const config = stepConfigFrom({ ...flags, outputPrefix: undefined });
      const from = instant(flags.from, '--from');
      const to = instant(flags.to, '--to');
      if (to <= from) throw new ConfigError(`--to (${new Date(to).toISOString()}) must be after --from (${new Date(from).toISOString()})`);
      const logger = createLogger();
      const graph = buildStepGraph(config, logger);
      const controller = stopOnSignals(logger);
      const progress = terminalProgress();
      try {
        const [collection] = await graph.collections([collectionFromName(name).name]);
        if (collection === undefined) throw new ConfigError(`unknown collection ${name}`);
        const summary = await reprocess(graph.portsFor(collection), {
          collection,
          window: { start: from, end: to },
          outputPrefix: String(flags.outputPrefix ?? 'reprocess').replace(/^\/+|\/+$/g, ''),
          scanConcurrency: config.scanConcurrency,
          maxQuarantined: config.maxQuarantined,
          maxRecordBytes: config.maxRecordBytes,
          signal: controller.signal,
          logger,
          ...(progress ? { onProgress: (p: ScanProgress) => progress.display.update(collection.name, p) } : {}),
        });
        progress?.stop();
        report(noteUnconfigured([summary], [collection]), logger);
        return 0;
      } finally {
        progress?.stop();
        await graph.close();
      }
    }),
  );

  withSettings(
    program
      .command('ddl')
      .description('print the Athena statements for a collection\'s output: database, external table (partitioned by run) and `latest` view, one block each, runnable as printed')
      .argument('<collection>', 'ns:table')
      .option('--database <name>', 'Athena/Glue database (default: the glue database setting, ingest_replica)')
      .option('--reprocess', 'the table of `reprocess` output (<db>_<table>_reprocess, under the reprocess prefix) instead of the scheduled runs\'')
      .option('--reprocess-prefix <prefix>', 'with --reprocess: the prefix reprocess wrote under', 'reprocess')
      .option('--statement <which>', `print only one statement, without comments (${DDL_STATEMENTS.join(', ')}), e.g. for aws athena start-query-execution`),
  ).action((name: string, flags: Record<string, unknown>) =>
    runCommand(async () => {
      const config = stepConfigFrom(flags, false);
      const reprocess = flags.reprocess === true;
      const options = {
        bucket: config.outputBucket,
        prefix: reprocess ? String(flags.reprocessPrefix).replace(/^\/+|\/+$/g, '') : config.outputPrefix,
        database: typeof flags.database === 'string' ? flags.database : config.glueDatabase,
        kind: reprocess ? 'reprocess' as const : 'incremental' as const,
      };
      const collection = collectionFromName(name);
      if (flags.statement === undefined) {
        console.log(collectionDdl(collection, options));
        return;
      }
      const which = String(flags.statement) as DdlStatement;
      if (!DDL_STATEMENTS.includes(which)) throw new ConfigError(`invalid --statement ${JSON.stringify(flags.statement)}: give one of ${DDL_STATEMENTS.join(', ')}`);
      console.log(ddlStatements(collection, options)[which]);
    }),
  );
}

function instant(value: unknown, flag: string): number {
  const ms = typeof value === 'string' ? parseInstant(value) : undefined;
  if (ms === undefined) throw new ConfigError(`invalid ${flag} ${JSON.stringify(value)}: give epoch milliseconds or an ISO-8601 instant such as 2026-11-25T10:30:00Z`);
  return ms;
}

/** On EMR the cluster id is in the job-flow file; locally there is none. */
function emrCluster(): { emr?: { clusterId: string; readyTime: number } } {
  const file = jobFlowFile(process.env);
  const fromEnv = process.env.EMR_CLUSTER_ID;
  if (fromEnv) return { emr: { clusterId: fromEnv, readyTime: Date.now() } };
  if (!existsSync(file)) return {};
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { jobFlowId?: string };
  return parsed.jobFlowId ? { emr: { clusterId: parsed.jobFlowId, readyTime: Date.now() } } : {};
}

/** SIGTERM/SIGINT: stop scanning, abort uploads, mark status, exit non-zero. */
function stopOnSignals(logger: Logger): AbortController {
  const controller = new AbortController();
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      logger.warn({ signal }, 'stopping: in-flight work is aborted and statuses are marked');
      controller.abort(new Error(`stopped by ${signal}`));
    });
  }
  return controller;
}

function report(summaries: readonly CollectionSummary[], logger: Logger): void {
  for (const s of summaries) logger.info(summaryFields(s), 'collection summary');
  if (process.stdout.isTTY) console.log(`\n${summaryTable(summaries)}`);
  else for (const s of summaries) console.log(JSON.stringify(summaryFields(s)));
}
