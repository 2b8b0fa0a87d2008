import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aws, CfnOutput, Duration, RemovalPolicy, SecretValue, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as emr from 'aws-cdk-lib/aws-emr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { APPLICATION_TAG, PURGE_NAME_PREFIX } from '../src/config/orchestrator-config.js';
import { parseHBaseRoot } from '../src/orchestrator/purge/index.js';
import { projectRoot } from '../src/shared/project-root.js';
import { Alarms } from './alarms.js';
import { ArtifactUpload } from './artifact-upload.js';
import { policyFromFile } from './iam-policies.js';
import { LAMBDA_HANDLERS, lambdaBundle } from './lambda-bundle.js';
import type { LocalDeployment } from './moto-support.js';
import { PurgeRule } from './purge-rule.js';
import { LaunchSchedules } from './schedules.js';
import { triggerEnvironment } from './trigger-environment.js';
import type { DeploySettings } from './settings.js';

export interface IngestReplicaStackProps extends StackProps {
  readonly settings: DeploySettings;
  readonly deployment: LocalDeployment;
}

/** The GSI the trigger's guard and `status` query (DESIGN.md: one per collection, newest first). */
export const STATUS_INDEX = 'byCollection';
/** Where the release lives in the artifacts bucket (artifactsUri = s3://<bucket>/release). */
export const ARTIFACTS_PREFIX = 'release';
export const EMR_LOGS_PREFIX = 'emr-logs';
const REPROCESS_PREFIX = 'reprocess';

/**
 * Everything ingest-replica needs in an account: status table, output and artifacts buckets, the product's KMS
 * key, alerts topic, collections secret, the trigger and purge Lambdas with their schedule and rule, the
 * cluster's log group, the EMR roles and security configuration, and alarms. Left to the platform: the VPC and
 * subnet, the primary HBase cluster (its root bucket and key), and the DKS.
 */
export class IngestReplicaStack extends Stack {
  readonly key: kms.Key;
  readonly table: dynamodb.Table;
  readonly outputBucket: s3.Bucket;
  readonly artifactsBucket: s3.Bucket;
  readonly topic: sns.Topic;
  readonly triggerFunction: lambda.Function;
  readonly purgeFunction: lambda.Function;

