/** The settings a real account's launch needs (LAUNCH_REQUIRED, and a region), for unit tests of the rendered RunJobFlow request. */
export const LAUNCH_ENV = {
  INGEST_EMR_LOG_URI: 's3://logs/emr/',
  INGEST_ARTIFACTS_URI: 's3://artifacts/releases',
  INGEST_ARTIFACT_VERSION: '1.4.0',
  INGEST_HBASE_ROOT_DIR: 's3://ingest-hbase/hbase',
  INGEST_EMR_SECURITY_CONFIGURATION: 'ingest-replica-sc',
  INGEST_EMR_SUBNET_ID: 'subnet-0abc',
  AWS_REGION: 'eu-west-2',
  INGEST_ALERTS_TOPIC_ARN: 'arn:aws:sns:eu-west-2:123456789012:ingest-replica-alerts',
  DKS_URL: 'https://dks.internal.example:8443',
  INGEST_DKS_CERT_SECRET: '/ingest-replica/dks-client',
  INGEST_KMS_KEY_ID: 'alias/ingest-replica-output',
  INGEST_OUTPUT_BUCKET: 'ingest-replica-output',
  INGEST_COLLECTIONS_SECRET: '/intraday/collections',
} as const;
