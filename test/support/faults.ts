import { readFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { localHome } from '../../src/local/paths.js';
import { startDksServer, type DksServer } from '../../src/local/dks/server.js';
import { NO_FAULTS, type FaultSettings } from '../../src/local/dks/faults.js';

/**
 * Fault injection for the reliability suite, against real processes: a DKS of our own (the shared one serves
 * everyone) whose faults we set, and an HTTP proxy we control in front of HBase REST or moto, which can be cut
 * and restored, "restarted" (connections dropped, scanners forgotten) or made to answer chosen requests itself.
 */

// ─── DKS ──────────────────────────────────────────────────────────────────────────────────────────────

export interface DevTls {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly dir: string;
}

/** The local stack's development certificates (`.local/certs`). */
export function devTls(): DevTls {
  const dir = join(localHome(), 'certs');
  return { dir, ca: readFileSync(join(dir, 'ca.pem')), cert: readFileSync(join(dir, 'server.pem')), key: readFileSync(join(dir, 'server-key.pem')) };
}

export interface FaultDks {
  readonly url: string;
  readonly server: DksServer;
  /** Replaces the whole fault setting (omitted fields are off), as `POST /__faults` does. */
  set(faults: Partial<FaultSettings>): void;
  /** Data-key requests seen so far, as intervals [start, end] in ms (from the server's own request log). */
  requests(): readonly { path: string; status: number; start: number; end: number }[];
  close(): Promise<void>;
}

/**
 * A DKS server in this process on a free port, with the dev certificates. `random` feeds `failRate`: pass
 * `alternating()` to make exactly every other data-key request fail.
 */
export async function startFaultDks(options: { random?: () => number } = {}): Promise<FaultDks> {
  const tls = devTls();
  const lines: { path: string; status: number; start: number; end: number }[] = [];
  // The server logs one line per request when it has answered, with its duration: the request's interval.
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const end = performance.now();
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text.trim() === '') continue;
        const line = JSON.parse(text) as { path?: string; status?: number; ms?: number };
        if (typeof line.path === 'string' && typeof line.ms === 'number') lines.push({ path: line.path, status: line.status ?? 0, start: end - line.ms, end });
      }
      done();
    },
  });
  const server = await startDksServer({
    tls: { cert: tls.cert, key: tls.key, ca: tls.ca },
    port: 0,
    logger: pino({ level: 'info' }, sink),
    ...(options.random ? { random: options.random } : {}),
  });
  return {
    url: server.url,
    server,
    set: (faults) => {
      server.faults = { ...NO_FAULTS, ...faults };
    },
    requests: () => [...lines],
    close: () => server.close(),
  };
}

/** 0, 0.99, 0, 0.99, …: with `failRate: 0.5`, exactly every other request fails. */
export function alternating(): () => number {
  let n = 0;
  return () => (n++ % 2 === 0 ? 0 : 0.99);
}

