import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Construct } from 'constructs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as deploy from 'aws-cdk-lib/aws-s3-deployment';
import { projectRoot } from '../src/shared/project-root.js';

/**
 * The release in the artifacts bucket, in the layout emr-config/README.md gives: the bundle and its .sha256
 * under ingest-replica/, the bootstrap actions and CloudWatch agent configuration under emr-config/, and the
 * step's settings file under config/.
 */
export class ArtifactUpload extends Construct {
  constructor(scope: Construct, id: string, props: {
    readonly bucket: s3.IBucket; readonly prefix: string; readonly bundleDir: string; readonly artifactVersion: string;
    readonly stepConfig: Readonly<Record<string, unknown>>;
  }) {
    super(scope, id);
    const artifact = `ingest-replica-${props.artifactVersion}.tar.gz`;
    for (const file of [artifact, `${artifact}.sha256`]) {
      if (!existsSync(join(props.bundleDir, file))) {
        throw new Error(`${join(props.bundleDir, file)} does not exist. Fix: run \`make bundle\` (artifactVersion ${props.artifactVersion}), or pass -c bundleDir=<folder holding it>.`);
      }
    }
    const root = projectRoot();
    const stage = join(root, 'build', 'artifacts-upload');
    rmSync(stage, { recursive: true, force: true });
    mkdirSync(join(stage, 'ingest-replica'), { recursive: true });
    for (const file of [artifact, `${artifact}.sha256`]) cpSync(join(props.bundleDir, file), join(stage, 'ingest-replica', file));
    cpSync(join(root, 'emr-config', 'bootstrap'), join(stage, 'emr-config', 'bootstrap'), { recursive: true });
    cpSync(join(root, 'emr-config', 'cloudwatch'), join(stage, 'emr-config', 'cloudwatch'), { recursive: true });
    new deploy.BucketDeployment(this, 'Release', {
      destinationBucket: props.bucket,
      destinationKeyPrefix: props.prefix,
      sources: [deploy.Source.asset(stage), deploy.Source.jsonData('config/step-config.json', props.stepConfig)],
      prune: false,
      memoryLimit: 1024,
    });
  }
}
