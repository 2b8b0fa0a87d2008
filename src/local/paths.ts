import { join, resolve } from 'node:path';
import { projectRoot } from '../shared/project-root.js';

/** Where the local stack keeps its state, data, logs and development certificates (git-ignored). */
export function localHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.INGEST_REPLICA_HOME ?? join(projectRoot(), '.local'));
}

export const stackFiles = (home: string) => ({
  state: join(home, 'stack.json'),
  env: join(home, 'stack.env'),
  logs: join(home, 'logs'),
  certs: join(home, 'certs'),
  hbaseData: join(home, 'hbase'),
});