/** The largest number of intervals open at one instant (an interval ending at t does not overlap one starting at t). */
export function maxOverlap(intervals: readonly { start: number; end: number }[]): number {
  const events = intervals.flatMap((i) => [{ t: i.start, d: 1 }, { t: i.end, d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
  let open = 0;
  let max = 0;
  for (const e of events) {
    open += e.d;
    max = Math.max(max, open);
  }
  return max;
}

// ─── HTTP proxy ───────────────────────────────────────────────────────────────────────────────────────

export interface ProxiedRequest {
  /** When the request arrived, performance.now(). */
  readonly at: number;
  readonly method: string;
  /** Path and query, as received. */
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** The whole request body (the proxy reads it before deciding). */
  readonly body: Buffer;
}

/**
 * What the proxy does with a request: forward it; answer it itself; drop the connection without forwarding;
 * forward it and, once the origin has answered, call `then` and drop the connection instead of answering
 * (the request took effect, the client never learns it); or forward it after a delay.
 */
export type ProxyDecision =
  | 'forward'
  | 'drop'
  | { readonly status: number; readonly body?: string; readonly headers?: Record<string, string> }
  | { readonly then: () => void }
  | { readonly delayMs: number };

export type ProxyRule = (request: ProxiedRequest) => ProxyDecision;

/**
 * An HTTP/1.1 proxy on 127.0.0.1 in front of one origin. While `down`, it listens no more and every open
 * connection is destroyed (what clients see when a server process dies); `up()` listens again on the same
 * port. `forgetScanners()` makes HBase REST scanners opened through it unknown (404), as after a restart.
 */
export class FaultProxy {
  private server: Server | undefined;
  private port = 0;
  private readonly sockets = new Set<Socket>();
  private upstreamAgent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly scanners = new Set<string>();
  private readonly forgotten = new Set<string>();
  private rules: ProxyRule[] = [];
  private readonly listeners: ((request: ProxiedRequest, status: number) => void)[] = [];
  /** Every request answered, with when it arrived (performance.now()). */
  readonly seen: { request: ProxiedRequest; status: number; at: number }[] = [];

  constructor(private readonly target: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async up(): Promise<string> {
    if (this.server !== undefined) return this.url;
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 30_000;
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this.url;
  }

  /** Stops listening and destroys every connection, client and upstream side. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    this.upstreamAgent.destroy();
    this.upstreamAgent = new Agent({ keepAlive: true, maxSockets: 64 });
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A restart of the server behind: down for `downMs`, then up with every scanner opened before it unknown. */
  async restart(downMs: number): Promise<void> {
    await this.down();
    this.forgetScanners();
    await new Promise((r) => setTimeout(r, downMs));
    await this.up();
  }

  /** Scanners opened so far answer 404 from now on; the real ones are freed upstream. */
  forgetScanners(): void {
    for (const path of this.scanners) this.forget(path);
  }

  /** One scanner answers 404 from now on (as a server that dropped it); the real one is freed upstream. */
  forget(scannerPath: string): void {
    const path = scannerPath.split('?')[0] ?? scannerPath;
    this.scanners.delete(path);
    this.forgotten.add(path);
    void this.send({ at: performance.now(), method: 'DELETE', path, headers: {}, body: Buffer.alloc(0) }).catch(() => undefined);
  }

  /** Rules are asked in order; the first that does not say 'forward' decides. */
  use(rule: ProxyRule): this {
    this.rules.push(rule);
    return this;
  }

  clearRules(): void {
    this.rules = [];
  }

  /** Called after each forwarded request has been answered (the answer fully sent to the client). */
  onAnswered(listener: (request: ProxiedRequest, status: number) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    await this.down();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('error', () => req.socket.destroy());
    const at = performance.now();
    req.once('end', () => this.decide({ at, method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) }, req, res));
  }

  private decide(request: ProxiedRequest, req: IncomingMessage, res: ServerResponse): void {
    const pathOnly = request.path.split('?')[0] ?? '';
    let decision: ProxyDecision = this.forgotten.has(pathOnly) ? { status: 404, body: 'Not found\r\n' } : 'forward';
    for (const rule of this.rules) {
      if (decision !== 'forward') break;
      decision = rule(request);
    }
    if (decision === 'drop') {
      req.socket.destroy();
      return;
    }
    if (typeof decision === 'object' && 'status' in decision) {
      res.writeHead(decision.status, { 'content-type': 'text/plain', ...decision.headers });
      res.end(decision.body ?? '');
      this.seen.push({ request, status: decision.status, at: request.at });
      return;
    }
    if (typeof decision === 'object' && 'delayMs' in decision) {
      setTimeout(() => this.forward(request, req, res, undefined), decision.delayMs);
      return;
    }
    this.forward(request, req, res, typeof decision === 'object' ? decision.then : undefined);
  }

  private forward(request: ProxiedRequest, req: IncomingMessage, res: ServerResponse, then: (() => void) | undefined): void {
    if (req.socket.destroyed) return;
    const upstream = httpRequest(new URL(request.path, this.target), {
      method: request.method, headers: request.headers, agent: this.upstreamAgent,
    }, (answer) => {
      if (then) {
        answer.resume();
        this.seen.push({ request, status: answer.statusCode ?? 0, at: request.at });
        then();
        req.socket.destroy();
        return;
      }
      const location = answer.headers.location;
      if (answer.statusCode === 201 && typeof location === 'string' && /\/scanner\//.test(location)) this.scanners.add(new URL(location).pathname);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      // 'finish': the whole answer is handed to the client's socket, so a listener may cut it right away.
      res.once('finish', () => {
        this.seen.push({ request, status: answer.statusCode ?? 0, at: request.at });
        for (const listener of this.listeners) listener(request, answer.statusCode ?? 0);
      });
      answer.once('error', () => res.destroy());
    });
    upstream.once('error', () => req.socket.destroy());
    upstream.end(request.body);
  }

  private send(request: ProxiedRequest): Promise<number> {
    return new Promise((resolve, reject) => {
      const r = httpRequest(new URL(request.path, this.target), { method: request.method, agent: false }, (answer) => {
        answer.resume();
        answer.once('end', () => resolve(answer.statusCode ?? 0));
      });
      r.once('error', reject);
      r.end();
    });
  }
}
