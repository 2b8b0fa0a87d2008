import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { KMSClient } from '@aws-sdk/client-kms';

/** Every AWS client is built here, once, from the validated endpoint and region, then injected. */
export interface AwsTarget {
  readonly awsEndpointUrl: string | undefined;
  readonly awsRegion: string;
}

function common(target: AwsTarget): { region: string; endpoint?: string; credentials?: { accessKeyId: string; secretAccessKey: string } } {
  const local = target.awsEndpointUrl !== undefined;
  return {
    region: target.awsRegion,
    ...(local ? { endpoint: target.awsEndpointUrl } : {}),
    // moto and LocalStack accept any credentials; real AWS uses the SDK's default chain.
    ...(local && !process.env.AWS_ACCESS_KEY_ID ? { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } : {}),
  };
}

export const s3Client = (t: AwsTarget): S3Client => new S3Client({ ...common(t), forcePathStyle: t.awsEndpointUrl !== undefined });
export const dynamoDocumentClient = (t: AwsTarget): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(new DynamoDBClient(common(t)), { marshallOptions: { removeUndefinedValues: true } });
export const secretsClient = (t: AwsTarget): SecretsManagerClient => new SecretsManagerClient(common(t));
export const kmsClient = (t: AwsTarget): KMSClient => new KMSClient(common(t));
