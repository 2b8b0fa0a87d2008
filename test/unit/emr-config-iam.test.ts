import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

interface Statement {
  Sid: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}
interface Policy { Version: string; Statement: Statement[] }

const repo = join(import.meta.dirname, '../..');
const dir = join(repo, 'emr-config/iam');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const text = (file: string): string => readFileSync(join(dir, file), 'utf8');
const policy = (file: string): Policy => JSON.parse(text(file)) as Policy;
const list = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);
const security = readFileSync(join(repo, 'docs/SECURITY.md'), 'utf8');
const statement = (file: string, sid: string): Statement => {
  const found = policy(file).Statement.find((s) => s.Sid === sid);
  if (found === undefined) throw new Error(`${file} has no statement ${sid}`);
  return found;
};
/** Actions AWS authorizes only on "*" (no resource-level permissions): each justified in docs/SECURITY.md. */
const RESOURCE_STAR_ALLOWED = new Set(['elasticmapreduce:RunJobFlow', 'elasticmapreduce:ListClusters']);

describe('emr-config/iam policy documents', () => {
  it('has one for each role: trigger Lambda, purge Lambda, cluster instance profile', () => {
    expect(files).toEqual(['cluster-instance-profile-policy.json', 'purge-lambda-policy.json', 'trigger-lambda-policy.json']);
  });

  describe.each(files)('%s', (file) => {
    it('is a 2012-10-17 policy of Allow statements with unique alphanumeric Sids', () => {
      const doc = policy(file);
      expect(doc.Version).toBe('2012-10-17');
      expect(doc.Statement.length).toBeGreaterThan(0);
      for (const s of doc.Statement) {
        expect(s.Effect).toBe('Allow');
        expect(s.Sid).toMatch(/^[A-Za-z0-9]+$/);
      }
      expect(new Set(doc.Statement.map((s) => s.Sid)).size).toBe(doc.Statement.length);
    });

    it('never grants every action, nor every action of a service', () => {
      for (const s of policy(file).Statement) {
        for (const action of list(s.Action)) expect(action, s.Sid).not.toMatch(/^(\*|[a-z0-9-]+:\*)$/);
      }
    });

    it('grants "*" resources only to actions that support nothing narrower, each justified in docs/SECURITY.md', () => {
      for (const s of policy(file).Statement.filter((st) => list(st.Resource).includes('*'))) {
        for (const action of list(s.Action)) expect(RESOURCE_STAR_ALLOWED, `${s.Sid}: ${action}`).toContain(action);
        expect(security, s.Sid).toContain(s.Sid);
      }
    });

    it('names every resource with ${Placeholders} that docs/SECURITY.md explains', () => {
      const placeholders = new Set([...text(file).matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!));
      expect(placeholders.size).toBeGreaterThan(0);
      for (const name of placeholders) expect(security, name).toContain(`\`\${${name}}\``);
      // A placeholder is all a resource may leave open: no account or region wildcards.
      for (const s of policy(file).Statement) for (const r of list(s.Resource)) expect(r, s.Sid).not.toMatch(/^arn:aws:[a-z0-9-]+:\*|:\*:/);
    });
  });
});

