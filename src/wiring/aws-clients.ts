import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EMRClient } from '@aws-sdk/client-emr';
import { GlueClient } from '@aws-sdk/client-glue';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { KMSClient } from '@aws-sdk/client-kms';
import { SNSClient } from '@aws-sdk/client-sns';
import { ENDPOINT_ENV, endpointFor, type AwsService, type AwsTarget } from '../config/aws-endpoints.js';

export type { AwsTarget } from '../config/aws-endpoints.js';

/**
 * Without timeouts an endpoint that accepts connections and never answers hangs a call for ever (measured: the
 * step and `output list` hung past 60 s on such an endpoint). An idle socket now fails the attempt, which the
 * SDK retries like any network failure.
 */
export const AWS_TIMEOUTS = { connectionTimeout: 5_000, socketTimeout: 20_000 } as const;

type ClientConfig = { region: string; endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string }; requestHandler: typeof AWS_TIMEOUTS };

/** Every AWS client is built here, once, from the validated endpoints and region, then injected. */
export function clientConfig(target: AwsTarget, service: AwsService): ClientConfig {
  const endpoint = endpointFor(target, service);
  return {
    region: target.awsRegion,
    requestHandler: AWS_TIMEOUTS,
    ...(endpoint !== undefined ? { endpoint } : {}),
    // The local stack's emulators accept any credentials. A custom endpoint that is not an emulator (a VPC
    // endpoint) keeps the SDK's default chain, like real AWS.
    ...(target.awsEmulator === true && !process.env.AWS_ACCESS_KEY_ID ? { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } : {}),
  };
}

export const s3Client = (t: AwsTarget): S3Client => naming(new S3Client({ ...clientConfig(t, 's3'), forcePathStyle: t.awsEmulator === true }), 's3', t);
export const dynamoDocumentClient = (t: AwsTarget): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(naming(new DynamoDBClient(clientConfig(t, 'dynamodb')), 'dynamodb', t), { marshallOptions: { removeUndefinedValues: true } });
export const secretsClient = (t: AwsTarget): SecretsManagerClient => naming(new SecretsManagerClient(clientConfig(t, 'secretsmanager')), 'secretsmanager', t);
export const emrClient = (t: AwsTarget): EMRClient => naming(new EMRClient(clientConfig(t, 'emr')), 'emr', t);
export const kmsClient = (t: AwsTarget): KMSClient => naming(new KMSClient(clientConfig(t, 'kms')), 'kms', t);
export const glueClient = (t: AwsTarget): GlueClient => naming(new GlueClient(clientConfig(t, 'glue')), 'glue', t);
export const snsClient = (t: AwsTarget): SNSClient => naming(new SNSClient(clientConfig(t, 'sns')), 'sns', t);

interface Stack {
  middlewareStack: { add(middleware: (next: (args: never) => Promise<unknown>, context: { commandName?: string }) => (args: never) => Promise<unknown>, options: { step: 'initialize'; name: string }): void };
}

function naming<C extends Stack>(client: C, service: AwsService, target: AwsTarget): C {
  client.middlewareStack.add((next, context) => async (args: never) => {
    try {
      return await next(args);
    } catch (e) {
      if (e instanceof Error) e.message = describeAwsError(e, { service, operation: context.commandName, endpoint: endpointFor(target, service) });
      throw e;
    }
  }, { step: 'initialize', name: 'nameServiceOperationEndpoint' });
  return client;
}

const NAMES: Record<AwsService, string> = { s3: 'S3', dynamodb: 'DynamoDB', secretsmanager: 'Secrets Manager', emr: 'EMR', kms: 'KMS', sns: 'SNS', glue: 'Glue' };

/**
 * An AWS error as the user sees it: which service and operation, at which endpoint ("socket timed out" or
 * LocalStack's "not included in your current license plan" alone say neither). An endpoint that lacks the
 * service (501, or an emulator's "not emulated") gets the fix: point that service elsewhere.
 */
export function describeAwsError(e: Error, where: { service: AwsService; operation: string | undefined; endpoint: string | undefined }): string {
  const operation = (where.operation ?? 'request').replace(/Command$/, '');
  const prefix = `${NAMES[where.service]} ${operation} at ${where.endpoint ?? 'AWS'}`;
  if (e.message.startsWith(prefix)) return e.message;
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const lacking = status === 501 || /not (yet )?(emulated|implemented|included in your current license)/i.test(e.message);
  const hint = lacking && where.endpoint !== undefined
    ? `. Fix: this endpoint does not serve ${NAMES[where.service]}: set ${ENDPOINT_ENV[where.service]} to one that does (e.g. moto)`
    : '';
  return `${prefix}: ${e.message || e.name}${status !== undefined ? ` (HTTP ${status})` : ''}${hint}`;
}
