import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ConfigError } from '../../shared/errors.js';
import type { StepProcess } from './local-run.js';

/**
 * The step CLI as a child process (`node <cli> run …`), for local mode. Its logs (stderr) pass through; its
 * stdout carries one JSON summary per collection, which is collected.
 */
export function childStepProcess(cliPath: string, env: NodeJS.ProcessEnv): StepProcess {
  return {
    run: (args, extraEnv) => {
      if (!existsSync(cliPath)) {
        return Promise.reject(new ConfigError(`the step CLI ${cliPath} does not exist. Fix: build it first (make build).`));
      }
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--enable-source-maps', cliPath, 'run', ...args], {
          env: { ...env, ...extraEnv },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let stdout = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
        child.once('error', reject);
        child.once('close', (code, signal) => {
          const summaries = stdout.split('\n').filter((l) => l.startsWith('{')).flatMap((l) => {
            try {
              return [JSON.parse(l) as unknown];
            } catch {
              return [];
            }
          });
          resolve({ exitCode: code ?? (signal ? 128 : 1), summaries });
        });
      });
    },
  };
}
