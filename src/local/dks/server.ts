import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { toError } from '../../shared/errors.js';
import { silentLogger, type Logger } from '../../shared/logger.js';
import { StandaloneDataKeys, type DataKeyBackend } from './data-keys.js';
import type { HsmDataKeys } from './hsm-keys.js';
import { NO_FAULTS, type FaultSettings } from './faults.js';
import { BodyTooLarge, sendJson } from './http.js';
import { admin, decrypt, DEFAULT_MAX_BODY, generate, healthcheck, newCounters, type DksCounters, type Note, type RouteContext } from './routes.js';

/**
 * A local Data Key Service (DESIGN.md §3.2, §5): HTTPS that asks every client for a certificate and answers
 * 403 at the HTTP level when there is none or our CA did not sign it (so a client sees DKS's own answer,
 * not a bare handshake failure). STANDALONE keys always; KMS-backed keys when a KMS backend is given, or
 * emulated HSM keys when an HSM backend is. A bad key gets the answer the real DKS gives in that key's mode
 * (DESIGN.md §3.2): 500 in STANDALONE, 400 in KMS, 500 or 503 in HSM.
 * One JSON log line per request, without bodies or key material.
 */
export interface DksServerOptions {
  /** PEM: server certificate and key, and the CA whose client certificates are accepted. */
  readonly tls: { readonly cert: string | Buffer; readonly key: string | Buffer; readonly ca: string | Buffer };
  /** Port 0 picks a free one. */
  readonly port: number;
  readonly host?: string;
  /** KMS-backed data keys; `GET /datakey` then draws from KMS. */
  readonly kms?: DataKeyBackend & { readonly keyArn: string };
  /**
   * Emulated HSM mode (hsm-keys.ts): `cloudhsm:` key ids, and the HSM mode's 500/503 answers to bad keys;
   * `GET /datakey` then draws from it. Not together with `kms`.
   */
  readonly hsm?: HsmDataKeys;
  readonly logger?: Logger;
  /** Injected for tests of `failRate`. */
  readonly random?: () => number;
  /**
   * Request limits, as a real server has them: a larger body is answered 413, larger headers (request line
   * and query string included) 431. Defaults: 16 KiB each (Node's own header default).
   */
  readonly maxBodyBytes?: number;
  readonly maxHeaderBytes?: number;
}

export interface DksServer {
  readonly url: string;
  readonly port: number;
  faults: FaultSettings;
  stats(): DksCounters;
  close(): Promise<void>;
}

export async function startDksServer(options: DksServerOptions): Promise<DksServer> {
  const logger = options.logger ?? silentLogger;
  const standalone = new StandaloneDataKeys();
  if (options.kms && options.hsm) throw new TypeError('the local DKS runs in KMS or HSM mode, not both: give kms or hsm');
  const extra = options.kms ?? options.hsm;
  const ctx: RouteContext = {
    backends: extra ? [standalone, extra] : [standalone],
    generator: extra ?? standalone,
    mode: options.kms ? `KMS ${options.kms.keyArn} and STANDALONE` : options.hsm ? `HSM ${options.hsm.keyId} and STANDALONE` : 'STANDALONE',
    counters: newCounters(),
    faults: NO_FAULTS,
    random: options.random ?? Math.random,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY,
  };
  const server = createServer({
    cert: options.tls.cert,
    key: options.tls.key,
    ca: options.tls.ca,
    requestCert: true,
    // Checked per request instead, to answer 403 like DKS rather than abort the handshake.
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    // Node answers 431 itself past this size, as Tomcat/Jetty in front of the real DKS do.
    maxHeaderSize: options.maxHeaderBytes ?? 16 * 1024,
  }, (req, res) => {
    void handle(ctx, req, res, logger);
  });
  server.keepAliveTimeout = 60_000;
  server.on('secureConnection', () => {
    ctx.counters.connections += 1;
  });
  server.on('tlsClientError', (e) => logger.debug({ err: toError(e).message }, 'dks tls handshake failed'));
  await listen(server, options.port, options.host ?? '127.0.0.1');
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const host = options.host === undefined || options.host === '0.0.0.0' ? '127.0.0.1' : options.host;
  return {
    url: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    get faults() {
      return ctx.faults;
    },
    set faults(value: FaultSettings) {
      ctx.faults = value;
    },
    stats: () => structuredClone(ctx.counters),
    close: () => (closing ??= close(server)),
  };
}

async function handle(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, logger: Logger): Promise<void> {
  const started = performance.now();
  const url = new URL(req.url ?? '/', 'https://dks.invalid');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const socket = req.socket as TLSSocket;
  ctx.counters.requests += 1;
  let note: Note;
  try {
    note = await route(ctx, req, res, socket, path, url.searchParams);
  } catch (e) {
    const error = toError(e);
    note = error.message;
    if (!res.headersSent) sendJson(res, error instanceof BodyTooLarge ? 413 : 500, { error: error.message });
  }
  const line = {
    method: req.method,
    path,
    status: res.headersSent ? res.statusCode : 0,
    ms: Math.round((performance.now() - started) * 10) / 10,
    keyId: url.searchParams.get('keyId') ?? undefined,
    correlationId: url.searchParams.get('correlationId') ?? undefined,
    client: peerName(socket),
    note,
  };
  logger.info(line, 'dks request');
}

function route(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, socket: TLSSocket, path: string, query: URLSearchParams): Promise<Note> {
  if (!socket.authorized) {
    ctx.counters.forbidden += 1;
    req.resume();
    sendJson(res, 403, { error: 'Forbidden', message: 'a client certificate issued by the DKS CA is required' });
    return Promise.resolve(`client certificate refused: ${String(socket.authorizationError ?? 'none')}`);
  }
  if (path === '/__faults' || path === '/__stats') return admin(ctx, req, res, path);
  if (ctx.faults.down) {
    // Simulates a network failure: the connection drops without an answer.
    socket.destroy();
    return Promise.resolve('down (fault injection)');
  }
  const allowed: Record<string, string> = { '/datakey/actions/decrypt': 'POST', '/datakey': 'GET', '/healthcheck': 'GET', '/ping': 'GET' };
  const method = allowed[path];
  if (method === undefined) {
    req.resume();
    sendJson(res, 404, { error: 'Not Found' });
    return Promise.resolve(undefined);
  }
  if (req.method !== method) {
    req.resume();
    sendJson(res, 405, { error: 'Method Not Allowed' });
    return Promise.resolve(undefined);
  }
  switch (path) {
    case '/datakey/actions/decrypt':
      return decrypt(ctx, req, res, query);
    case '/datakey':
      return generate(ctx, res, query);
    case '/healthcheck':
      return healthcheck(ctx, res);
    default:
      sendJson(res, 200, { status: 'OK' });
      return Promise.resolve(undefined);
  }
}

const peerNames = new WeakMap<TLSSocket, string>();

/** The client certificate's CN, looked up once per connection. */
function peerName(socket: TLSSocket): string | undefined {
  let name = peerNames.get(socket);
  if (name === undefined && !socket.destroyed) {
    const cn = socket.getPeerCertificate()?.subject?.CN;
    name = typeof cn === 'string' ? cn : '-';
    peerNames.set(socket, name);
  }
  return name;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((e) => (e ? reject(e) : resolve()));
    // Keep-alive connections would hold `close` open until they time out.
    server.closeAllConnections();
  });
}
