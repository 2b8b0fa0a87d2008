import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { LAUNCH_REQUIRED } from '../../src/config/orchestrator-config.js';
import { projectRoot } from '../../src/shared/project-root.js';

/**
 * Issue 12 §1, the way it fails in AWS: no local stack here (an empty INGEST_REPLICA_HOME) and nothing
 * listening anywhere. The trigger must stop before RunJobFlow naming every missing setting; the step on an EMR
 * node (a job-flow file) must refuse the local-stack defaults at start.
 */
const exec = promisify(execFile);
const home = mkdtempSync(join(tmpdir(), 'ingest-replica-nostack-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));
const CLOSED = 'http://127.0.0.1:9';
/** The environment of a machine that is not the local stack: only the process basics and dead endpoints. */
const bare = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH, HOME: process.env.HOME, INGEST_REPLICA_HOME: home, AWS_ENDPOINT_URL: CLOSED, AWS_REGION: 'eu-west-2',
  AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_MAX_ATTEMPTS: '1', LOG_LEVEL: 'warn', ...extra,
});

async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [join(projectRoot(), 'dist', 'src', 'cli', 'main.js'), ...args], { env, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const error = e as { code: number; stdout: string; stderr: string };
    return { code: error.code, stdout: error.stdout, stderr: error.stderr };
  }
}

describe('a launch outside the local stack', () => {
  it('trigger (and --dry-run) exits 2 before RunJobFlow, naming each missing setting and where to set it', async () => {
    for (const args of [['trigger', '--force', '--collections', 'core:addresses'], ['trigger', '--dry-run', '--collections', 'core:addresses']]) {
      const r = await cli(args, bare());
      expect(r.code, r.stderr).toBe(2);
      for (const req of LAUNCH_REQUIRED) expect(r.stderr).toContain(`- ${req.key} (`);
      expect(r.stderr).toContain('set flag --dks-url <value>, environment DKS_URL, or config file key "dksUrl"');
      expect(r.stderr).toContain('environment INGEST_KMS_KEY_ID');
    }
  });

  it('cluster start names the replica\'s own settings only', async () => {
    const r = await cli(['cluster', 'start', '--idle-timeout', '4h', '--dry-run'], bare());
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('- emrLogUri (');
    expect(r.stderr).not.toContain('- dksUrl (');
  });
});

describe('the step on an EMR node', () => {
  const jobFlow = join(home, 'job-flow.json');
  writeFileSync(jobFlow, JSON.stringify({ jobFlowId: 'j-TESTNODE' }));
  const run = ['run', '--correlation-id', 'emr-node', '--triggered-time', '1', '--end-time', '1', '--collections', 'core:addresses'];

  it('refuses at start to run on a local-stack default (DKS on 127.0.0.1, no KMS key), naming each setting', async () => {
    const r = await cli(run, bare({ EMR_JOB_FLOW_FILE: jobFlow, INGEST_ENGINE: 'single' }));
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`the step on an EMR node (${jobFlow} exists) needs`);
    for (const key of ['dksUrl', 'dksClientCert', 'dksClientKey', 'dksCaCert', 'kmsKeyId', 'outputBucket', 'collectionsSecret']) expect(r.stderr).toContain(`- ${key} (`);
    expect(r.stderr).toContain('a launch installs it from INGEST_DKS_CERT_SECRET');
  });

  it('starts when they are set (then fails only on the dead endpoints, exit 1), and off EMR takes the defaults', async () => {
    const pem = join(home, 'x.pem');
    writeFileSync(pem, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');
    const set = {
      DKS_URL: 'https://127.0.0.1:9', DKS_CLIENT_CERT: pem, DKS_CLIENT_KEY: pem, DKS_CA_CERT: pem, INGEST_KMS_KEY_ID: 'alias/k',
      INGEST_OUTPUT_BUCKET: 'bucket', INGEST_COLLECTIONS_SECRET: '/intraday/collections', HBASE_REST_URL: CLOSED, INGEST_ENGINE: 'single',
    };
    const onNode = await cli(run, bare({ EMR_JOB_FLOW_FILE: jobFlow, ...set }));
    expect(onNode.stderr).not.toContain('EMR node');
    expect(onNode.code, onNode.stderr).toBe(1);
    const { DKS_URL: _dksUrl, ...withoutDksUrl } = set;
    const offNode = await cli(run, bare({ EMR_JOB_FLOW_FILE: join(home, 'none.json'), ...withoutDksUrl }));
    expect(offNode.stderr).not.toContain('EMR node');
    expect(offNode.code, offNode.stderr).toBe(1);
    // Off EMR too, output is never written without SSE-KMS outside the local stack (issue 16.5).
    const noKey = await cli(run, bare({ EMR_JOB_FLOW_FILE: join(home, 'none.json'), ...set, INGEST_KMS_KEY_ID: '' }));
    expect(noKey.code, noKey.stderr).toBe(2);
    expect(noKey.stderr).toContain('no KMS key for the output');
  });
});
