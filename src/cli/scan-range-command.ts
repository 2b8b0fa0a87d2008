import type { Command } from 'commander';
import { text } from 'node:stream/consumers';
import type { StepConfig } from '../config/step-config.js';
import { ConfigError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { runRangeTask, type RangeTask, type TaskAttempt } from '../step/range-task.js';
import { buildStepGraph } from '../wiring/step-graph.js';
import { runCommand } from './command.js';

/**
 * `scan-range`: the Node worker of one Spark task (spark/driver.py runs it). Reads `{config, task, attempt}`
 * as JSON on stdin, stages the range's parts, prints one JSON result line on stdout; logs go to stderr, which
 * the driver forwards into the task's log. Exit 0 only with a result.
 */
export function registerScanRangeCommand(program: Command): void {
  program
    .command('scan-range')
    .description('the worker of one Spark task: JSON task on stdin → staged Parquet parts → one JSON result on stdout (run by the spark engine)')
    .action(() =>
      runCommand(async () => {
        const input = parseInput(await text(process.stdin));
        armTestCrash(input.task, input.attempt);
        const logger = createLogger();
        const graph = buildStepGraph(input.config, logger);
        const controller = new AbortController();
        process.once('SIGTERM', () => controller.abort(new Error('stopped by SIGTERM')));
        try {
          const ports = graph.portsFor(input.task.collection);
          const result = await runRangeTask(ports, input.task, input.attempt, logger, controller.signal);
          process.stdout.write(`${JSON.stringify(result)}\n`);
          logger.info({ collection: input.task.collection, range: input.task.range.index, attempt: input.attempt.attemptNumber, ...workerUsage() }, 'range worker finished');
          return 0;
        } finally {
          await graph.close();
        }
      }),
    );
}

/** The worker's own CPU and peak memory, for the step log (and `make bench`'s Spark figures). */
function workerUsage(): { cpuMs: number; maxRssMiB: number } {
  const usage = process.resourceUsage();
  return { cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000), maxRssMiB: Math.round(usage.maxRSS / 1024) };
}

interface WorkerInput {
  readonly config: StepConfig;
  readonly task: RangeTask;
  readonly attempt: TaskAttempt;
}

function parseInput(body: string): WorkerInput {
  let parsed: Partial<WorkerInput>;
  try {
    parsed = JSON.parse(body) as Partial<WorkerInput>;
  } catch (error) {
    throw new ConfigError(`scan-range reads one JSON object {config, task, attempt} on stdin: ${(error as Error).message}`);
  }
  const { config, task, attempt } = parsed;
  if (!config || !task?.range || !task.collection || typeof attempt?.attemptNumber !== 'number' || typeof attempt.taskAttemptId !== 'number') {
    throw new ConfigError('scan-range input lacks config, task (with range and collection) or attempt {attemptNumber, taskAttemptId}');
  }
  return { config: { ...config, engine: 'single' }, task, attempt };
}

/**
 * Test hook: INGEST_REPLICA_CRASH_AT arms the crash points only in the ranges listed in
 * INGEST_REPLICA_CRASH_RANGES and the attempts in INGEST_REPLICA_CRASH_ATTEMPTS (comma-separated; unset = all).
 */
function armTestCrash(task: RangeTask, attempt: TaskAttempt): void {
  const listed = (name: string, value: number): boolean => {
    const list = process.env[name];
    return list === undefined || list.split(',').map(Number).includes(value);
  };
  if (!listed('INGEST_REPLICA_CRASH_RANGES', task.range.index) || !listed('INGEST_REPLICA_CRASH_ATTEMPTS', attempt.attemptNumber)) {
    delete process.env.INGEST_REPLICA_CRASH_AT;
  }
}
