/**
 * Fault injection for reliability tests, off by default and set through `POST /__faults` (client
 * certificate required). Applies to the data-key routes and the health routes, never to the admin routes.
 */
export interface FaultSettings {
  /** Fraction of data-key requests answered `failStatus` instead. */
  readonly failRate: number;
  readonly failStatus: number;
  /** Added before every data-key answer. */
  readonly delayMs: number;
  /** Wrapped keys whose decrypt answers 400, as if garbled (KMS mode). */
  readonly rejectKeys: readonly string[];
  /**
   * Wrapped keys whose decrypt answers `failStatus` every time, with Spring's error body: a key the backend
   * keeps failing on (HSM mode) while other keys unwrap.
   */
  readonly failKeys: readonly string[];
  /** Drop every non-admin connection without an answer (a network failure). */
  readonly down: boolean;
  /** When > 0, a decrypt's 200 answer carries this many bytes of padding (a misbehaving DKS or proxy). */
  readonly answerPadBytes: number;
}

export const NO_FAULTS: FaultSettings = Object.freeze({ failRate: 0, failStatus: 503, delayMs: 0, rejectKeys: [], failKeys: [], down: false, answerPadBytes: 0 });

/** Validates a `POST /__faults` body; omitted fields take their default (off), so each POST is the whole setting. */
export function parseFaults(body: unknown): FaultSettings | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body must be a JSON object';
  const f = { ...NO_FAULTS, ...(body as Partial<FaultSettings>) };
  const known = new Set(Object.keys(NO_FAULTS));
  const unknown = Object.keys(body).filter((k) => !known.has(k));
  if (unknown.length > 0) return `unknown fields: ${unknown.join(', ')}`;
  if (typeof f.failRate !== 'number' || !(f.failRate >= 0 && f.failRate <= 1)) return 'failRate must be a number in [0, 1]';
  if (!Number.isInteger(f.failStatus) || f.failStatus < 400 || f.failStatus > 599) return 'failStatus must be an HTTP error status';
  if (!Number.isInteger(f.delayMs) || f.delayMs < 0 || f.delayMs > 120_000) return 'delayMs must be an integer in [0, 120000]';
  if (!Array.isArray(f.rejectKeys) || !f.rejectKeys.every((k) => typeof k === 'string')) return 'rejectKeys must be an array of strings';
  if (!Array.isArray(f.failKeys) || !f.failKeys.every((k) => typeof k === 'string')) return 'failKeys must be an array of strings';
  if (typeof f.down !== 'boolean') return 'down must be a boolean';
  if (!Number.isInteger(f.answerPadBytes) || f.answerPadBytes < 0 || f.answerPadBytes > 1 << 30) return 'answerPadBytes must be an integer in [0, 2^30]';
  return Object.freeze({ ...f, rejectKeys: [...f.rejectKeys], failKeys: [...f.failKeys] });
}
