import { ConfigError, IngestError, PermanentError, TransientError, toError, type ErrorContext } from '../../shared/errors.js';

/** A cluster id the operator named that is not one of ours: `cluster stop` refuses it (exit 2). */
export class ForeignClusterError extends ConfigError {}

/**
 * DescribeCluster refused by IAM. The trigger's policy allows it only on clusters tagged as ours, so a refusal
 * means "not ours" for the guard's listing, and "cannot tell" for a cluster a status row names.
 */
export class ClusterAccessDeniedError extends PermanentError {}

/** A template that cannot become a request: unknown placeholder, unset parameter, bad JSON (exit 2). */
export class TemplateError extends ConfigError {}

const TRANSIENT = new Set(['ThrottlingException', 'InternalServerException', 'InternalServerError', 'ServiceUnavailable', 'TimeoutError', 'RequestLimitExceeded']);

/**
 * An EMR failure translated at the adapter edge: throttling, 5xx and network failures are transient (the SDK
 * has already retried them); a rejected request (ValidationException, InvalidRequestException) is permanent.
 */
export function emrError(e: unknown, operation: string, context: ErrorContext): IngestError {
  const error = toError(e);
  if (error instanceof IngestError) return error;
  const message = `EMR ${operation} failed: ${error.message}`;
  const options = { context: { ...context, operation }, cause: error };
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const network = status === undefined && /ECONN|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|socket|fetch failed/i.test(`${error.name} ${error.message}`);
  if (TRANSIENT.has(error.name) || (status !== undefined && status >= 500) || network) return new TransientError(message, options);
  return new PermanentError(message, options);
}

/** EMR's answer to DescribeCluster for an id it does not know. */
export function isUnknownCluster(e: unknown): boolean {
  const error = toError(e);
  return error.name === 'NoSuchCluster' || (error.name === 'InvalidRequestException' && /not valid|does not exist|no such/i.test(error.message));
}

export const isAccessDenied = (e: unknown): boolean => /AccessDenied|UnauthorizedOperation/.test(toError(e).name);
