import { randomBytes } from 'node:crypto';
import { localHome, stackFiles } from '../../src/local/paths.js';
import { readStackState, type StackState } from '../../src/local/stack-state.js';
import { localSeedPorts } from '../../src/local/seeder/run-seed.js';
import { seedCollection, type SeedCollectionRequest } from '../../src/local/seeder/seed.js';
import { silentLogger } from '../../src/shared/logger.js';

/** The running local stack, as `ingest-replica local up` recorded it (make test starts it first). */
export function localStack(): StackState {
  const state = readStackState(stackFiles(localHome()).state);
  if (state === undefined) throw new Error('the local stack is not up: run `./bin/ingest-replica local up` (make test does)');
  return state;
}

/** A collection name no other test uses: every integration test isolates itself by name. */
export function uniqueCollection(prefix = 'itest'): string {
  return `${prefix}_${randomBytes(4).toString('hex')}:records`;
}

/** Seeds one collection on the local stack, as the ingest pipeline would have written it. */
export async function seedLocal(request: SeedCollectionRequest): Promise<void> {
  const ports = localSeedPorts(localStack());
  try {
    await seedCollection(ports, request, silentLogger);
  } finally {
    await ports.close();
  }
}
