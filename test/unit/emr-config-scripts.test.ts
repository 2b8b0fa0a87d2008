import { execFile, type ExecFileException } from 'node:child_process';
import { chmodSync, copyFileSync, globSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const repo = join(import.meta.dirname, '../..');
const read = (path: string): string => readFileSync(join(repo, path), 'utf8');
const LOG_GROUP = '/app/ingest-replica-incremental';
const RETENTION_DAYS = [-1, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

const scripts = [
  'scripts/bundle.sh',
  'steps/run-step.sh',
  ...readdirSync(join(repo, 'emr-config/bootstrap')).filter((f) => f.endsWith('.sh')).map((f) => `emr-config/bootstrap/${f}`),
];

describe('bootstrap, step and bundle scripts', () => {
  it.each(scripts)('%s parses (bash -n) and stops at the first error (set -euo pipefail)', async (script) => {
    await expect(exec('bash', ['-n', join(repo, script)])).resolves.toBeDefined();
    expect(read(script)).toMatch(/^#!\/usr\/bin\/env bash\n[\s\S]*^set -euo pipefail$/m);
  });

  it('includes the three bootstrap scripts the cluster templates reference', () => {
    expect(scripts).toEqual(expect.arrayContaining([
      'emr-config/bootstrap/install-ingest-replica.sh', 'emr-config/bootstrap/install-cloudwatch-agent.sh', 'emr-config/bootstrap/ensure-hbase-rest.sh',
    ]));
  });
});

describe('steps/run-step.sh', () => {
  const work = mkdtempSync(join(tmpdir(), 'ir-run-step-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('runs the CLI bundle the bundle script produces, from the install layout', () => {
    expect(read('steps/run-step.sh')).toMatch(/cli="\$home\/dist\/ingest-replica\.js"/);
    expect(read('steps/run-step.sh')).toMatch(/exec "\$node" --enable-source-maps "\$cli" run "\$@"/);
    expect(read('scripts/bundle.sh')).toMatch(/ingest-replica=src\/cli\/main\.ts/);
    // The encoder thread is loaded from beside the bundle under this name (src/sink/encoder-pool.ts).
    expect(read('scripts/bundle.sh')).toMatch(/parquet-encoder-adapter=src\/sink\/parquet-encoder-adapter\.ts/);
    expect(read('src/sink/encoder-pool.ts')).toMatch(/new URL\(`\.\/parquet-encoder-adapter\$\{/);
  });

  it('exits 2 with a JSON log line naming the bootstrap action when nothing is installed, in a log file named after the correlation id', async () => {
    const logDir = join(work, 'log');
    const error = await exec('bash', [join(repo, 'steps/run-step.sh'), '--correlation-id', 'a/b c', '--collections', 'x:y'], {
      env: { PATH: process.env.PATH, INGEST_REPLICA_INSTALL: join(work, 'empty'), INGEST_REPLICA_LOG_DIR: logDir },
    }).then(() => undefined, (e: unknown) => e as ExecFileException & { stderr: string });
    expect(error?.code).toBe(2);
    const line = JSON.parse(error!.stderr.trim().split('\n').at(-1)!) as { level: number; msg: string };
    expect(line.level).toBe(50);
    expect(line.msg).toMatch(/install-ingest-replica bootstrap action/);
    // '/' and ' ' cannot be in a file name the agent's glob matches safely: replaced.
    expect(readFileSync(join(logDir, 'step-a_b_c.log'), 'utf8')).toContain(line.msg);
  });
});

describe('steps/run-step.sh on a node of the Spark cluster', () => {
  const work = mkdtempSync(join(tmpdir(), 'ir-run-step-spark-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** An install whose "node" prints the environment the CLI would start with, then its arguments. */
  function fakeInstall(restEnv: string): string {
    const home = join(work, `install-${Math.random().toString(36).slice(2)}`);
    for (const dir of ['node/bin', 'dist', 'bootstrap', 'etc']) mkdirSync(join(home, dir), { recursive: true });
    writeFileSync(join(home, 'node/bin/node'), '#!/usr/bin/env bash\nenv | grep -E "^(HBASE_REST_URL|INGEST_WORKER_HBASE_REST_URL|SPARK_HOME)=" | sort\necho "args: $*"\n');
    chmodSync(join(home, 'node/bin/node'), 0o755);
    writeFileSync(join(home, 'dist/ingest-replica.js'), '');
    copyFileSync(join(repo, 'emr-config/bootstrap/ensure-hbase-rest.sh'), join(home, 'bootstrap/ensure-hbase-rest.sh'));
    chmodSync(join(home, 'bootstrap/ensure-hbase-rest.sh'), 0o755);
    writeFileSync(join(home, 'etc/hbase-rest.env'), restEnv);
    return home;
  }
  const runStep = (home: string, args: string[], extraEnv: Record<string, string> = {}) =>
    exec('bash', [join(repo, 'steps/run-step.sh'), '--correlation-id', 'run-1', ...args], {
      env: { PATH: process.env.PATH, INGEST_REPLICA_INSTALL: home, INGEST_REPLICA_LOG_DIR: join(work, 'log'), HBASE_HOME: '/nonexistent/hbase', INGEST_REST_WAIT_SECONDS: '1', ...extraEnv },
    });

  it('points the step and the Spark workers at this node\'s REST port, and spark-submit at EMR\'s Spark', async () => {
    const { stdout, stderr } = await runStep(fakeInstall('HBASE_REST_PORT=18080\nHBASE_REST_INFO_PORT=18085\n'), ['--collections', 'x:y']);
    expect(stdout).toContain('HBASE_REST_URL=http://127.0.0.1:18080\n');
    expect(stdout).toContain('INGEST_WORKER_HBASE_REST_URL=http://127.0.0.1:18080\n');
    expect(stdout).toContain('SPARK_HOME=/usr/lib/spark\n');
    expect(stdout).toContain('args: --enable-source-maps');
    // No REST server and no HBase here: it says so, and runs anyway so that the CLI records the failure.
    expect(stderr).toMatch(/the HBase REST server did not answer on port 18080/);
  });

  it('leaves a REST URL the flags, the environment or the config file give alone', async () => {
    const home = fakeInstall('HBASE_REST_PORT=18080\n');
    const flagged = await runStep(home, ['--worker-hbase-rest-url', 'http://10.0.0.9:9090'], { HBASE_REST_URL: 'http://127.0.0.1:7070', SPARK_HOME: '/opt/spark' });
    expect(flagged.stdout).not.toContain('INGEST_WORKER_HBASE_REST_URL=');
    expect(flagged.stdout).toContain('HBASE_REST_URL=http://127.0.0.1:7070\n');
    expect(flagged.stdout).toContain('SPARK_HOME=/opt/spark\n');
    const file = join(work, 'settings.json');
    writeFileSync(file, JSON.stringify({ workerHbaseRestUrl: 'http://127.0.0.1:6060' }));
    const filed = await runStep(home, [], { INGEST_REPLICA_CONFIG: file });
    expect(filed.stdout).not.toContain('INGEST_WORKER_HBASE_REST_URL=');
    expect(filed.stdout).toContain('HBASE_REST_URL=http://127.0.0.1:18080\n');
  });
});

describe('emr-config/bootstrap/install-ingest-replica.sh', () => {
  const script = read('emr-config/bootstrap/install-ingest-replica.sh');

  it('starts the REST waiter on every node, not only the master (Spark tasks run on the core nodes)', () => {
    expect(script).not.toMatch(/is_master\(\)|&& is_master/);
    expect(script).toMatch(/^if \[ "\$rest" = yes \]; then$/m);
    expect(script).toMatch(/ensure-hbase-rest\.sh" --port "\$rest_port" --info-port "\$rest_info_port" \\\n\s+\$\{rest_heap:\+--heap "\$rest_heap"\} --timeout 3600 --wait-install/);
  });

  it('accepts every option the cluster template passes it', () => {
    const template = JSON.parse(read('emr-config/cluster/bootstrap-actions.json')) as { ScriptBootstrapAction: { Args: string[] } }[];
    const options = (template[1]?.ScriptBootstrapAction.Args ?? []).filter((a) => a.startsWith('--'));
    expect(options).toEqual(['--install-dir', '--rest-port', '--rest-heap']);
    for (const option of [...options, '--config', '--dks-cert-secret']) expect(script, option).toContain(`    ${option}) `);
  });
});

describe('emr-config/bootstrap/ensure-hbase-rest.sh', () => {
  it('refuses a heap size Java would not take', async () => {
    const error = await exec('bash', [join(repo, 'emr-config/bootstrap/ensure-hbase-rest.sh'), '--heap', '1x'])
      .then(() => undefined, (e: unknown) => e as ExecFileException & { stdout: string });
    expect(error?.code).toBe(1);
    expect(error?.stdout).toMatch(/ERROR --heap needs a size such as 512m or 1g, got '1x'/);
  });

  it('fails at once, naming what is missing, when no server answers and HBase is not installed', async () => {
    const error = await exec('bash', [join(repo, 'emr-config/bootstrap/ensure-hbase-rest.sh'), '--port', '9', '--timeout', '30'], {
      env: { PATH: process.env.PATH, HBASE_HOME: '/nonexistent/hbase' },
    }).then(() => undefined, (e: unknown) => e as ExecFileException & { stdout: string });
    expect(error?.code).toBe(1);
    expect(error?.stdout).toMatch(/ERROR HBase is not installed here \(\/nonexistent\/hbase\/bin\/hbase-daemon\.sh/);
  });
});

describe('steps/step-definition.json', () => {
  const step = JSON.parse(read('steps/step-definition.json')) as {
    ActionOnFailure: string; HadoopJarStep: { Jar: string; Args: string[] };
  };

  it('runs the wrapper through command-runner.jar and terminates the cluster on failure', () => {
    expect(step.ActionOnFailure).toBe('TERMINATE_CLUSTER');
    expect(step.HadoopJarStep.Jar).toBe('command-runner.jar');
    expect(step.HadoopJarStep.Args[0]).toBe('/opt/ingest-replica/steps/run-step.sh');
  });

  it('passes every option `run` requires', () => {
    for (const flag of ['--correlation-id', '--triggered-time', '--end-time', '--collections']) {
      const at = step.HadoopJarStep.Args.indexOf(flag);
      expect(at, flag).toBeGreaterThan(0);
      expect(step.HadoopJarStep.Args[at + 1], flag).toMatch(/^\$\{\w+\}$/);
    }
  });
});

describe('emr-config/cloudwatch/agent-config.json', () => {
  interface Entry { file_path: string; log_group_name: string; log_stream_name: string; retention_in_days: number; publish_multi_logs?: boolean }
  const config = JSON.parse(read('emr-config/cloudwatch/agent-config.json')) as { logs: { logs_collected: { files: { collect_list: Entry[] } } } };
  const entries = config.logs.logs_collected.files.collect_list;
  const streamOf = (path: string): string | undefined => entries.find((e) => e.file_path === path)?.log_stream_name;

  it('ships every file to the log group /app/ingest-replica-incremental with a retention CloudWatch accepts', () => {
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      expect(entry.log_group_name).toBe(LOG_GROUP);
      expect(RETENTION_DAYS).toContain(entry.retention_in_days);
    }
  });

  it('puts the step\'s logs in the {instance_id}/step stream family and the bootstrap logs in {instance_id}/bootstrap', () => {
    expect(streamOf('/var/log/ingest-replica/step-*.log')).toBe('{instance_id}/step');
    expect(streamOf('/var/log/ingest-replica/bootstrap*.log')).toBe('{instance_id}/bootstrap');
    expect(streamOf('/emr/instance-controller/log/bootstrap-actions/*/stderr')).toBe('{instance_id}/bootstrap');
    expect(new Set(entries.map((e) => e.log_stream_name))).toEqual(new Set(['{instance_id}/step', '{instance_id}/bootstrap']));
  });

  it('follows every file a glob matches, not only the newest (the agent\'s default)', () => {
    for (const entry of entries.filter((e) => e.file_path.includes('*'))) expect(entry.publish_multi_logs, entry.file_path).toBe(true);
  });

  it('ships each line of the step once: the wrapper\'s step-*.log, not EMR\'s copy of the same stderr (steps/*/stderr)', async () => {
    // A node laid out under `root`: the wrapper's log dir, and EMR's step folder holding the wrapper's stdout/stderr.
    const root = mkdtempSync(join(tmpdir(), 'ir-agent-'));
    try {
      const home = join(root, 'opt/ingest-replica');
      for (const dir of ['node/bin', 'dist']) mkdirSync(join(home, dir), { recursive: true });
      // The CLI: JSON log lines on stderr, its summary lines on stdout (the same summaries are log lines too).
      writeFileSync(join(home, 'node/bin/node'), '#!/usr/bin/env bash\necho \'{"msg":"run started"}\' >&2\necho \'{"msg":"collection summary","records":3}\' >&2\necho \'{"records":3}\'\n');
      chmodSync(join(home, 'node/bin/node'), 0o755);
      writeFileSync(join(home, 'dist/ingest-replica.js'), '');
      const steps = join(root, 'mnt/var/log/hadoop/steps/s-1');
      mkdirSync(steps, { recursive: true });
      await exec('bash', ['-c', `bash "$0" --correlation-id run-1 >"${steps}/stdout" 2>"${steps}/stderr"`, join(repo, 'steps/run-step.sh')], {
        env: { PATH: process.env.PATH, INGEST_REPLICA_INSTALL: home, INGEST_REPLICA_LOG_DIR: join(root, 'var/log/ingest-replica') },
      });
      // What the agent ships to the step stream family, read through its own globs.
      const shipped = entries.filter((e) => e.log_stream_name === '{instance_id}/step')
        .flatMap((e) => globSync(join(root, e.file_path)))
        .flatMap((file) => readFileSync(file, 'utf8').split('\n').filter((l) => l !== ''));
      const cliLines = ['{"msg":"run started"}', '{"msg":"collection summary","records":3}'];
      for (const line of cliLines) expect(shipped.filter((l) => l === line), line).toHaveLength(1);
      expect(new Set(shipped).size).toBe(shipped.length);
      // The wrapper's own lines reach the step log too.
      expect(shipped.some((l) => l.includes('starting ingest-replica run'))).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('ships each bootstrap line once: a script that tees its output into a shipped log does not also ship EMR\'s copy of its stdout', () => {
    const shippedFiles = entries.map((e) => e.file_path);
    expect(shippedFiles).not.toContain('/emr/instance-controller/log/bootstrap-actions/*/stdout');
    // What runs before the tee (sudo failures) reaches only EMR's stderr copy: that one stays.
    expect(shippedFiles).toContain('/emr/instance-controller/log/bootstrap-actions/*/stderr');
    for (const [script, file] of [['install-ingest-replica.sh', 'bootstrap.log'], ['install-cloudwatch-agent.sh', 'bootstrap-cloudwatch-agent.log']]) {
      expect(read(`emr-config/bootstrap/${script}`)).toContain(`exec > >(tee -a "$log_dir/${file}") 2>&1`);
      expect(file).toMatch(/^bootstrap.*\.log$/);
    }
  });

  it('matches the file run-step.sh writes its log to', () => {
    expect(read('steps/run-step.sh')).toContain('"$log_dir/step-$safe_id.log"');
    expect(read('steps/run-step.sh')).toMatch(/log_dir="\$\{INGEST_REPLICA_LOG_DIR:-\/var\/log\/ingest-replica\}"/);
  });
});

describe('emr-config/s3/output-bucket-lifecycle.json', () => {
  it('aborts incomplete multipart uploads after one day, bucket-wide', () => {
    const lifecycle = JSON.parse(read('emr-config/s3/output-bucket-lifecycle.json')) as { Rules: Record<string, unknown>[] };
    expect(lifecycle.Rules).toEqual([expect.objectContaining({
      Status: 'Enabled', Filter: { Prefix: '' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    })]);
  });
});

describe('emr-config/s3/output-bucket-policy.json (issue 16 item 5)', () => {
  interface Statement { Sid: string; Effect: string; Action: string; Resource: string | string[]; Condition: Record<string, Record<string, string>> }
  const policy = JSON.parse(read('emr-config/s3/output-bucket-policy.json')) as { Statement: Statement[] };
  const denies = policy.Statement.filter((s) => s.Effect === 'Deny' && s.Action === 's3:PutObject');

  it('denies a PutObject whose encryption is not aws:kms, and one without the header', () => {
    expect(denies).toContainEqual(expect.objectContaining({ Resource: 'arn:aws:s3:::${OutputBucket}/*', Condition: { StringNotEquals: { 's3:x-amz-server-side-encryption': 'aws:kms' } } }));
    expect(denies).toContainEqual(expect.objectContaining({ Resource: 'arn:aws:s3:::${OutputBucket}/*', Condition: { Null: { 's3:x-amz-server-side-encryption': 'true' } } }));
  });

  it('allows nothing: it only narrows what the roles grant', () => {
    expect(policy.Statement.every((s) => s.Effect === 'Deny')).toBe(true);
  });
});
