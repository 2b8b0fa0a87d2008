/** The orchestrator settings a real account's launch needs, for unit tests of the rendered RunJobFlow request. */
export const LAUNCH_ENV = {
  INGEST_EMR_LOG_URI: 's3://logs/emr/',
  INGEST_ARTIFACTS_URI: 's3://artifacts/releases',
  INGEST_ARTIFACT_VERSION: '1.4.0',
  INGEST_HBASE_ROOT_DIR: 's3://ingest-hbase/hbase',
  INGEST_EMR_SECURITY_CONFIGURATION: 'ingest-replica-sc',
  INGEST_EMR_SUBNET_ID: 'subnet-0abc',
  AWS_REGION: 'eu-west-2',
} as const;
