import type { Logger } from '../shared/logger.js';
import type { CollectionConfig } from '../shared/types.js';
import { ForeignManifestError } from './errors.js';
import type { PublishedRun, RecordSink, StatusRow, StatusStore } from './ports.js';

/**
 * Settling a collection's history before its next run reads the watermark: **the published output decides.**
 *
 * A runner can die after its manifest and before `EMR_COMPLETED` (then reconcile marks the row `EMR_FAILED`
 * and an operator may `ack` it), or before its manifest (then its folder holds parts nobody trusts). For every
 * row a dead runner left (`EMR_PROCESSING`, `EMR_FAILED`, `_EMR_FAILED`, not yet checked):
 * - its folder holds its manifest → the row becomes `EMR_COMPLETED` with the manifest's window and largest
 *   timestamp, so the watermark covers what was published and no later run reads it again;
 * - it does not → the folder's objects are removed and the row is marked `OutputChecked`, never read again.
 *
 * Runs only under the collection's lease: no live runner of the collection exists, so "no manifest now"
 * means "never a manifest" (a stalled runner's fence stops it before the lease can pass to us).
 */
export interface SettleResult {
  /** Rows completed from their published manifest, each with what its manifest says. */
  readonly completed: readonly { readonly row: StatusRow; readonly published: PublishedRun }[];
  /** Rows whose unpublished folders were removed. */
  readonly discarded: number;
}

export interface SettlePorts {
  readonly status: StatusStore;
  readonly sink: RecordSink;
}

export async function settleCollection(ports: SettlePorts, collection: CollectionConfig, by: { readonly correlationId: string; readonly now: () => number; readonly logger: Logger }): Promise<SettleResult> {
  const completed: { row: StatusRow; published: PublishedRun }[] = [];
  let discarded = 0;
  for (const row of await ports.status.unsettledRows(collection.name)) {
    const folder = row.outputFolder;
    if (folder === undefined) {
      // Started before runs recorded their folder (or never started): nothing this step can check.
      await markChecked(ports.status, row, by.now());
      continue;
    }
    const published = await ports.sink.published(folder);
    if (published !== undefined && published.collection !== collection.name) throw foreignManifest(collection, row, published);
    if (published !== undefined && published.correlationId === row.correlationId && published.collection === collection.name) {
      if (await completeFromManifest(ports, collection, row, published, by.correlationId)) completed.push({ row, published });
      continue;
    }
    if (published !== undefined) {
      by.logger.warn({ folder, row: row.correlationId, manifestRun: published.correlationId }, 'folder holds another run\'s manifest; left alone');
    } else {
      await ports.sink.discard(folder);
      discarded += 1;
    }
    await markChecked(ports.status, row, by.now());
  }
  if (completed.length > 0 || discarded > 0) {
    by.logger.warn({ collection: collection.name, completed: completed.map((c) => c.row.correlationId), discarded }, 'settled runs left by dead runners');
  }
  return { completed, discarded };
}

async function completeFromManifest(ports: SettlePorts, collection: CollectionConfig, row: StatusRow, published: PublishedRun, by: string): Promise<boolean> {
  await ports.sink.ensureSuccessMarker(published.folder, collection);
  const reason = `completed from its published manifest (${published.rows} rows) by run ${by}; the row was ${row.status}`;
  return ports.status.transition({
    correlationId: row.correlationId,
    collection: row.collection,
    triggeredTime: row.triggeredTime,
    status: 'EMR_COMPLETED',
    processedDataStart: published.window.start,
    processedDataEnd: published.maxTimestamp,
    reason,
    owner: null,
  }, [row.status]);
}

function markChecked(status: StatusStore, row: StatusRow, at: number): Promise<boolean> {
  return status.transition({ correlationId: row.correlationId, collection: row.collection, triggeredTime: row.triggeredTime, status: row.status, outputChecked: at }, [row.status]);
}

/** Trusting another collection's manifest would complete this collection with a watermark it never read. */
function foreignManifest(collection: CollectionConfig, row: StatusRow, published: PublishedRun): ForeignManifestError {
  return new ForeignManifestError(
    `run folder ${published.folder} holds the manifest of collection ${published.collection}, not ${collection.name}: ` +
      'it is not trusted. Two collections mapped to one folder (output written before folder names were made injective?) ' +
      'or the status row names the wrong folder; check the folder and the row, then ack the row once resolved',
    { context: { collection: collection.name, correlationId: row.correlationId, folder: published.folder, manifestCollection: published.collection } },
  );
}
