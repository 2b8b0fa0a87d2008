import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ENDPOINT_ENV, type AwsService, type ServiceEndpoints } from '../config/aws-endpoints.js';

/** What `local up` started and where it listens; written to `<home>/stack.json`. */
export interface StackState {
  hbaseRestUrl: string;
  hbaseAdminUrl: string;
  awsEndpointUrl: string;
  /** Services sent elsewhere than awsEndpointUrl (`local up --aws localstack`: S3, KMS, Secrets Manager, SNS). */
  awsServiceEndpoints?: ServiceEndpoints;
  /** What answers on each AWS port: `moto` or `localstack`; started here or adopted. */
  awsServers?: Record<string, 'moto' | 'localstack'>;
  awsRegion: string;
  dksUrl: string;
  dksClientCert: string;
  dksClientKey: string;
  dksCaCert: string;
  /**
   * Ids of the processes this stack started, each recorded as soon as it starts (so `down` stops what a failed
   * `up` left): `down` stops these and nothing else.
   */
  pids: { hbase?: number; aws?: number; localstack?: number; dks?: number };
}

export function readStackState(file: string): StackState | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as StackState;
}

export function writeStackState(file: string, state: StackState): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(state, null, 2)}\n`);
}

/** The same facts as a shell-sourceable env file: `source .local/stack.env`. */
export function stackEnvText(state: StackState): string {
  const vars: Record<string, string> = {
    HBASE_REST_URL: state.hbaseRestUrl,
    HBASE_ADMIN_URL: state.hbaseAdminUrl,
    AWS_ENDPOINT_URL: state.awsEndpointUrl,
    AWS_REGION: state.awsRegion,
    ...Object.fromEntries(Object.entries(state.awsServiceEndpoints ?? {}).map(([service, url]) => [ENDPOINT_ENV[service as AwsService], url])),
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    DKS_URL: state.dksUrl,
    DKS_CLIENT_CERT: state.dksClientCert,
    DKS_CLIENT_KEY: state.dksClientKey,
    DKS_CA_CERT: state.dksCaCert,
  };
  return `${Object.entries(vars).map(([k, v]) => `export ${k}='${v}'`).join('\n')}\n`;
}
