import { ConfigError, IngestError, PermanentError, TransientError, toError, type ErrorContext } from '../shared/errors.js';

/** The SDK error raised when a conditional write's condition is false: a normal outcome, not a failure. */
export function isConditionFailed(e: unknown): boolean {
  return toError(e).name === 'ConditionalCheckFailedException';
}

const TRANSIENT_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionConflictException',
  'LimitExceededException',
  'TimeoutError',
]);

/**
 * A DynamoDB failure translated at the adapter edge: a missing table or index is configuration (exit 2),
 * throttling, 5xx and network failures are transient (the SDK has already retried them), the rest permanent.
 */
export function statusStoreError(e: unknown, operation: string, context: ErrorContext): IngestError {
  const error = toError(e);
  if (error instanceof IngestError) return error;
  const table = String(context.table);
  const message = `status table ${table}: ${operation} failed: ${error.message}`;
  const options = { context: { ...context, operation }, cause: error };
  if (error.name === 'ResourceNotFoundException') {
    return new ConfigError(
      `status table ${table} (or its index byCollection) does not exist: ${operation} failed. ` +
        'Fix: pass --status-table with an existing table or create it (`ingest-replica local seed` does locally).',
      options,
    );
  }
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const network = status === undefined && /ECONN|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|socket|fetch failed/i.test(`${error.name} ${error.message} ${(error as { code?: string }).code ?? ''}`);
  if (TRANSIENT_NAMES.has(error.name) || (status !== undefined && status >= 500) || network) {
    return new TransientError(message, options);
  }
  return new PermanentError(message, options);
}
