/**
 * Where each AWS service is reached. As the AWS SDKs define it: `AWS_ENDPOINT_URL_<SERVICE>` overrides
 * `AWS_ENDPOINT_URL` for its service, and neither means real AWS. So S3, KMS, Secrets Manager and SNS can go
 * to LocalStack while DynamoDB and EMR go to moto.
 */
export type AwsService = 's3' | 'dynamodb' | 'secretsmanager' | 'emr' | 'kms' | 'sns' | 'glue';

export const AWS_SERVICES: readonly AwsService[] = ['s3', 'dynamodb', 'secretsmanager', 'emr', 'kms', 'sns', 'glue'];

/** The service id AWS SDKs use in AWS_ENDPOINT_URL_<SERVICE>. */
export const ENDPOINT_ENV: Record<AwsService, string> = {
  s3: 'AWS_ENDPOINT_URL_S3',
  dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB',
  secretsmanager: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  emr: 'AWS_ENDPOINT_URL_EMR',
  kms: 'AWS_ENDPOINT_URL_KMS',
  sns: 'AWS_ENDPOINT_URL_SNS',
  glue: 'AWS_ENDPOINT_URL_GLUE',
};

export type ServiceEndpoints = Readonly<Partial<Record<AwsService, string>>>;

export interface AwsTarget {
  readonly awsEndpointUrl: string | undefined;
  readonly awsServiceEndpoints?: ServiceEndpoints;
  readonly awsRegion: string;
  /**
   * The endpoints are the local stack's emulators (moto, LocalStack): test credentials and path-style S3.
   * Not implied by a custom endpoint: a VPC endpoint is real AWS.
   */
  readonly awsEmulator?: boolean;
}

export function endpointFor(target: AwsTarget, service: AwsService): string | undefined {
  return target.awsServiceEndpoints?.[service] ?? target.awsEndpointUrl;
}

/** `s3=http://…,dynamodb=http://…` ↔ a map; service names as in AWS_SERVICES. */
export function parseServiceEndpoints(text: string, url: (t: string) => string): ServiceEndpoints {
  const map: Partial<Record<AwsService, string>> = {};
  for (const pair of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = pair.indexOf('=');
    const service = pair.slice(0, at) as AwsService;
    if (at <= 0 || !AWS_SERVICES.includes(service)) throw new Error(`${JSON.stringify(pair)} is not <service>=<url> with a service among ${AWS_SERVICES.join(', ')}`);
    map[service] = url(pair.slice(at + 1));
  }
  return map;
}

/** The per-service variables set in `env`, as the SDKs read them. */
export function serviceEndpointsFromEnv(env: NodeJS.ProcessEnv, url: (t: string) => string): ServiceEndpoints {
  const map: Partial<Record<AwsService, string>> = {};
  for (const service of AWS_SERVICES) {
    const value = env[ENDPOINT_ENV[service]];
    if (value !== undefined && value.trim() !== '') map[service] = url(value);
  }
  return map;
}

/**
 * Whether every endpoint in use is one the local stack runs: on this machine's loopback (where `local up`
 * binds moto and LocalStack) or one recorded by `local up`. A VPC or other custom endpoint is not.
 */
export function isLocalStackTarget(target: AwsTarget, stackEndpoints: readonly string[]): boolean {
  const urls = [target.awsEndpointUrl, ...Object.values(target.awsServiceEndpoints ?? {})].filter((u): u is string => u !== undefined);
  return urls.length > 0 && urls.every((u) => stackEndpoints.includes(u) || isLoopback(u));
}

function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host) || host.endsWith('.localhost.localstack.cloud') || host === 'localhost.localstack.cloud';
}
