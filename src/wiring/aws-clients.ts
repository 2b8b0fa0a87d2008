import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EMRClient } from '@aws-sdk/client-emr';
import { GlueClient } from '@aws-sdk/client-glue';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { KMSClient } from '@aws-sdk/client-kms';
import { SNSClient } from '@aws-sdk/client-sns';

/** Every AWS client is built here, once, from the validated endpoint and region, then injected. */
export interface AwsTarget {
  readonly awsEndpointUrl: string | undefined;
  readonly awsRegion: string;
}

/**
 * Without timeouts an endpoint that accepts connections and never answers hangs a call for ever (measured: the
 * step and `output list` hung past 60 s on such an endpoint). An idle socket now fails the attempt, which the
 * SDK retries like any network failure.
 */
export const AWS_TIMEOUTS = { connectionTimeout: 5_000, socketTimeout: 20_000 } as const;

type ClientConfig = { region: string; endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string }; requestHandler: typeof AWS_TIMEOUTS };

function common(target: AwsTarget): ClientConfig {
  const local = target.awsEndpointUrl !== undefined;
  return {
    region: target.awsRegion,
    requestHandler: AWS_TIMEOUTS,
    ...(local ? { endpoint: target.awsEndpointUrl } : {}),
    // moto and LocalStack accept any credentials; real AWS uses the SDK's default chain.
    ...(local && !process.env.AWS_ACCESS_KEY_ID ? { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } : {}),
  };
}

export const s3Client = (t: AwsTarget): S3Client => namingEndpoint(new S3Client({ ...common(t), forcePathStyle: t.awsEndpointUrl !== undefined }));
export const dynamoDocumentClient = (t: AwsTarget): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(namingEndpoint(new DynamoDBClient(common(t))), { marshallOptions: { removeUndefinedValues: true } });
export const secretsClient = (t: AwsTarget): SecretsManagerClient => namingEndpoint(new SecretsManagerClient(common(t)));
export const emrClient = (t: AwsTarget): EMRClient => namingEndpoint(new EMRClient(common(t)));
export const kmsClient = (t: AwsTarget): KMSClient => namingEndpoint(new KMSClient(common(t)));
export const glueClient = (t: AwsTarget): GlueClient => namingEndpoint(new GlueClient(common(t)));
export const snsClient = (t: AwsTarget): SNSClient => namingEndpoint(new SNSClient(common(t)));

interface Stack {
  middlewareStack: { add(middleware: (next: (args: never) => Promise<unknown>) => (args: never) => Promise<unknown>, options: { step: 'deserialize'; name: string }): void };
}

/**
 * A failure to reach AWS names the endpoint it could not reach ("socket timed out" alone does not say which
 * of S3, DynamoDB or Secrets Manager, nor where). HTTP answers are left alone: the endpoint answered.
 */
function namingEndpoint<C extends Stack>(client: C): C {
  client.middlewareStack.add((next) => async (args: never) => {
    try {
      return await next(args);
    } catch (e) {
      const request = (args as { request?: { protocol?: string; hostname?: string; port?: number } }).request;
      const answered = (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode !== undefined;
      if (e instanceof Error && !answered && request?.hostname) {
        const where = `${request.protocol ?? 'https:'}//${request.hostname}${request.port ? `:${request.port}` : ''}`;
        if (!e.message.includes(where)) e.message = `${e.message} (endpoint ${where})`;
      }
      throw e;
    }
  }, { step: 'deserialize', name: 'nameEndpointOnNetworkFailure' });
  return client;
}
