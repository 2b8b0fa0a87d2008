import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PolicyDocument } from 'aws-cdk-lib/aws-iam';
import { projectRoot } from '../src/shared/project-root.js';

/** The least-privilege policies of emr-config/iam/, read from those files (never copied into the stack). */
export const POLICY_FILES = {
  trigger: 'trigger-lambda-policy.json',
  purge: 'purge-lambda-policy.json',
  clusterInstance: 'cluster-instance-profile-policy.json',
} as const;

export type PolicyName = keyof typeof POLICY_FILES;

interface PolicyJson {
  Version: string;
  Statement: { Sid?: string }[];
}

export function readPolicyFile(name: PolicyName): PolicyJson {
  return JSON.parse(readFileSync(join(projectRoot(), 'emr-config', 'iam', POLICY_FILES[name]), 'utf8')) as PolicyJson;
}

/**
 * The policy with every `${Placeholder}` replaced by its value (text or a CDK token). A placeholder without a
 * value is an error naming it and the file: a half-filled policy must never synthesize. `drop` leaves out
 * statements by Sid (e.g. KMS data-key unwrapping when data keys come from the DKS).
 */
export function policyFromFile(name: PolicyName, values: Readonly<Record<string, string>>, drop: readonly string[] = []): PolicyDocument {
  const doc = readPolicyFile(name);
  doc.Statement = doc.Statement.filter((s) => !drop.includes(s.Sid ?? ''));
  const fill = (v: unknown): unknown => {
    if (typeof v === 'string') {
      return v.replace(/\$\{([A-Za-z]+)\}/g, (_, key: string) => {
        const value = values[key];
        if (value === undefined) throw new Error(`emr-config/iam/${POLICY_FILES[name]}: no value for \${${key}}. Fix: give it in the stack's policy values.`);
        return value;
      });
    }
    if (Array.isArray(v)) return v.map(fill);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [fill(k) as string, fill(x)]));
    return v;
  };
  return PolicyDocument.fromJson(fill(doc));
}
