import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { AwsSolutionsChecks, rules } from 'cdk-nag';
import type { IngestReplicaStack } from './stack.js';

/** One accepted finding: the rule, the construct (path below the stack) and why. */
export interface Suppression {
  readonly id: string;
  readonly path: string;
  readonly reason: string;
}

const BUCKET_DEPLOYMENT = '/Custom::CDKBucketDeployment8693BB64968944B69AAFB0CC9EB8756C1024MiB';
const NODE_24 = 'Node 24 is the runtime the project builds, bundles and tests the handlers on (the Makefile\'s Node, the EMR bundle\'s runtime); move with the project, not ahead of it';

/**
 * Every AwsSolutions finding this stack accepts, each with its reason. Nothing else is acknowledged: a new
 * finding fails the synth and the nag test. IAM4/IAM5 are granular (one finding per managed policy or wildcard
 * resource); the findings of the listed resource are acknowledged one by one with the reason given here, and a
 * whole-service action (`*`, `s3:*`) is never accepted.
 */
export const SUPPRESSIONS: readonly Suppression[] = [
  { id: 'AwsSolutions-IAM5', path: '/TriggerFunctionRole/Resource', reason: 'emr-config/iam/trigger-lambda-policy.json (docs/SECURITY.md): RunJobFlow (conditioned on the Application request tag) and ListClusters have no resource-level permissions; cluster/* is conditioned on the Application resource tag; the log stream ARNs of its own log group end in :*' },
  { id: 'AwsSolutions-IAM5', path: '/PurgeFunctionRole/Resource', reason: 'emr-config/iam/purge-lambda-policy.json (docs/SECURITY.md): the cluster id is known only from the event (cluster/*); deletes are confined to the replicas\' meta_* folders; its own log streams end in :*' },
  { id: 'AwsSolutions-IAM5', path: '/EmrInstanceRole/Resource', reason: 'emr-config/iam/cluster-instance-profile-policy.json (docs/SECURITY.md): object grants are scoped to the HBase root, output, reprocess, artifacts and EMR log prefixes (prefix/*) and the replica\'s meta_* folders; EMR\'s regional bucket; DescribeLogGroups has no resource-level permission' },
  { id: 'AwsSolutions-IAM4', path: '/EmrServiceRole/Resource', reason: 'AmazonEMRServicePolicy_v2 is the AWS-maintained EMR service policy, scoped by the for-use-with-amazon-emr-managed-policies tag' },
  { id: 'AwsSolutions-SMG4', path: '/CollectionsSecret/Resource', reason: 'the collections secret is configuration (which tables to export), not a credential: there is nothing to rotate' },
  { id: 'AwsSolutions-S1', path: '/AccessLogsBucket/Resource', reason: 'this is the server access log bucket of the other buckets; logging it into itself would loop' },
  { id: 'AwsSolutions-L1', path: '/TriggerFunction/Resource', reason: NODE_24 },
  { id: 'AwsSolutions-L1', path: '/PurgeFunction/Resource', reason: NODE_24 },
  { id: 'AwsSolutions-L1', path: `${BUCKET_DEPLOYMENT}/Resource`, reason: 'CDK\'s BucketDeployment function: its Python runtime is chosen by aws-cdk-lib, not by this stack' },
  { id: 'AwsSolutions-IAM4', path: `${BUCKET_DEPLOYMENT}/ServiceRole/Resource`, reason: 'CDK\'s BucketDeployment function uses AWSLambdaBasicExecutionRole for its own logs' },
  { id: 'AwsSolutions-IAM5', path: `${BUCKET_DEPLOYMENT}/ServiceRole/DefaultPolicy/Resource`, reason: 'CDK\'s BucketDeployment grants: read its asset objects (assets bucket/*), write the release under the artifacts bucket (bucket/*), with the key' },
];

const GRANULAR: Readonly<Record<string, (node: CfnResource) => unknown>> = {
  'AwsSolutions-IAM5': rules.iam.IAMNoWildcardPermissions as (node: CfnResource) => unknown,
  'AwsSolutions-IAM4': rules.iam.IAMNoManagedPolicies as (node: CfnResource) => unknown,
};

/** Adds the AwsSolutions checks (CDK policy validation: a finding fails the synth) and the acknowledgements. */
export function applyNag(stack: IngestReplicaStack): void {
  Validations.of(stack).addPlugins(new AwsSolutionsChecks(stack, { verbose: true }));
  const byPath = new Map<string, IConstruct>(stack.node.findAll().map((c) => [`/${c.node.path}`, c]));
  const root = `/${Stack.of(stack).node.path}`;
  for (const s of SUPPRESSIONS) {
    const construct = byPath.get(`${root}${s.path}`);
    if (construct === undefined) continue;
    const granular = GRANULAR[s.id];
    if (granular === undefined || !(construct instanceof CfnResource)) {
      Validations.of(construct).acknowledge({ id: s.id, reason: s.reason });
      continue;
    }
    const findings = granular(construct);
    for (const finding of Array.isArray(findings) ? (findings as string[]) : []) {
      if (/^Action::(\*|[a-z0-9-]+:\*)$/.test(finding)) throw new Error(`${s.path}: ${finding} grants a whole service; no suppression accepts that`);
      Validations.of(construct).acknowledge({ id: `${s.id}[${finding}]`, reason: s.reason });
    }
  }
}
