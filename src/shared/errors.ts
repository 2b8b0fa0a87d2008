/**
 * Error classes carry context and say whether a retry can help. Every `catch` normalises `unknown` with
 * `toError` before looking at it.
 */
export type ErrorContext = Record<string, string | number | boolean | undefined>;

export class IngestError extends Error {
  /** Whether the same call may succeed if tried again. */
  readonly retryable: boolean = false;
  readonly context: ErrorContext;

  constructor(message: string, options: { context?: ErrorContext; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.context = options.context ?? {};
  }
}

/** Bad flags, environment or configuration: exit code 2. The message names the setting and the fix. */
export class ConfigError extends IngestError {}

/** A transient failure (network, 5xx, throttling): worth retrying within a bound. */
export class TransientError extends IngestError {
  override readonly retryable = true;
}

/** A failure that no retry can fix (a 400 from DKS, a malformed record). */
export class PermanentError extends IngestError {}

/** A launch refused by a guard (schedule, maintenance window, active or failed runs): exit code 3. */
export class BlockedError extends IngestError {}

export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}

export function isRetryable(value: unknown): boolean {
  return value instanceof IngestError ? value.retryable : false;
}

/** Exit codes shared by every command: 0 ok, 1 failure, 2 usage/config, 3 deferred/blocked. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof ConfigError) return 2;
  if (error instanceof BlockedError) return 3;
  return 1;
}
