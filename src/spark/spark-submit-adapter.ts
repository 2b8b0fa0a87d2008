import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { toError } from '../shared/errors.js';
import { writeForwardedLogLine, type Logger } from '../shared/logger.js';
import { SparkJobError } from '../step/errors.js';
import type { RangeResult } from '../step/range-task.js';
import type { SparkJob, SparkJobs, SparkProgress } from '../step/spark-engine.js';

/**
 * Spark jobs through `spark-submit` (client mode: the driver runs beside the step, on EMR's master node).
 * The plan goes to a private temporary folder (ranges and settings only: no data, no keys); the driver
 * (spark/driver.py) writes the winners' results there. spark-submit is started with PR_SET_PDEATHSIG (it dies
 * if the step dies) in its own process group, which an abort or the step's exit kills.
 */
export interface SparkSubmitOptions {
  readonly sparkHome: string;
  readonly master: string;
  readonly python: string;
  /** Settings for every job, after the engine's own (speculation off, bounded task failures). */
  readonly conf: Readonly<Record<string, string>>;
  /** spark/driver.py. */
  readonly driver: string;
  /** Spark's log4j2 settings for local masters (spark/log4j2.properties); EMR's own apply on YARN. */
  readonly localLog4j?: string;
  /** What each task runs (the Node worker) and the settings it gets on stdin. */
  readonly worker: { readonly command: readonly string[]; readonly config: unknown; readonly env?: Readonly<Record<string, string>> };
  readonly env?: NodeJS.ProcessEnv;
  /** How long an aborted job gets between SIGTERM and SIGKILL (default 5 s). */
  readonly killGraceMs?: number;
  /** Where spark-submit's output lines go (default: the step log, as JSON lines, see `stepLogLine`). */
  readonly output?: (line: string) => void;
}

/** What a side-effecting job needs whatever the cluster says (DESIGN.md §3.8; EMR's spark-defaults say it too). */
export const ENGINE_CONF: Readonly<Record<string, string>> = {
  'spark.speculation': 'false',
  'spark.task.maxFailures': '4',
  'spark.yarn.maxAppAttempts': '1',
  'spark.ui.showConsoleProgress': 'false',
};

export class SparkSubmitJobs implements SparkJobs {
  constructor(private readonly options: SparkSubmitOptions) {}

  async run(job: SparkJob, signal: AbortSignal, logger: Logger, onProgress?: (progress: SparkProgress) => void): Promise<RangeResult[]> {
    const dir = await mkdtemp(join(tmpdir(), 'ingest-replica-spark-'));
    try {
      const plan = join(dir, 'plan.json');
      const results = join(dir, 'results.json');
      await writeFile(plan, JSON.stringify({ name: job.name, worker: this.options.worker, tasks: job.tasks }), { mode: 0o600 });
      const started = Date.now();
      const exit = await this.submit(job, [plan, results], signal, logger, onProgress);
      if (signal.aborted) throw new SparkJobError('the Spark job was cancelled', { context: { job: job.name }, cause: signal.reason });
      const answer = await readFile(results, 'utf8').then((t) => JSON.parse(t) as unknown, () => undefined);
      if (exit.code === 0 && Array.isArray(answer)) {
        logger.info({ job: job.name, tasks: job.tasks.length, durationMs: Date.now() - started }, 'spark job finished');
        return answer as RangeResult[];
      }
      const reason = typeof (answer as { error?: unknown })?.error === 'string' ? (answer as { error: string }).error : undefined;
      throw new SparkJobError(reason ? `the Spark job failed: ${reason}` : `spark-submit ${exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`}; its last lines: ${exit.tail.join(' | ')}`, {
        context: { job: job.name, master: this.options.master, exitCode: exit.code ?? undefined },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private submit(job: SparkJob, args: readonly string[], signal: AbortSignal, logger: Logger, onProgress?: (progress: SparkProgress) => void): Promise<{ code: number | null; signal: string | null; tail: string[] }> {
    const { sparkHome, master, python } = this.options;
    const conf = { ...ENGINE_CONF, ...this.localConf(), ...this.options.conf };
    const command = [
      '--pdeathsig', 'KILL', '--', join(sparkHome, 'bin', 'spark-submit'),
      '--master', master, '--deploy-mode', 'client', '--name', job.name,
      ...Object.entries(conf).flatMap(([k, v]) => ['--conf', `${k}=${v}`]),
      this.options.driver, ...args,
    ];
    const env = { ...(this.options.env ?? process.env), SPARK_HOME: sparkHome, PYSPARK_PYTHON: python, PYSPARK_DRIVER_PYTHON: python };
    logger.info({ job: job.name, master, tasks: job.tasks.length }, 'spark job submitted');
    const child = spawn('setpriv', command, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = this.options.output ?? ((line: string) => stepLogLine(line, logger));
    const tail: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        const progress = sparkProgressOf(line);
        if (progress !== undefined) {
          onProgress?.(progress);
          return;
        }
        output(line);
        tail.push(line);
        if (tail.length > 5) tail.shift();
      });
    }
    const killGroup = (sig: NodeJS.Signals): void => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch { /* already gone */ }
    };
    const onExit = (): void => killGroup('SIGKILL');
    process.once('exit', onExit);
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      logger.warn({ job: job.name, reason: toError(signal.reason).message }, 'cancelling the Spark job');
      killGroup('SIGTERM');
      timer = setTimeout(() => killGroup('SIGKILL'), this.options.killGraceMs ?? 5000);
      timer.unref();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    return new Promise((resolve, reject) => {
      child.once('error', (e) => reject(new SparkJobError('could not start spark-submit', { context: { sparkHome }, cause: e })));
      child.once('close', (code, sig) => {
        signal.removeEventListener('abort', onAbort);
        process.removeListener('exit', onExit);
        if (timer) clearTimeout(timer);
        // Nothing of the job outlives it (the driver's own children included).
        killGroup('SIGKILL');
        resolve({ code, signal: sig, tail });
      });
    });
  }

  private localConf(): Record<string, string> {
    const log4j = this.options.localLog4j;
    return log4j && this.options.master.startsWith('local') ? { 'spark.driver.extraJavaOptions': `-Dlog4j2.configurationFile=file:${log4j}` } : {};
  }
}

const WORKER_LINE = /^\[ingest-replica range \d+ attempt \d+\] (\{.*\})$/;
const PROGRESS_LINE = /^\[ingest-replica progress\] (\{.*\})$/;

/** The driver's progress line (spark/driver.py, `report_progress`), or undefined for any other line. */
export function sparkProgressOf(line: string): SparkProgress | undefined {
  const match = PROGRESS_LINE.exec(line);
  if (!match) return undefined;
  try {
    const { tasksDone, tasks, records } = JSON.parse(match[1]!) as Record<string, unknown>;
    const count = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
    return count(tasksDone) && count(tasks) && count(records) ? { tasksDone, tasks, records } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The step log stays JSON lines: a worker's log line (forwarded by the driver with its range and attempt, and
 * already naming both) passes through as it was written; Spark's own lines become log records of ours.
 */
export function stepLogLine(line: string, logger: Logger): void {
  const worker = WORKER_LINE.exec(line);
  if (worker) {
    writeForwardedLogLine(worker[1]!);
    return;
  }
  if (line.trim() === '') return;
  const level = /\b(ERROR|FATAL)\b|Traceback|Error:/.test(line) ? 'error' : /\bWARN\b/.test(line) ? 'warn' : 'info';
  logger[level]({ source: 'spark' }, line);
}
