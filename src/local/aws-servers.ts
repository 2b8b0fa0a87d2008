import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { ConfigError } from '../shared/errors.js';
import type { AwsService } from '../config/aws-endpoints.js';

/**
 * What answers on a local AWS port: LocalStack (its health endpoint lists its services), moto (`/moto-api/`),
 * nothing, or something else, which `local up` refuses to start on or use.
 */
export type AwsServer =
  | { readonly kind: 'localstack'; readonly serves: readonly AwsService[]; readonly version: string }
  | { readonly kind: 'moto' }
  | { readonly kind: 'none' }
  | { readonly kind: 'unknown'; readonly answer: string };

/**
 * The product's services LocalStack community serves here. DynamoDB needs DynamoDB Local, which LocalStack
 * downloads at first use (not reachable here); EMR is not in the community edition at all (501).
 */
export const LOCALSTACK_SERVICES: readonly AwsService[] = ['s3', 'kms', 'secretsmanager', 'sns'];

export async function identifyAwsServer(url: string): Promise<AwsServer> {
  let health: Response;
  try {
    health = await fetch(`${url}/_localstack/health`, { signal: AbortSignal.timeout(3000) });
  } catch {
    return { kind: 'none' };
  }
  const text = await health.text().catch(() => '');
  if (health.ok) {
    try {
      const body = JSON.parse(text) as { services?: Record<string, string>; version?: string };
      if (body.services) {
        const up = new Set(Object.entries(body.services).filter(([, s]) => s === 'available' || s === 'running').map(([n]) => n));
        return { kind: 'localstack', serves: LOCALSTACK_SERVICES.filter((s) => up.has(s)), version: body.version ?? 'unknown' };
      }
    } catch {
      // not LocalStack: ask whether it is moto
    }
  }
  const moto = await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
  if (moto?.ok) return { kind: 'moto' };
  return { kind: 'unknown', answer: `HTTP ${moto?.status ?? health.status} to /_localstack/health and /moto-api/` };
}

/** The project's LocalStack runtime (`make localstack`: localstack-core in a Python 3.13 venv). */
export function localstackPython(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const python = env.INGEST_LOCALSTACK_PYTHON ?? join(root, '.tools', 'localstack', 'bin', 'python');
  if (!existsSync(python)) {
    throw new ConfigError(`LocalStack is not installed here (no ${python}). Fix: run \`make localstack\` (it needs Python 3.13: \`pyenv install 3.13\`, or python3.13 on PATH).`);
  }
  return python;
}

/** How LocalStack's supervisor starts its runtime, bound to loopback, without Docker, state under `root`. */
export function localstackCommand(python: string, port: number, root: string): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  return {
    command: python,
    args: ['-m', 'localstack.runtime.main'],
    env: {
      ...process.env,
      GATEWAY_LISTEN: `127.0.0.1:${port}`,
      // The default server binds 0.0.0.0 whatever host it is given.
      GATEWAY_SERVER: 'hypercorn',
      // Otherwise it detects a container and writes into system folders.
      OVERRIDE_IN_DOCKER: '0',
      FILESYSTEM_ROOT: root,
      PERSISTENCE: '0',
    },
  };
}
