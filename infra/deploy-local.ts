import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFormationClient, CreateStackCommand, DescribeStackResourcesCommand, DescribeStacksCommand, type Stack as CfnStack,
} from '@aws-sdk/client-cloudformation';
import { CreateBucketCommand, HeadBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { App } from 'aws-cdk-lib';
import { buildApp } from './app.js';
import { MOTO_UNSUPPORTED } from './moto-support.js';

/** moto's account id: what `${AWS::AccountId}` is on the local endpoint. */
const LOCAL_ACCOUNT = '123456789012';

export interface LocalDeployRequest {
  readonly endpoint: string;
  readonly region: string;
  readonly stackName: string;
  /** The JSON settings file (the CLI's --config format plus the infra inputs). */
  readonly settingsFile: string;
}

/** The stack's outputs by setting key (statusTable, outputBucket, kmsKeyId, alertsTopicArn, …). */
export type Deployed = Readonly<Record<string, string>>;

/**
 * Synthesizes the stack for moto (`localDeploy=true`: the types of infra/moto-support.ts left out), publishes
 * its file assets to the bootstrap bucket name the template expects (moto has no bootstrap stack), creates the
 * stack through CloudFormation and checks that every resource of the template was created.
 */
export async function deployLocal(request: LocalDeployRequest): Promise<Deployed> {
  const outdir = mkdtempSync(join(tmpdir(), 'ingest-replica-cdk-'));
  try {
    const { app } = buildApp(new App({ outdir, context: { config: request.settingsFile, localDeploy: 'true', stackName: request.stackName } }));
    const assembly = app.synth();
    const artifact = assembly.getStackByName(request.stackName);
    const template = artifact.template as { Resources: Record<string, { Type: string }> };
    const unsupported = Object.entries(template.Resources).filter(([, r]) => r.Type in MOTO_UNSUPPORTED);
    if (unsupported.length > 0) {
      throw new Error(`the local template holds resource types moto cannot create: ${unsupported.map(([id, r]) => `${id} (${r.Type})`).join(', ')}. Fix: create them only when deployment.deploys(type) (infra/moto-support.ts)`);
    }
    const aws = { endpoint: request.endpoint, region: request.region, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
    const s3 = new S3Client({ ...aws, forcePathStyle: true });
    const cfn = new CloudFormationClient(aws);
    try {
      await publishAssets(s3, outdir, request);
      // moto accepts a second CreateStack under a name it already has: ask first.
      const existing = await cfn.send(new DescribeStacksCommand({ StackName: request.stackName })).then((r) => r.Stacks ?? [], () => []);
      if (existing.some((st) => st.StackStatus !== 'DELETE_COMPLETE')) {
        throw new Error(`stack ${request.stackName} already exists on this local stack (names in .local/deployed.json). Fix: deploy under another --stack-name and settings file, or start afresh with \`ingest-replica local down && ingest-replica local up\``);
      }
      await cfn.send(new CreateStackCommand({
        StackName: request.stackName, TemplateBody: JSON.stringify(template), Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
      })).catch((error: unknown) => {
        throw new Error(`creating stack ${request.stackName} on moto failed: ${(error as Error).message}. A name in ${request.settingsFile} (statusTable, outputBucket, logGroupName) may belong to an earlier deployment: use other names, or restart the local stack`);
      });
      const stack = await waitForStack(cfn, request.stackName);
      const { StackResources } = await cfn.send(new DescribeStackResourcesCommand({ StackName: request.stackName }));
      const created = new Set((StackResources ?? []).map((r) => r.LogicalResourceId));
      const missing = Object.keys(template.Resources).filter((id) => !created.has(id));
      if (missing.length > 0) throw new Error(`moto reported ${request.stackName} created without ${missing.join(', ')}`);
      return Object.freeze(Object.fromEntries((stack.Outputs ?? []).map((o) => [o.Description ?? o.OutputKey ?? '', o.OutputValue ?? ''])));
    } finally {
      s3.destroy();
      cfn.destroy();
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

interface AssetManifest {
  files?: Record<string, { source: { path: string; packaging?: 'file' | 'zip' }; destinations: Record<string, { bucketName: string; objectKey: string }> }>;
}

async function publishAssets(s3: S3Client, outdir: string, request: LocalDeployRequest): Promise<void> {
  const manifestPath = join(outdir, `${request.stackName}.assets.json`);
  if (!existsSync(manifestPath)) return;
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as AssetManifest;
  for (const [hash, asset] of Object.entries(manifest.files ?? {})) {
    const source = join(outdir, asset.source.path);
    let body: Buffer;
    if (statSync(source).isDirectory()) {
      const zip = join(outdir, `${hash}.zip`);
      execFileSync('zip', ['-q', '-r', '-X', zip, '.'], { cwd: source });
      body = readFileSync(zip);
    } else {
      body = readFileSync(source);
    }
    for (const destination of Object.values(asset.destinations)) {
      const bucket = destination.bucketName.replace('${AWS::AccountId}', LOCAL_ACCOUNT).replace('${AWS::Region}', request.region);
      await s3.send(new HeadBucketCommand({ Bucket: bucket })).catch(async () => {
        await s3.send(new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: request.region as never } }));
      });
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: destination.objectKey, Body: body }));
    }
  }
}

async function waitForStack(cfn: CloudFormationClient, name: string): Promise<CfnStack> {
  for (let i = 0; i < 120; i += 1) {
    const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: name }));
    const stack = Stacks?.[0];
    const status = stack?.StackStatus ?? '';
    if (status === 'CREATE_COMPLETE') return stack as CfnStack;
    if (status.endsWith('_FAILED') || status.includes('ROLLBACK')) throw new Error(`stack ${name} ${status}: ${stack?.StackStatusReason ?? ''}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`stack ${name} was not created within a minute`);
}

/** `node dist/infra/deploy-local.js [--stack-name N] [--settings FILE] [--out FILE]`: make deploy-local. */
async function main(argv: string[]): Promise<void> {
  const arg = (flag: string, fallback: string): string => {
    const i = argv.indexOf(flag);
    return i >= 0 && argv[i + 1] !== undefined ? (argv[i + 1] as string) : fallback;
  };
  const endpoint = process.env.AWS_ENDPOINT_URL;
  if (endpoint === undefined) throw new Error('AWS_ENDPOINT_URL is not set. Fix: ./bin/ingest-replica local up && source .local/stack.env');
  const deployed = await deployLocal({
    endpoint, region: process.env.AWS_REGION ?? 'eu-west-2',
    stackName: arg('--stack-name', 'ingest-replica-local'), settingsFile: arg('--settings', 'infra/local-settings.json'),
  });
  const out = arg('--out', '.local/deployed.json');
  writeFileSync(out, `${JSON.stringify(deployed, null, 2)}\n`);
  console.log(`deployed; names in ${out}:\n${JSON.stringify(deployed, null, 2)}`);
}

if (process.argv[1]?.endsWith('deploy-local.js')) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    console.error(`deploy-local: ${(error as Error).message}`);
    process.exit(1);
  });
}
