import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { STEP_ENV } from './end-to-end.js';
import type { ProcessingRequest, ProcessingResult } from './processing.js';
import type { ReadCeilingRequest, ReadCeilingResult } from './read-ceiling.js';

/**
 * Each measurement runs in its own Node process, started like the step (same V8 flags and environment), so
 * its CPU time and peak RSS are its own and nothing measured earlier (JIT state, heap, connections) carries
 * over.
 */
const RESOLVE = fileURLToPath(new URL('./resolve-ts.ts', import.meta.url));
const FLAGS = ['--max-semi-space-size=8', '--import', RESOLVE];

function child<T>(script: string, request: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    const path = fileURLToPath(new URL(script, import.meta.url));
    const proc = spawn(process.execPath, [...FLAGS, path, JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...STEP_ENV } });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    proc.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-20_000); });
    proc.on('error', reject);
    proc.on('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) {
        reject(new Error(`${script} exited with ${code}: ${stderr.trim().split('\n').slice(-5).join('\n')}`));
        return;
      }
      resolve(JSON.parse(last) as T);
    });
  });
}

export const readCeilingChild = (request: ReadCeilingRequest): Promise<ReadCeilingResult> => child('./read-ceiling.ts', request);
export const processingChild = (request: ProcessingRequest): Promise<ProcessingResult> => child('./processing.ts', request);