describe('the trigger Lambda\'s policy', () => {
  const file = 'trigger-lambda-policy.json';

  it('passes exactly the two EMR roles, each to its own service', () => {
    const passes = policy(file).Statement.filter((s) => list(s.Action).includes('iam:PassRole'));
    expect(passes.flatMap((s) => list(s.Resource)).sort()).toEqual([
      'arn:aws:iam::${AccountId}:role/${EmrInstanceRoleName}', 'arn:aws:iam::${AccountId}:role/${EmrServiceRoleName}',
    ]);
    for (const s of passes) expect(JSON.stringify(s.Condition), s.Sid).toMatch(/iam:PassedToService/);
  });

  it('launches only clusters carrying our tag and stops or inspects only those', () => {
    expect(statement(file, 'LaunchOnlyTaggedClusters').Condition).toEqual({
      StringEquals: { 'aws:RequestTag/${ClusterTagKey}': '${ClusterTagValue}' },
    });
    const manage = statement(file, 'InspectAndStopOurClusters');
    expect(list(manage.Action)).toContain('elasticmapreduce:TerminateJobFlows');
    expect(manage.Condition).toEqual({ StringEquals: { 'elasticmapreduce:ResourceTag/${ClusterTagKey}': '${ClusterTagValue}' } });
  });

  it('reaches the status table and its byCollection index, never with Scan or DeleteItem', () => {
    const dynamo = statement(file, 'StatusTableRowsAndIndex');
    expect(list(dynamo.Resource)).toContain('arn:aws:dynamodb:${Region}:${AccountId}:table/${StatusTable}/index/byCollection');
    expect(list(dynamo.Action)).not.toContain('dynamodb:Scan');
    expect(list(dynamo.Action)).not.toContain('dynamodb:DeleteItem');
  });
});

describe('the purge Lambda\'s policy', () => {
  const file = 'purge-lambda-policy.json';

  it('lists and deletes only under <hbase root>/data/hbase/meta_*', () => {
    expect(statement(file, 'ListReplicaMetaFoldersOnly').Condition).toEqual({
      StringLike: { 's3:prefix': '${HBaseRootPrefix}/data/hbase/meta_*' },
    });
    const deletes = policy(file).Statement.filter((s) => list(s.Action).some((a) => a.startsWith('s3:') && a !== 's3:ListBucket'));
    expect(deletes.flatMap((s) => list(s.Action))).toEqual(['s3:DeleteObject']);
    expect(deletes.flatMap((s) => list(s.Resource))).toEqual(['arn:aws:s3:::${HBaseRootBucket}/${HBaseRootPrefix}/data/hbase/meta_*']);
  });
});

describe('the cluster instance profile\'s policy', () => {
  const file = 'cluster-instance-profile-policy.json';
  const WRITES = /^s3:(Put|Delete|Abort|Restore|Replicate)/;

  it('writes nothing in the HBase root except the replica\'s own meta folders', () => {
    for (const s of policy(file).Statement.filter((st) => list(st.Action).some((a) => WRITES.test(a)))) {
      for (const r of list(s.Resource).filter((res) => res.includes('${HBaseRootBucket}'))) {
        expect(r, s.Sid).toBe('arn:aws:s3:::${HBaseRootBucket}/${HBaseRootPrefix}/data/hbase/meta_*');
      }
    }
  });

  it('writes the output under the output (and reprocess) prefixes only, encrypted with the output key through S3', () => {
    expect(list(statement(file, 'WriteOutputAndQuarantine').Resource)).toEqual([
      'arn:aws:s3:::${OutputBucket}/${OutputPrefix}/*', 'arn:aws:s3:::${OutputBucket}/${ReprocessPrefix}/*',
    ]);
    const kms = statement(file, 'EncryptOutputViaS3');
    expect(list(kms.Action).sort()).toEqual(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(kms.Condition).toEqual({ StringEquals: { 'kms:ViaService': 's3.${Region}.amazonaws.com' } });
  });

  it('registers runs in the product\'s Glue database only: its tables and partitions, nothing deleted', () => {
    const glue = statement(file, 'RegisterPublishedRunsInGlue');
    expect(list(glue.Action).every((a) => /^glue:(Get|Create|BatchCreate)/.test(a))).toBe(true);
    expect(list(glue.Resource)).toEqual([
      'arn:aws:glue:${Region}:${AccountId}:catalog', 'arn:aws:glue:${Region}:${AccountId}:database/${GlueDatabase}',
      'arn:aws:glue:${Region}:${AccountId}:table/${GlueDatabase}/*',
    ]);
  });

  it('ships logs to the ingest-replica log group only', () => {
    for (const r of list(statement(file, 'ShipLogsToTheLogGroup').Resource)) expect(r).toMatch(/:log-group:\$\{LogGroupName\}(:\*)?$/);
  });
});
