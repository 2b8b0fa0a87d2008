import { readdirSync, readFileSync } from 'node:fs';
import { loadStepConfig, type StepConfig } from '../../src/config/step-config.js';
import { localHome } from '../../src/local/paths.js';
import { localStack } from './local-stack.js';

/**
 * The spark engine on the local stack: the project's pyspark (make py), `local[2,4]` unless a test names
 * another master. Small task counts: each task costs a Node worker's start-up.
 */
export function sparkConfig(flags: Record<string, string> = {}): StepConfig {
  return loadStepConfig({
    local: localStack(), localHome: localHome(), env: {},
    flags: { engine: 'spark', sparkExecutorCores: '2', sparkTasksPerCore: '2', ...flags },
  });
}

export interface MarkedProcess {
  readonly pid: number;
  readonly command: string;
  /** A worker's range and Spark attempt (spark/driver.py sets them in its environment). */
  readonly range?: number;
  readonly attempt?: number;
}

/** Processes whose environment holds INGEST_TEST_MARK=<mark>: everything a test's job started, however deep. */
export function markedProcesses(mark: string): MarkedProcess[] {
  const needle = `INGEST_TEST_MARK=${mark}\0`;
  const found: MarkedProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (!environ.includes(needle)) continue;
      const command = readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0').join(' ').trim();
      const value = (name: string): number | undefined => {
        const match = new RegExp(`(?:^|\0)${name}=(\\d+)\0`).exec(environ);
        return match ? Number(match[1]) : undefined;
      };
      const range = value('INGEST_REPLICA_RANGE');
      const attempt = value('INGEST_REPLICA_TASK_ATTEMPT');
      if (command !== '') found.push({ pid: Number(entry), command, ...(range !== undefined ? { range } : {}), ...(attempt !== undefined ? { attempt } : {}) });
    } catch { /* gone meanwhile, or not ours */ }
  }
  return found;
}

/** Node workers (`scan-range`) among them. */
export const markedWorkers = (mark: string): MarkedProcess[] => markedProcesses(mark).filter((p) => p.command.includes('scan-range'));

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
