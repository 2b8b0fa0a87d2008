import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../../src/shared/project-root.js';

/**
 * The built CLI (`dist/`, as `make test` builds it) as a child process, with a clean environment: only what a
 * test passes, plus PATH and HOME. Output is captured whole; the child can be signalled while it runs.
 */
export const CLI = join(projectRoot(), 'dist', 'src', 'cli', 'main.js');

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface CliOptions {
  readonly env?: Record<string, string>;
  readonly cwd?: string;
  /** Called with the child as soon as it is spawned (to signal it later). */
  readonly started?: (child: ChildProcess) => void;
  /** Called for each complete stderr line while the child runs. */
  readonly onStderrLine?: (line: string, child: ChildProcess) => void;
  /** SIGKILL after this long (a hung child must not hang the suite). Default 120 s. */
  readonly timeoutMs?: number;
}

export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`make build\` (make test does) before the reliability suite`);
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? projectRoot(),
    // The in-process engine unless the test asks for spark (the CLI's default, as on EMR).
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', LOG_LEVEL: 'info', INGEST_ENGINE: 'single', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  options.started?.(child);
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (!options.onStderrLine) return;
    partial += d;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) options.onStderrLine(line, child);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** The `run` command's arguments for one scheduled run. */
export function runArgs(correlationId: string, triggeredTime: number, collections: readonly string[]): string[] {
  return ['run', '--correlation-id', correlationId, '--triggered-time', String(triggeredTime), '--end-time', String(triggeredTime), '--collections', collections.join(',')];
}
