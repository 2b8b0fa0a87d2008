/** Names of the AWS resources the local stack uses; the step's defaults point at the same ones. */
export const LOCAL_AWS_NAMES = {
  statusTable: 'intraday-job-status',
  collectionsSecretId: '/intraday/collections',
  bucket: 'ingest-replica-output',
  kmsAlias: 'alias/ingest-replica-output',
} as const;
