import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp } from '../../infra/app.js';
import type { IngestReplicaStack } from '../../infra/stack.js';

/** The required deployment settings, under the CLI's names (and the infra-only hbaseRootKmsKeyArn). */
export const DEPLOY_SETTINGS: Readonly<Record<string, string>> = {
  subnetId: 'subnet-0abc1234',
  hbaseRootDir: 's3://primary-hbase-root/hbase',
  dksUrl: 'https://dks.internal:8443',
  dksCertSecret: 'ingest-replica/dks-client',
  hbaseRootKmsKeyArn: 'arn:aws:kms:eu-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
};

/** A folder with a stand-in artifact (the real one is `make bundle`'s ~88 MiB). */
export function fakeBundleDir(version = '0.1.0'): string {
  const dir = mkdtempSync(join(tmpdir(), 'ir-bundle-'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `ingest-replica-${version}.tar.gz`), 'not a real artifact');
  writeFileSync(join(dir, `ingest-replica-${version}.tar.gz.sha256`), 'x  ingest-replica-0.1.0.tar.gz\n');
  return dir;
}

/** The app and stack of infra/app.ts for these settings (over DEPLOY_SETTINGS), not yet synthesized. */
export function testApp(context: Record<string, string> = {}): { app: App; stack: IngestReplicaStack } {
  return buildApp(new App({ outdir: mkdtempSync(join(tmpdir(), 'ir-cdk-')), context: { ...DEPLOY_SETTINGS, bundleDir: fakeBundleDir(), ...context } }));
}

export function synthStack(context: Record<string, string> = {}): { stack: IngestReplicaStack; template: Template } {
  const { stack } = testApp(context);
  return { stack, template: Template.fromStack(stack) };
}
