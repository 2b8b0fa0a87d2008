import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, PermanentError, TransientError, toError } from '../shared/errors.js';

/**
 * The local HBase: one JVM (hbase-local/, `ingest.replica.hbase.LocalHBase`) running ZooKeeper, a standalone
 * HBase on the local filesystem, the HBase REST server and a small admin endpoint for what REST cannot do
 * (pre-split tables, flushes, stopping/starting the REST server for fault injection).
 */
export interface HBaseProcessOptions {
  projectRoot: string;
  dataDir: string;
  restPort: number;
  zkPort: number;
  adminPort: number;
  /** JVM heap in MiB, 256–2048 (default 1024). */
  heapMb?: number;
  /** The java executable (default `java` from PATH). */
  javaBin?: string;
  /** HBase settings applied over LocalHBase's defaults (e.g. a short `hbase.client.scanner.timeout.period`). */
  conf?: Record<string, string>;
}

export const HBASE_MAIN_CLASS = 'ingest.replica.hbase.LocalHBase';
export const DEFAULT_HBASE_HEAP_MB = 1024;
const MAX_HEAP_MB = 2048;
const MIN_HEAP_MB = 256;

/** What HBase 2.5+ needs on Java 17 (the flags its own launch scripts pass): netty and HBase reflect into the JDK. */
export const JAVA17_FLAGS: readonly string[] = [
  '-Dorg.apache.hbase.thirdparty.io.netty.tryReflectionSetAccessible=true',
  '--add-modules', 'jdk.unsupported',
  ...['java.nio', 'sun.nio.ch', 'java.lang', 'jdk.internal.ref', 'java.lang.reflect', 'java.util', 'java.util.concurrent', 'java.io']
    .flatMap((pkg) => ['--add-opens', `java.base/${pkg}=ALL-UNNAMED`]),
  ...['jdk.internal.misc', 'sun.net.dns', 'sun.net.util'].flatMap((pkg) => ['--add-exports', `java.base/${pkg}=ALL-UNNAMED`]),
];

/** The thin jar and its runtime dependencies, as built by `make hbase`. */
export function hbaseJarPath(projectRoot: string): string {
  return join(projectRoot, 'hbase-local', 'target', 'hbase-local.jar');
}

/**
 * Why the local HBase cannot start from this checkout, or undefined when it can: without `make hbase` the jar
 * and its dependencies (`hbase-local/target/lib/`) are missing, and the JVM would die at start-up with a
 * ClassNotFoundException that says nothing about the fix.
 */
export function hbaseBuildProblem(projectRoot: string): string | undefined {
  const jar = hbaseJarPath(projectRoot);
  const lib = join(projectRoot, 'hbase-local', 'target', 'lib');
  const missing = !existsSync(jar) ? jar : !existsSync(lib) || !readdirSync(lib).some((f) => f.endsWith('.jar')) ? `${lib}/*.jar` : undefined;
  if (missing === undefined) return undefined;
  return `the local HBase is not built (${missing} is missing). Fix: run \`make hbase\` (Maven builds it, downloading HBase 2.6 once), ` +
    'or `make stack`, which builds everything and starts the stack';
}

/** The full command line: java, JVM flags, class path, main class and its arguments. */
export function hbaseCommand(o: HBaseProcessOptions): { command: string; args: string[] } {
  const heapMb = o.heapMb ?? DEFAULT_HBASE_HEAP_MB;
  if (!Number.isInteger(heapMb) || heapMb < MIN_HEAP_MB || heapMb > MAX_HEAP_MB) {
    throw new ConfigError(`HBase heap must be ${MIN_HEAP_MB}–${MAX_HEAP_MB} MiB, got ${heapMb}`, { context: { heapMb } });
  }
  for (const [name, port] of [['restPort', o.restPort], ['zkPort', o.zkPort], ['adminPort', o.adminPort]] as const) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ConfigError(`invalid HBase ${name} ${port}`, { context: { [name]: port } });
  }
  // `lib/*` is expanded by the JVM itself (class-path wildcard), not by a shell.
  const classPath = `${hbaseJarPath(o.projectRoot)}:${join(o.projectRoot, 'hbase-local', 'target', 'lib')}/*`;
  return {
    command: o.javaBin ?? 'java',
    args: [
      `-Xmx${heapMb}m`,
      `-Xms${Math.min(256, heapMb)}m`,
      // A JVM past its heap is broken for good: exit so the stack sees it die instead of hanging.
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.net.preferIPv4Stack=true',
      ...JAVA17_FLAGS,
      '-cp', classPath,
      HBASE_MAIN_CLASS,
      '--data-dir', o.dataDir,
      '--rest-port', String(o.restPort),
      '--zk-port', String(o.zkPort),
      '--admin-port', String(o.adminPort),
      ...Object.entries(o.conf ?? {}).flatMap(([key, value]) => ['--conf', `${key}=${value}`]),
    ],
  };
}

