import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import type { StackState } from '../src/local/stack-state.js';

/**
 * The local DKS's own count of decrypt calls (`GET /__stats`, mutual TLS like every DKS call): a check of
 * the step's own count from outside the process. Other sessions share the DKS (and their tests may reset
 * the counters), so a difference between two readings is trusted only when it is not negative.
 */
export function dksDecryptCounter(stack: StackState): { read: () => Promise<number | undefined>; close: () => Promise<void> } {
  const agent = new Agent({
    connect: { ca: readFileSync(stack.dksCaCert), cert: readFileSync(stack.dksClientCert), key: readFileSync(stack.dksClientKey) },
  });
  return {
    read: async () => {
      try {
        const res = await request(`${stack.dksUrl}/__stats`, { dispatcher: agent });
        const body = (await res.body.json()) as { decrypt?: { calls?: number } };
        return res.statusCode === 200 ? body.decrypt?.calls : undefined;
      } catch {
        return undefined;
      }
    },
    close: () => agent.close(),
  };
}
