import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { localHome, stackFiles } from '../../src/local/paths.js';
import type { StackState } from '../../src/local/stack-state.js';

const exec = promisify(execFile);

/** A free TCP port on loopback (nothing listens on it when this returns). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A second stack home beside the suite's: it adopts the suite's HBase and DKS (same ports, the suite's DKS
 * certificates copied in), so only the AWS part under test is started here.
 */
export function sharedStackHome(stack: StackState, prefix: string): { home: string; flags: string[] } {
  const home = mkdtempSync(join(tmpdir(), `${prefix}-`));
  cpSync(stackFiles(localHome()).certs, stackFiles(home).certs, { recursive: true });
  const port = (url: string): string => new URL(url).port;
  return {
    home,
    flags: ['--hbase-rest-port', port(stack.hbaseRestUrl), '--hbase-admin-port', port(stack.hbaseAdminUrl),
      '--zk-port', process.env.INGEST_LOCAL_ZK_PORT ?? '2181', '--dks-port', port(stack.dksUrl)],
  };
}

export interface CliResult { code: number; stdout: string; stderr: string }

/** The built CLI with `env` over a clean copy of this process's environment (no AWS endpoint variables). */
export async function cli(args: readonly string[], env: NodeJS.ProcessEnv, timeout = 180_000): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_ENDPOINT_URL')));
  try {
    const { stdout, stderr } = await exec(process.execPath, ['dist/src/cli/main.js', ...args], { env: { ...base, LOG_LEVEL: 'info', ...env }, maxBuffer: 64 * 1024 * 1024, timeout });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** The pids `local up` logged as it started each part. */
export function startedPids(stderr: string): Record<string, number> {
  const pids: Record<string, number> = {};
  for (const line of stderr.split('\n')) {
    if (!line.includes('local stack part starting')) continue;
    const entry = JSON.parse(line) as { part: string; pid: number };
    pids[entry.part] = entry.pid;
  }
  return pids;
}