/** The one line LocalHBase prints on stdout once the REST server answers. */
export function parseReadyLine(line: string): { restUrl: string; adminUrl: string } | undefined {
  const match = /^READY rest=(\S+) admin=(\S+)$/.exec(line.trim());
  return match?.[1] !== undefined && match[2] !== undefined ? { restUrl: match[1], adminUrl: match[2] } : undefined;
}

/** Polls the REST server (`/version/cluster` needs the master) and the admin `/health` until both answer 200. */
export async function waitForHBase(restUrl: string, adminUrl: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    signal?.throwIfAborted();
    try {
      const rest = await probe(`${restUrl}/version/cluster`, signal);
      const admin = rest === 200 ? await probe(`${adminUrl}/health`, signal) : undefined;
      if (rest === 200 && admin === 200) return;
      last = `REST ${rest}, admin ${admin ?? 'not asked'}`;
    } catch (e) {
      signal?.throwIfAborted();
      last = toError(e).message;
    }
    if (Date.now() >= deadline) {
      throw new TransientError(`local HBase not ready within ${timeoutMs} ms: ${last}`, { context: { restUrl, adminUrl, timeoutMs } });
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function probe(url: string, signal?: AbortSignal): Promise<number> {
  const timeout = AbortSignal.timeout(2000);
  const response = await fetch(url, {
    headers: { accept: 'application/json' },
    signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
  });
  await response.body?.cancel();
  return response.status;
}

export interface CreateTableOptions {
  /** Pre-split into this many regions at uniform 4-byte boundaries (row keys start with a CRC32). */
  regions: number;
  /** Cell versions kept in family `cf` (default 10). */
  versions?: number;
}

/** Client of the admin endpoint. Table names are `namespace:table`. */
export class HBaseAdmin {
  constructor(private readonly adminUrl: string) {}

  async createTable(name: string, options: CreateTableOptions): Promise<'created' | 'exists'> {
    const query = new URLSearchParams({ name, regions: String(options.regions) });
    if (options.versions !== undefined) query.set('versions', String(options.versions));
    const status = await this.call('POST', '/tables', query, { table: name });
    return status === 201 ? 'created' : 'exists';
  }

  /** Disables and deletes the table. */
  async deleteTable(name: string): Promise<'deleted' | 'missing'> {
    const status = await this.call('DELETE', '/tables', new URLSearchParams({ name }), { table: name }, [404]);
    return status === 404 ? 'missing' : 'deleted';
  }

  /** Writes the table's memstores to store files. */
  async flush(name: string): Promise<void> {
    await this.call('POST', '/flush', new URLSearchParams({ name }), { table: name });
  }

  /** Splits the region holding `at` there and waits for the daughters (tests: a split while tasks scan). */
  async split(name: string, at: Buffer): Promise<void> {
    await this.call('POST', '/split', new URLSearchParams({ name, at: at.toString('hex') }), { table: name });
  }

  /** Stops the REST server (open scanners are lost, as in a real restart); the admin endpoint stays up. */
  async stopRest(): Promise<void> {
    await this.call('POST', '/rest/stop', new URLSearchParams(), {});
  }

  async startRest(): Promise<void> {
    await this.call('POST', '/rest/start', new URLSearchParams(), {});
  }

  /** Returns the status code; 2xx and `accepted` pass, 4xx is permanent, anything else may be retried. */
  private async call(method: string, path: string, query: URLSearchParams, context: Record<string, string>, accepted: number[] = []): Promise<number> {
    const url = `${this.adminUrl}${path}${query.size > 0 ? `?${query.toString()}` : ''}`;
    let response: Response;
    try {
      response = await fetch(url, { method, signal: AbortSignal.timeout(120_000) });
    } catch (e) {
      throw new TransientError(`local HBase admin ${method} ${path} failed: ${toError(e).message}`, { context: { ...context, url }, cause: e });
    }
    const body = await response.text();
    if (response.ok || accepted.includes(response.status)) return response.status;
    const message = `local HBase admin ${method} ${path} answered ${response.status}: ${body.trim()}`;
    const errorContext = { ...context, url, status: response.status };
    throw response.status >= 400 && response.status < 500
      ? new PermanentError(message, { context: errorContext })
      : new TransientError(message, { context: errorContext });
  }
}
