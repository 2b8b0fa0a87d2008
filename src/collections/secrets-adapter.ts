import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConfigError, PermanentError, TransientError, toError, type IngestError } from '../shared/errors.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import type { CollectionConfig } from '../shared/types.js';
import { parseCollectionsSecret } from './collections-secret.js';
import type { CollectionsSource } from './collections-source.js';

export interface SecretsManagerCollectionsOptions {
  readonly client: SecretsManagerClient;
  /** Name or ARN, e.g. `/intraday/collections`. */
  readonly secretId: string;
  readonly logger?: Logger;
}

/** The collections configuration read from Secrets Manager (DESIGN.md §3.4), parsed on every call. */
export class SecretsManagerCollections implements CollectionsSource {
  private readonly logger: Logger;

  constructor(private readonly options: SecretsManagerCollectionsOptions) {
    this.logger = options.logger ?? silentLogger;
  }

  async collections(): Promise<CollectionConfig[]> {
    const { client, secretId } = this.options;
    let text: string;
    try {
      const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
      if (answer.SecretString !== undefined) text = answer.SecretString;
      else if (answer.SecretBinary !== undefined) text = Buffer.from(answer.SecretBinary).toString('utf8');
      else throw new ConfigError(`collections secret ${secretId} has no value. Fix: put the collections configuration in it.`, { context: { secretId } });
    } catch (e) {
      throw secretsError(e, secretId);
    }
    const collections = parseCollectionsSecret(text, secretId);
    this.logger.debug({ secretId, collections: collections.length }, 'collections configuration read');
    return collections;
  }
}

const THROTTLING = new Set(['ThrottlingException', 'TooManyRequestsException', 'InternalServiceError', 'InternalServiceErrorException']);

/** SDK failures translated at the edge: missing or forbidden secret → ConfigError; throttling/5xx → transient. */
function secretsError(e: unknown, secretId: string): IngestError {
  const error = toError(e);
  if (error instanceof ConfigError) return error;
  const context = { secretId };
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (error.name === 'ResourceNotFoundException') {
    return new ConfigError(`collections secret ${secretId} does not exist. Fix: pass --collections-secret with an existing secret or create it.`, { context, cause: error });
  }
  if (error.name === 'AccessDeniedException' || error.name === 'DecryptionFailure') {
    return new ConfigError(`collections secret ${secretId} cannot be read (${error.name}). Fix: allow secretsmanager:GetSecretValue (and kms:Decrypt on its key).`, { context, cause: error });
  }
  if (THROTTLING.has(error.name) || (status !== undefined && status >= 500) || status === undefined) {
    return new TransientError(`reading collections secret ${secretId} failed: ${error.message}`, { context, cause: error });
  }
  return new PermanentError(`reading collections secret ${secretId} failed: ${error.message}`, { context, cause: error });
}
