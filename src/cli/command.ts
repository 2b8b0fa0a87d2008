import { exitCodeFor, IngestError, toError } from '../shared/errors.js';

/**
 * Runs one command body and maps its outcome to the exit code contract:
 * 0 ok, 1 failure, 2 usage/config, 3 deferred/blocked.
 */
export async function runCommand(body: () => Promise<number | void>): Promise<void> {
  try {
    const code = await body();
    process.exitCode = code ?? 0;
  } catch (caught) {
    const error = toError(caught);
    process.stderr.write(`ingest-replica: ${describe(error)}\n`);
    process.exitCode = exitCodeFor(error);
  }
}

function describe(error: Error): string {
  const context = error instanceof IngestError && Object.keys(error.context).length > 0
    ? ` (${Object.entries(error.context).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}`).join(', ')})`
    : '';
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error.message}${context}${cause}`;
}
