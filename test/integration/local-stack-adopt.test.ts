import { createServer, type Server } from 'node:http';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/local/processes.js';
import { stackFiles } from '../../src/local/paths.js';
import { localStack } from '../support/local-stack.js';
import { cli, freePort, sharedStackHome, startedPids } from '../support/stack-home.js';

const stack = localStack();
const homes: string[] = [];
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

function shared(prefix: string): { home: string; flags: string[] } {
  const h = sharedStackHome(stack, prefix);
  homes.push(h.home);
  return h;
}

describe('local up adopts what answers on its ports', () => {
  it('adopts the running moto (and HBase, DKS) without starting anything, and down leaves them alone', async () => {
    const { home, flags } = shared('adopt-moto');
    const up = await cli(['local', 'up', '--json', ...flags, '--aws-port', new URL(stack.awsEndpointUrl).port], { INGEST_REPLICA_HOME: home });
    expect(up.code, up.stderr).toBe(0);
    const status = JSON.parse(up.stdout) as { parts: Record<string, { up: boolean; pid?: number; external?: boolean }> };
    for (const part of ['hbase', 'aws', 'dks']) expect(status.parts[part]).toEqual({ up: true, external: true });
    expect(startedPids(up.stderr)).toEqual({});
    expect((await cli(['local', 'down'], { INGEST_REPLICA_HOME: home })).code).toBe(0);
    expect((await fetch(`${stack.awsEndpointUrl}/moto-api/`)).ok).toBe(true);
  });

  it('fails at once, naming the port, when something unknown holds the AWS port, and starts nothing there', async () => {
    const server = createServer((_req, res) => res.writeHead(404).end('not here'));
    servers.push(server);
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const { home, flags } = shared('adopt-unknown');
    const started = Date.now();
    const up = await cli(['local', 'up', ...flags, '--aws-port', String(port)], { INGEST_REPLICA_HOME: home });
    expect(up.code).toBe(2);
    expect(up.stderr).toContain(`port ${port} is in use by something that is neither moto nor LocalStack`);
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(startedPids(up.stderr)).toEqual({});
  });
});

describe('a failed local up', () => {
  it('stops the parts it had started when a later part fails to start, and records none of them', async () => {
    const { home, flags } = shared('partial');
    const up = await cli(
      ['local', 'up', ...flags, '--aws', 'localstack', '--aws-port', String(await freePort()), '--localstack-port', String(await freePort())],
      // A LocalStack that dies at once: moto (started beside it) must not outlive the failed `up`.
      { INGEST_REPLICA_HOME: home, INGEST_LOCALSTACK_PYTHON: '/bin/false' },
    );
    expect(up.code).toBe(1);
    expect(up.stderr).toContain('localstack (log:');
    expect(up.stderr).toContain('exited during start-up');
    const pids = startedPids(up.stderr);
    expect(Object.keys(pids).sort()).toEqual(['aws', 'localstack']);
    expect(isAlive(pids.aws)).toBe(false);
    const state = JSON.parse(readFileSync(stackFiles(home).state, 'utf8')) as { pids: Record<string, number> };
    expect(state.pids).toEqual({});
    expect((await cli(['local', 'down'], { INGEST_REPLICA_HOME: home })).code).toBe(0);
  });
});
