import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';

/** What the figures were measured on: they only mean something next to this. */
export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly java: string;
  readonly hbase: string;
  readonly hbaseHeap: string;
  readonly moto: string;
}

/** What a command prints (on stdout, else stderr, where `java -version` writes), or '' if it cannot run. */
const quiet = (command: string, args: string[]): string => {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  return (result.stdout || result.stderr || '').trim();
};

export async function machineInfo(hbaseRestUrl: string, hbasePid: number | undefined): Promise<MachineInfo> {
  let hbase = 'unknown';
  try {
    const res = await fetch(`${hbaseRestUrl}/version/cluster`, { headers: { accept: 'application/json' } });
    hbase = ((await res.json()) as { Version?: string }).Version ?? hbase;
  } catch {
    // The version is informative only.
  }
  let hbaseHeap = 'unknown';
  if (hbasePid !== undefined) {
    try {
      hbaseHeap = /-Xmx(\S+)/.exec(readFileSync(`/proc/${hbasePid}/cmdline`, 'utf8').split('\0').join(' '))?.[1] ?? hbaseHeap;
    } catch {
      // Informative only.
    }
  }
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    java: quiet('java', ['-version']).split('\n')[0] ?? 'unknown',
    hbase,
    hbaseHeap,
    moto: quiet('python3', ['-c', 'import moto; print(moto.__version__)']) || 'unknown',
  };
}
