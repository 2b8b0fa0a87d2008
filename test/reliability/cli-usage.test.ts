import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STEP_SETTINGS } from '../../src/config/step-config.js';
import { seedLocal, uniqueCollection } from '../support/local-stack.js';
import { runArgs, runCli, type CliResult } from './support/cli.js';
import { dropTable, envFor, space, stack, uniquePrefix } from './support/stack.js';

/**
 * Issue 6 "bad input" for the command line: every command with missing or invalid flags or config exits 2
 * with a message naming the setting and the fix; an unreachable endpoint gives an error naming it. Commands
 * are discovered from `--help`, so a command added later is held to the same rules.
 */
const limit = pLimit(3);
const cli = (args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> => limit(() => runCli(args, { env, timeoutMs: 90_000 }));

/** Nothing listens there: whatever a command tries to reach fails at once, so no test touches shared state. */
const CLOSED = 'http://127.0.0.1:9';
const DEAD = {
  ...envFor('reliability-cli'),
  AWS_ENDPOINT_URL: CLOSED, HBASE_REST_URL: CLOSED, DKS_URL: 'https://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1', LOG_LEVEL: 'warn',
};

/** Arguments a command needs before it looks at its settings. */
const REQUIRED: Record<string, string[]> = {
  run: ['--correlation-id', 'rel-cli', '--triggered-time', '1700000000000', '--end-time', '1700000000000', '--collections', 'rel_cli:none'],
  reprocess: ['rel_cli:none', '--from', '1', '--to', '2'],
  ddl: ['rel_cli:none'],
  'output show': ['s3://bucket/key.parquet'],
  'purge-metadata': ['--cluster-id', 'j-RELIABILITY'],
  'cluster stop': ['j-RELIABILITY'],
  'cluster start': ['--dry-run', '--idle-timeout', '4h'],
  trigger: ['--dry-run'],
  ack: ['rel_cli:none'],
};

let leaves: string[][] = [];
const helpOf = new Map<string, string>();

async function discover(path: string[]): Promise<string[][]> {
  const help = (await cli([...path, '--help'])).stdout;
  helpOf.set(path.join(' '), help);
  const section = help.split(/\nCommands:\n/)[1];
  if (section === undefined) return [path];
  const names = section.split('\n').map((l) => /^ {2}([a-z][\w-]*)/.exec(l)?.[1]).filter((n): n is string => n !== undefined && n !== 'help');
  return (await Promise.all(names.map((n) => discover([...path, n])))).flat();
}

beforeAll(async () => {
  leaves = await discover([]);
}, 120_000);

describe('every command', () => {
  it('is discovered from --help (the step, the orchestrator, the admin and the local-stack commands)', () => {
    const names = leaves.map((l) => l.join(' '));
    for (const known of ['run', 'reprocess', 'ddl', 'status', 'output list', 'output show', 'local up', 'local seed']) expect(names).toContain(known);
  });

  it('exits 2 on an unknown flag, naming it', async () => {
    const results = await Promise.all(leaves.map(async (path) => ({ path: path.join(' '), r: await cli([...path, ...(REQUIRED[path.join(' ')] ?? []), '--no-such-flag'], DEAD) })));
    for (const { path, r } of results) {
      expect(r.code, path).toBe(2);
      expect(r.stderr, path).toContain('--no-such-flag');
    }
  });

  it('exits 2 on an invalid setting or a missing config file, naming the setting and the fix, before reaching anything', async () => {
    const withConfig = leaves.filter((path) => helpOf.get(path.join(' '))?.includes('--config <file>'));
    expect(withConfig.length).toBeGreaterThanOrEqual(6);
    const results = await Promise.all(withConfig.flatMap((path) => {
      const args = [...path, ...(REQUIRED[path.join(' ')] ?? [])];
      // Commands that take the step's settings validate them all, even those they do not use.
      const stepSettings = helpOf.get(path.join(' '))?.includes('INGEST_CONCURRENCY') === true;
      return [
        ...(stepSettings ? [cli(args, { ...DEAD, INGEST_CONCURRENCY: '0' }).then((r) => ({ path, r, expect: [/concurrency/, /INGEST_CONCURRENCY/, /Fix:/] }))] : []),
        cli([...args, '--config', '/nonexistent/ingest-replica.json'], DEAD).then((r) => ({ path, r, expect: [/config file \/nonexistent\/ingest-replica\.json/, /Fix:/] })),
      ];
    }));
    for (const { path, r, expect: patterns } of results) {
      expect(r.code, `${path.join(' ')}: ${r.stderr}`).toBe(2);
      for (const p of patterns) expect(r.stderr, path.join(' ')).toMatch(p);
    }
  });
});

describe('every setting of the step', () => {
  it('rejects an invalid value with exit 2, naming the setting, its environment variable and the fix', async () => {
    const probes = ['0', '-1', 'soon', 'ftp://x', 'http://not-https', '   '];
    const cases = Object.values(STEP_SETTINGS).flatMap((s) => {
      const bad = probes.find((p) => {
        try {
          s.parse(p);
          return false;
        } catch {
          return true;
        }
      });
      return bad === undefined ? [] : [{ s, bad }];
    });
    expect(cases.length).toBeGreaterThanOrEqual(12);
    const results = await Promise.all(cases.map(async ({ s, bad }) => ({ s, r: await cli(['run', ...REQUIRED.run!], { ...DEAD, [s.env]: bad }) })));
    for (const { s, r } of results) {
      expect(r.code, `${s.env}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(s.key);
      expect(r.stderr).toContain(s.env);
      expect(r.stderr).toContain('Fix:');
    }
  });

  it('names the missing certificate file and how to fix it', async () => {
    const r = await cli(['run', ...REQUIRED.run!], { ...DEAD, DKS_CLIENT_CERT: '/nonexistent/client.pem' });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/DKS_CLIENT_CERT file \/nonexistent\/client\.pem does not exist\. Fix:/);
  });
});

describe.concurrent('missing and invalid flags', () => {
  const cases: [args: string[], named: RegExp][] = [
    [['run'], /--correlation-id/],
    [['run', ...REQUIRED.run!.slice(0, 2), '--triggered-time', 'now', '--end-time', '1', '--collections', 'a:b'], /--triggered-time "now".*ISO-8601/],
    [['run', '--correlation-id', 'bad/id', '--triggered-time', '1', '--end-time', '1', '--collections', 'a:b'], /--correlation-id "bad\/id"/],
    [['run', ...REQUIRED.run!.slice(0, 6), '--collections', 'nocolon'], /"nocolon" is not of the form <namespace>:<table>/],
    [['reprocess'], /--from|collection/],
    [['reprocess', 'a:b', '--from', '2026-01-02', '--to', '2026-01-01'], /--to .* must be after --from/],
    [['ddl'], /collection/],
    [['status', '--runs', 'abc'], /--runs "abc"/],
    [['output', 'show', 'http://x'], /s3:\/\/bucket\/key/],
    [['output', 'show', 's3://b/k', '--limit', '0'], /--limit "0"/],
    [['local', 'seed', '--records', '0'], /--records "0"/],
    [['local', 'up', '--aws-port', '0'], /aws.?port.*TCP port/i],
  ];
  it.each(cases.map(([args, named]) => ({ args, named, name: args.join(' ') })))('$name → exit 2, naming what is wrong', async ({ args, named }) => {
    const r = await cli(args, DEAD);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(named);
  });
});

describe.concurrent('unreachable endpoints', () => {
  const collection = uniqueCollection('relcli');
  let silent: Server;
  let silentUrl: string;

  beforeAll(async () => {
    await seedLocal({ collection, space: space(collection), records: 20, keys: 1, regions: 1 });
    // Accepts connections and never answers: a hung endpoint, the worst kind.
    silent = createServer((socket) => socket.on('data', () => undefined));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    silent?.close();
    await dropTable(collection);
  });

  const run = (endpoints: Record<string, string>) => cli(runArgs(`rel-cli-${Date.now()}`, Date.now(), [collection]), { ...envFor(uniquePrefix('cli')), LOG_LEVEL: 'warn', ...endpoints });

  it('DKS: the run fails (exit 1) with an error naming the DKS URL', async () => {
    const r = await run({ DKS_URL: 'https://127.0.0.1:9' });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('https://127.0.0.1:9');
  });

  it('HBase REST: the run fails (exit 1) with an error naming the REST URL', async () => {
    const r = await run({ HBASE_REST_URL: CLOSED });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(CLOSED);
  }, 60_000);

  it('AWS: run, status and output list fail (exit 1) with an error naming the endpoint', async () => {
    const [step, status, list] = await Promise.all([
      run({ AWS_ENDPOINT_URL: CLOSED, AWS_MAX_ATTEMPTS: '1' }),
      cli(['status', '--collection', collection], { ...DEAD, HBASE_REST_URL: stack.hbaseRestUrl }),
      cli(['output', 'list'], DEAD),
    ]);
    expect(step.code).toBe(1);
    expect(step.stdout).toContain(CLOSED);
    for (const r of [status, list]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(CLOSED);
    }
  });

  it('AWS endpoint that accepts connections and never answers: fails after the socket timeout instead of hanging, naming it', async () => {
    const r = await cli(['output', 'list'], { ...DEAD, AWS_ENDPOINT_URL: silentUrl });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(silentUrl);
    expect(r.ms).toBeLessThan(40_000);
  }, 60_000);
});
