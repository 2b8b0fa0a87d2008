import type { IncomingMessage, ServerResponse } from 'node:http';
import { STANDALONE_KEY_ID } from '../../contracts/standalone-keys.js';
import { toError } from '../../shared/errors.js';
import { KeyBackendUnavailable, KeyNotUnwrappable, type DataKeyBackend } from './data-keys.js';
import { parseFaults, type FaultSettings } from './faults.js';
import { readBody, sendJson, sendSpringError } from './http.js';

/**
 * The DKS API (DESIGN.md §3.2) and the admin routes. Each handler returns a short, key-free note for the
 * request log line; no body and no key material ever goes into it.
 */
export interface DksCounters {
  decrypt: { calls: number; ok: number; rejected: number; failed: number };
  generate: { calls: number; ok: number; failed: number };
  requests: number;
  forbidden: number;
  connections: number;
}

export function newCounters(): DksCounters {
  return { decrypt: { calls: 0, ok: 0, rejected: 0, failed: 0 }, generate: { calls: 0, ok: 0, failed: 0 }, requests: 0, forbidden: 0, connections: 0 };
}

export interface RouteContext {
  readonly backends: readonly DataKeyBackend[];
  /** The backend `GET /datakey` draws from. */
  readonly generator: DataKeyBackend;
  readonly mode: string;
  readonly counters: DksCounters;
  faults: FaultSettings;
  readonly random: () => number;
  /** A decrypt body larger than this is answered 413. */
  readonly maxBodyBytes: number;
}

export type Note = string | undefined;

/** The decrypt body limit when none is given: a wrapped key is well under 1 KB. */
export const DEFAULT_MAX_BODY = 16 * 1024;
const MAX_BODY = DEFAULT_MAX_BODY;
const DECRYPT_PATH = '/datakey/actions/decrypt';

export async function decrypt(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<Note> {
  ctx.counters.decrypt.calls += 1;
  const body = (await readBody(req, ctx.maxBodyBytes)).trim();
  if (await injectedFailure(ctx, res)) {
    ctx.counters.decrypt.failed += 1;
    return 'injected failure';
  }
  const keyId = query.get('keyId') ?? '';
  const correlationId = query.get('correlationId') ?? 'NOT_SET';
  const reject = (reason: string): Note => {
    ctx.counters.decrypt.rejected += 1;
    sendJson(res, 400, { error: 'Bad Request', message: reason, correlationId });
    return reason;
  };
  if (keyId === '') return reject('keyId is required');
  if (body === '') return reject('the wrapped key (request body) is required');
  if (ctx.faults.rejectKeys.includes(body)) return reject('key rejected by fault injection');
  if (ctx.faults.failKeys.includes(body)) {
    ctx.counters.decrypt.failed += 1;
    sendSpringError(res, ctx.faults.failStatus, DECRYPT_PATH);
    return 'key failed by fault injection';
  }
  const backend = ctx.backends.find((b) => b.owns(keyId));
  if (backend === undefined) return reject(`unknown keyId (this DKS serves ${ctx.mode})`);
  try {
    const plaintext = await backend.decrypt(keyId, body);
    ctx.counters.decrypt.ok += 1;
    const answer = { dataKeyDecryptionKeyId: keyId, plaintextDataKey: plaintext.toString('base64'), correlationId };
    if (ctx.faults.answerPadBytes > 0) return sendPadded(res, answer, ctx.faults.answerPadBytes);
    sendJson(res, 200, answer);
    return undefined;
  } catch (e) {
    const error = toError(e);
    if (error instanceof KeyNotUnwrappable) return reject(error.message);
    ctx.counters.decrypt.failed += 1;
    // Per mode, as the real DKS: a backend that is unavailable → 503; one that throws on the input → 500.
    if (error instanceof KeyBackendUnavailable) sendJson(res, 503, { error: 'Service Unavailable', correlationId });
    else sendSpringError(res, 500, DECRYPT_PATH);
    return error.message;
  }
}

export async function generate(ctx: RouteContext, res: ServerResponse, query: URLSearchParams): Promise<Note> {
  ctx.counters.generate.calls += 1;
  if (await injectedFailure(ctx, res)) {
    ctx.counters.generate.failed += 1;
    return 'injected failure';
  }
  const correlationId = query.get('correlationId') ?? 'NOT_SET';
  try {
    const key = await ctx.generator.generate();
    ctx.counters.generate.ok += 1;
    sendJson(res, 201, {
      dataKeyEncryptionKeyId: key.keyId,
      plaintextDataKey: key.plaintext.toString('base64'),
      ciphertextDataKey: key.ciphertext,
      correlationId,
    });
    return undefined;
  } catch (e) {
    ctx.counters.generate.failed += 1;
    sendJson(res, 503, { error: 'Service Unavailable', correlationId });
    return toError(e).message;
  }
}

export async function healthcheck(ctx: RouteContext, res: ServerResponse): Promise<Note> {
  const healthy = (await Promise.all(ctx.backends.map((b) => b.healthy()))).every(Boolean);
  sendJson(res, healthy ? 200 : 500, {
    status: healthy ? 'OK' : 'UNHEALTHY',
    mode: ctx.mode,
    standalone: ctx.backends.some((b) => b.owns(STANDALONE_KEY_ID)),
  });
  return undefined;
}

export async function admin(ctx: RouteContext, req: IncomingMessage, res: ServerResponse, path: string): Promise<Note> {
  if (path === '/__faults' && req.method === 'POST') {
    let parsed: FaultSettings | string;
    try {
      parsed = parseFaults(JSON.parse(await readBody(req, MAX_BODY)));
    } catch {
      parsed = 'body must be JSON';
    }
    if (typeof parsed === 'string') {
      sendJson(res, 400, { error: 'Bad Request', message: parsed });
      return parsed;
    }
    ctx.faults = parsed;
    sendJson(res, 200, ctx.faults);
    // Listed keys are wrapped keys (in STANDALONE mode, the data key reversed): counted, never logged.
    return `faults ${JSON.stringify({ ...parsed, rejectKeys: parsed.rejectKeys.length, failKeys: parsed.failKeys.length })}`;
  }
  if (path === '/__faults' && req.method === 'GET') sendJson(res, 200, ctx.faults);
  else if (path === '/__stats' && req.method === 'GET') sendJson(res, 200, ctx.counters);
  else if (path === '/__stats' && req.method === 'DELETE') {
    Object.assign(ctx.counters, { ...newCounters(), connections: ctx.counters.connections });
    sendJson(res, 200, ctx.counters);
  } else sendJson(res, 405, { error: 'Method Not Allowed' });
  return undefined;
}

/** Delay, then maybe fail as configured. True when the answer was the injected failure. */
async function injectedFailure(ctx: RouteContext, res: ServerResponse): Promise<boolean> {
  const { delayMs, failRate, failStatus } = ctx.faults;
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  if (failRate > 0 && ctx.random() < failRate) {
    sendJson(res, failStatus, { error: 'injected failure', status: failStatus });
    return true;
  }
  return false;
}

/** A 200 answer with `padBytes` of padding, streamed in 1 MiB chunks (the server never holds it whole). */
function sendPadded(res: ServerResponse, answer: Record<string, string>, padBytes: number): Note {
  const head = `${JSON.stringify(answer).slice(0, -1)},"padding":"`;
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(head) + padBytes + 2 });
  res.write(head);
  const chunk = Buffer.alloc(1 << 20, 'x');
  let left = padBytes;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, chunk.length);
      left -= n;
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end('"}');
  };
  res.on('close', () => { left = 0; });
  pump();
  return `answer padded by ${padBytes} bytes (fault injection)`;
}
