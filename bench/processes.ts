import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU time of the stack's other processes (the HBase JVM, moto), read from /proc around each measurement,
 * so the results can say which process was busy: on two shared cores that is what limits a stage.
 */
const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** The pid listening on a local TCP port, from `ss -ltnp`; undefined when it cannot be told. */
export function pidListeningOn(port: number): number | undefined {
  try {
    const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
    const match = /pid=(\d+)/.exec(out);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The stack's processes whose CPU a measurement reports beside Node's: the HBase JVM and moto, by the ports they serve. */
export function stackPids(stack: { readonly hbaseRestUrl: string; readonly awsEndpointUrl: string }): Record<'hbase' | 'moto', number | undefined> {
  const port = (url: string): number => Number(new URL(url).port || 80);
  return { hbase: pidListeningOn(port(stack.hbaseRestUrl)), moto: pidListeningOn(port(stack.awsEndpointUrl)) };
}

/** User + system CPU seconds a process has used so far (all its threads), or undefined if it is gone. */
export function cpuSecondsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** Load averages (1, 5, 15 min) from /proc/loadavg. */
export function loadAverage(): [number, number, number] {
  const [a, b, c] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  return [a ?? 0, b ?? 0, c ?? 0];
}

export interface CpuProbe {
  /** CPU seconds each watched process used since the probe started. */
  stop(): Record<string, number | undefined>;
}

export function probeCpu(pids: Readonly<Record<string, number | undefined>>): CpuProbe {
  const start = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSecondsOf(pid)]));
  return {
    stop: () => Object.fromEntries(Object.entries(pids).map(([name, pid]) => {
      const before = start[name];
      const after = cpuSecondsOf(pid);
      return [name, before === undefined || after === undefined ? undefined : after - before];
    })),
  };
}