  constructor(scope: Construct, id: string, props: IngestReplicaStackProps) {
    super(scope, id, props);
    const { settings, deployment } = props;
    const cli = settings.cli;
    const name = (suffix: string): string => `${Aws.STACK_NAME}-${suffix}`;
    const statusTable = cli.statusTable ?? 'intraday-job-status';
    const outputPrefix = (cli.outputPrefix ?? 'incremental').replace(/^\/+|\/+$/g, '');
    const collectionsSecretName = cli.collectionsSecret ?? '/intraday/collections';
    const root = parseHBaseRoot(cli.hbaseRootDir as string);

    this.key = new kms.Key(this, 'Key', {
      description: 'ingest-replica: output (SSE-KMS), secrets, alerts, logs, EMR local disks',
      enableKeyRotation: true,
      alias: 'alias/ingest-replica',
      removalPolicy: RemovalPolicy.RETAIN,
      policy: keyPolicy(settings.logGroupName),
    });

    this.table = new dynamodb.Table(this, 'StatusTable', {
      tableName: statusTable,
      partitionKey: { name: 'CorrelationId', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'Collection', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // AWS-owned KMS key via DynamoDB: the policy files grant the roles no KMS use through DynamoDB.
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: STATUS_INDEX,
      partitionKey: { name: 'Collection', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'TriggeredTime', type: dynamodb.AttributeType.NUMBER },
    });

    const accessLogs = new s3.Bucket(this, 'AccessLogsBucket', {
      // S3 server access logging cannot deliver into an SSE-KMS bucket: SSE-S3 here.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: deployment.deploys('AWS::S3::BucketPolicy'),
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const productBucket = (id: string, bucketName: string | undefined, logPrefix: string, rules: s3.LifecycleRule[]): s3.Bucket => new s3.Bucket(this, id, {
      ...(bucketName === undefined ? {} : { bucketName }),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: deployment.deploys('AWS::S3::BucketPolicy'),
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: logPrefix,
      lifecycleRules: rules,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.outputBucket = productBucket('OutputBucket', cli.outputBucket ?? 'ingest-replica-output', 'output/', outputLifecycleRules());
    this.artifactsBucket = productBucket('ArtifactsBucket', undefined, 'artifacts/', [
      { id: 'expire-emr-logs', prefix: `${EMR_LOGS_PREFIX}/`, expiration: Duration.days(90) },
      { id: 'expire-old-versions', noncurrentVersionExpiration: Duration.days(30) },
    ]);

    this.topic = new sns.Topic(this, 'AlertsTopic', {
      topicName: name('alerts'),
      masterKey: this.key,
      enforceSSL: deployment.deploys('AWS::SNS::TopicPolicy'),
    });

    if (!settings.collectionsSecretExists && deployment.deploys('AWS::SecretsManager::Secret')) {
      new secretsmanager.Secret(this, 'CollectionsSecret', {
        secretName: collectionsSecretName,
        description: 'ingest-replica collections (DESIGN.md §3.4): a placeholder with no collection; put the real configuration in',
        encryptionKey: this.key,
        // base64 of the legacy Python literal with no collections.
        secretStringValue: SecretValue.unsafePlainText(Buffer.from("{'collections_all': {}}").toString('base64')),
        removalPolicy: RemovalPolicy.RETAIN,
      });
    }

    const clusterLogGroup = new logs.LogGroup(this, 'ClusterLogGroup', {
      logGroupName: settings.logGroupName,
      retention: Number(cli.logRetentionDays ?? '30') as logs.RetentionDays,
      encryptionKey: this.key,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // ── EMR: roles, instance profile, security configuration ──────────────────────────────────────────
    const instanceRoleName = name('emr-instance');
    const serviceRoleName = name('emr-service');
    const policyValues: Record<string, string> = {
      Region: Aws.REGION,
      AccountId: Aws.ACCOUNT_ID,
      HBaseRootBucket: root.bucket,
      HBaseRootPrefix: root.prefix,
      HBaseRootKmsKeyArn: settings.hbaseRootKmsKeyArn,
      ArtifactsBucket: this.artifactsBucket.bucketName,
      ArtifactsPrefix: ARTIFACTS_PREFIX,
      OutputBucket: this.outputBucket.bucketName,
      OutputPrefix: outputPrefix,
      ReprocessPrefix: REPROCESS_PREFIX,
      GlueDatabase: cli.glueDatabase ?? 'ingest_replica',
      OutputKmsKeyArn: this.key.keyArn,
      DataKeyKmsKeyArn: settings.dataKeyKmsKeyArn ?? '',
      StatusTable: statusTable,
      CollectionsSecretName: collectionsSecretName,
      DksCertSecretName: cli.dksCertSecret as string,
      SecretsKmsKeyArn: this.key.keyArn,
      LogGroupName: clusterLogGroup.logGroupName,
      LogUriBucket: this.artifactsBucket.bucketName,
      LogUriPrefix: EMR_LOGS_PREFIX,
      LocalDiskKmsKeyArn: this.key.keyArn,
      ClusterTagKey: APPLICATION_TAG.key,
      ClusterTagValue: APPLICATION_TAG.value,
      EmrServiceRoleName: serviceRoleName,
      EmrInstanceRoleName: instanceRoleName,
      AlertsTopicName: this.topic.topicName,
      AlertsTopicKmsKeyArn: this.key.keyArn,
      TriggerFunctionName: name('trigger'),
      PurgeFunctionName: name('purge-metadata'),
    };
    const keyService = (cli.keyService ?? 'dks').toLowerCase();
    const instanceRole = new iam.Role(this, 'EmrInstanceRole', {
      roleName: instanceRoleName,
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      inlinePolicies: {
        cluster: policyFromFile('clusterInstance', policyValues, keyService === 'kms' ? [] : ['UnwrapDataKeysWithKmsWhenConfigured']),
      },
    });
    const instanceProfile = new iam.CfnInstanceProfile(this, 'EmrInstanceProfile', {
      instanceProfileName: instanceRoleName,
      roles: [instanceRole.roleName],
    });
    const serviceRole = new iam.Role(this, 'EmrServiceRole', {
      roleName: serviceRoleName,
      assumedBy: new iam.ServicePrincipal('elasticmapreduce.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonEMRServicePolicy_v2')],
      inlinePolicies: {
        passInstanceRole: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({
            actions: ['iam:PassRole'],
            resources: [instanceRole.roleArn],
            conditions: { StringLike: { 'iam:PassedToService': 'ec2.amazonaws.com*' } },
          })],
        }),
      },
    });
    const securityConfiguration = !deployment.deploys('AWS::EMR::SecurityConfiguration') ? undefined : new emr.CfnSecurityConfiguration(this, 'EmrSecurityConfiguration', {
      name: Aws.STACK_NAME,
      securityConfiguration: {
        EncryptionConfiguration: {
          EnableInTransitEncryption: false,
          EnableAtRestEncryption: true,
          AtRestEncryptionConfiguration: {
            S3EncryptionConfiguration: { EncryptionMode: 'SSE-KMS', AwsKmsKey: this.key.keyArn },
            LocalDiskEncryptionConfiguration: { EncryptionKeyProviderType: 'AwsKms', AwsKmsKey: this.key.keyArn, EnableEbsEncryption: true },
          },
        },
      },
    });

    // Named after the stack; the Lambda's setting refers to the resource (so it exists first) where it is created.
    const securityConfigurationName = securityConfiguration?.ref ?? Aws.STACK_NAME;

    // ── Lambdas ──────────────────────────────────────────────────────────────────────────────────────
    const code = lambda.Code.fromAsset(lambdaBundle());
    const artifactsUri = `s3://${this.artifactsBucket.bucketName}/${ARTIFACTS_PREFIX}`;
    const environment = triggerEnvironment(settings, {
      statusTable, outputBucket: this.outputBucket.bucketName, outputPrefix, kmsKeyId: this.key.keyArn,
      collectionsSecret: collectionsSecretName, alertsTopicArn: this.topic.topicArn,
      emrLogUri: `s3://${this.artifactsBucket.bucketName}/${EMR_LOGS_PREFIX}`,
      artifactsUri, stepConfigUri: `${artifactsUri}/config/step-config.json`,
      securityConfiguration: securityConfigurationName, serviceRole: serviceRole.roleName,
      instanceProfile: instanceProfile.ref, logRetentionDays: cli.logRetentionDays ?? '30',
      artifactVersion: cli.artifactVersion ?? ownVersion(),
      clusterNamePrefix: cli.clusterNamePrefix ?? PURGE_NAME_PREFIX,
    });
    const fn = (id: string, functionName: string, handler: string, policy: iam.PolicyDocument, timeout: Duration, env: Record<string, string>): lambda.Function => {
      const role = new iam.Role(this, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'), inlinePolicies: { own: policy } });
      new logs.LogGroup(this, `${id}LogGroup`, {
        logGroupName: `/aws/lambda/${functionName}`,
        retention: logs.RetentionDays.ONE_MONTH,
        encryptionKey: this.key,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      return new lambda.Function(this, id, {
        functionName, code, handler, role, timeout, environment: env,
        runtime: lambda.Runtime.NODEJS_24_X,
        architecture: lambda.Architecture.X86_64,
        memorySize: 512,
        // Refusals and deferrals are returned; a real failure already left LAMBDA_FAILED rows that block a retry.
        ...(deployment.deploys('AWS::Lambda::EventInvokeConfig') && id === 'TriggerFunction' ? { retryAttempts: 0 } : {}),
      });
    };
    this.triggerFunction = fn('TriggerFunction', name('trigger'), LAMBDA_HANDLERS.trigger.handler, policyFromFile('trigger', policyValues), Duration.minutes(15), environment);
    this.purgeFunction = fn('PurgeFunction', name('purge-metadata'), LAMBDA_HANDLERS.purge.handler, policyFromFile('purge', policyValues), Duration.minutes(5), {
      INGEST_HBASE_ROOT_DIR: cli.hbaseRootDir as string,
      INGEST_CLUSTER_NAME_PREFIX: environment.INGEST_CLUSTER_NAME_PREFIX as string,
    });
    this.triggerFunction.node.addDependency(this.node.findChild('TriggerFunctionLogGroup'));
    this.purgeFunction.node.addDependency(this.node.findChild('PurgeFunctionLogGroup'));

    const purgeRule = new PurgeRule(this, 'PurgeRule', { function: this.purgeFunction });
    if (deployment.deploys('AWS::Scheduler::Schedule')) {
      new LaunchSchedules(this, 'LaunchSchedules', { function: this.triggerFunction, schedule: settings.schedule, groupName: Aws.STACK_NAME });
    }
    if (deployment.deploys('AWS::CloudWatch::Alarm')) {
      new Alarms(this, 'Alarms', { trigger: this.triggerFunction, purge: this.purgeFunction, topic: this.topic });
    }
    if (deployment.deploys('Custom::CDKBucketDeployment')) {
      new ArtifactUpload(this, 'ArtifactUpload', {
        bucket: this.artifactsBucket, prefix: ARTIFACTS_PREFIX, bundleDir: settings.bundleDir ?? join(projectRoot(), 'build'),
        artifactVersion: environment.INGEST_ARTIFACT_VERSION as string,
        // The step's settings on the cluster (install-ingest-replica.sh --config): the same keys as the CLI's.
        stepConfig: {
          dksUrl: cli.dksUrl, keyService, outputBucket: this.outputBucket.bucketName, outputPrefix, kmsKeyId: this.key.keyArn,
          statusTable, collectionsSecret: collectionsSecretName, awsRegion: Aws.REGION,
        },
      });
    }

    // What operators and the local-deploy test look up: the deployed names, under the CLI's setting keys.
    const outputs: Record<string, string> = {
      statusTable: this.table.tableName, outputBucket: this.outputBucket.bucketName, kmsKeyId: this.key.keyArn,
      alertsTopicArn: this.topic.topicArn, collectionsSecret: collectionsSecretName, securityConfiguration: securityConfigurationName,
      serviceRole: serviceRole.roleName, instanceProfile: instanceProfile.ref, artifactsUri, triggerFunction: this.triggerFunction.functionName,
      purgeFunction: this.purgeFunction.functionName, purgeRule: purgeRule.rule.ruleName, clusterLogGroup: clusterLogGroup.logGroupName,
    };
    for (const [key, value] of Object.entries(outputs)) new CfnOutput(this, `Out${key[0]?.toUpperCase()}${key.slice(1)}`, { key: `Out${key[0]?.toUpperCase()}${key.slice(1)}`, value, description: key });
  }
}

/** The output bucket's lifecycle: the rule of emr-config/s3/output-bucket-lifecycle.json, read from the file. */
function outputLifecycleRules(): s3.LifecycleRule[] {
  const file = JSON.parse(readFileSync(join(projectRoot(), 'emr-config', 's3', 'output-bucket-lifecycle.json'), 'utf8')) as {
    Rules: { ID: string; AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number } }[];
  };
  return [
    ...file.Rules.filter((r) => r.AbortIncompleteMultipartUpload !== undefined).map((r) => ({
      id: r.ID, abortIncompleteMultipartUploadAfter: Duration.days(r.AbortIncompleteMultipartUpload?.DaysAfterInitiation as number),
    })),
    // Attempt objects a run abandoned (folders without a manifest, deleted by the next runner's settle) stay
    // as noncurrent versions of the versioned bucket: they go after a week.
    { id: 'expire-abandoned-attempt-objects', noncurrentVersionExpiration: Duration.days(7), expiredObjectDeleteMarker: true },
  ];
}

/**
 * The key policy: the account administers the key and may let IAM policies use it (the roles' policies from
 * emr-config/iam name the key, each via one service); CloudWatch Logs encrypts the log groups; CloudWatch
 * publishes alarms to the encrypted topic. No `kms:*`.
 */
function keyPolicy(clusterLogGroup: string): iam.PolicyDocument {
  const account = new iam.AccountRootPrincipal();
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        sid: 'AccountAdministersTheKey',
        principals: [account],
        actions: ['kms:Create*', 'kms:Describe*', 'kms:Enable*', 'kms:List*', 'kms:Put*', 'kms:Update*', 'kms:Revoke*', 'kms:Disable*', 'kms:Get*', 'kms:Delete*', 'kms:TagResource', 'kms:UntagResource', 'kms:ScheduleKeyDeletion', 'kms:CancelKeyDeletion'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'IamPoliciesMayUseTheKey',
        principals: [account],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:GenerateDataKeyWithoutPlaintext', 'kms:DescribeKey', 'kms:CreateGrant'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsEncryptsOurLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${Aws.REGION}.amazonaws.com`)],
        actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:ReEncryptTo', 'kms:GenerateDataKey', 'kms:DescribeKey'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': [
              `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:${clusterLogGroup}`,
              `arn:${Aws.PARTITION}:logs:${Aws.REGION}:${Aws.ACCOUNT_ID}:log-group:/aws/lambda/${Aws.STACK_NAME}-*`,
            ],
          },
        },
      }),
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsPublishToTheTopic',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    ],
  });
}

function ownVersion(): string {
  return (JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
