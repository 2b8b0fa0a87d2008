import { CreateSecurityConfigurationCommand, DescribeSecurityConfigurationCommand, type EMRClient } from '@aws-sdk/client-emr';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import { toError } from '../../shared/errors.js';

/**
 * On the local stack (moto), the resources the orchestrator's local defaults name: the alerts topic, the
 * buckets of the log URI, the artifacts and the HBase root, and the security configuration. Created on demand,
 * idempotent; in AWS these come from the infrastructure code and this never runs.
 */
export interface LocalOrchestratorResources {
  readonly topicArn?: string;
  readonly buckets: readonly string[];
  readonly securityConfiguration?: string;
}

/** moto's security configurations are not checked; this one stands for the real one (which encrypts EMRFS). */
const LOCAL_SECURITY_CONFIGURATION = JSON.stringify({
  EncryptionConfiguration: { EnableInTransitEncryption: false, EnableAtRestEncryption: false },
});

export async function ensureLocalOrchestratorResources(
  clients: { sns: SNSClient; s3: S3Client; emr: EMRClient; region: string },
  wanted: LocalOrchestratorResources,
): Promise<void> {
  const jobs: Promise<unknown>[] = wanted.buckets.map(async (Bucket) => {
    try {
      await clients.s3.send(new CreateBucketCommand({
        Bucket,
        ...(clients.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: clients.region as never } }),
      }));
    } catch (e) {
      if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(toError(e).name)) throw e;
    }
  });
  if (wanted.topicArn !== undefined) {
    const name = wanted.topicArn.split(':').at(-1) as string;
    jobs.push(clients.sns.send(new CreateTopicCommand({ Name: name })));
  }
  if (wanted.securityConfiguration !== undefined) {
    const Name = wanted.securityConfiguration;
    jobs.push(clients.emr.send(new CreateSecurityConfigurationCommand({ Name, SecurityConfiguration: LOCAL_SECURITY_CONFIGURATION })).catch(async (e: unknown) => {
      // "Already exists" comes back without a readable message from moto: ask whether it is there.
      await clients.emr.send(new DescribeSecurityConfigurationCommand({ Name })).catch(() => {
        throw e;
      });
    }));
  }
  await Promise.all(jobs);
}
