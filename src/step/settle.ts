import type { Logger } from '../shared/logger.js';
import type { CollectionConfig } from '../shared/types.js';
import { ForeignManifestError } from './errors.js';
import type { PublishedRun, RecordSink, StatusRow, StatusStore } from './ports.js';

/**
 * Settling a collection's history before its next run reads the watermark: **the published output decides.**
 *
 * A runner can die after its manifest and before `EMR_COMPLETED` (then reconcile marks the row `EMR_FAILED`
 * and an operator may `ack` it), between its commit point and its manifest, or before its commit point (then
 * its folder holds parts nobody trusts). For every row a dead runner left (`EMR_PROCESSING`, `EMR_FAILED`,
 * `_EMR_FAILED`, not yet checked):
 * - its folder holds its manifest → the row becomes `EMR_COMPLETED` with the manifest's window and largest
 *   timestamp, so the watermark covers what was published and no later run reads it again;
 * - it claimed its publication (`PublishClaim`) → the manifest is written from its pending manifest, and the
 *   row completed as above;
 * - neither → the row is abandoned (`OutputChecked`, conditional on its still being unclaimed) and only then
 *   its folder's objects are removed; never read again.
 *
 * Runs under the collection's lease, but does not trust it: a runner that stalled past its lease may still
 * be writing. Of its claim and our abandonment exactly one succeeds (both are conditional on the other's
 * absence), so it either publishes a run we complete, or publishes nothing.
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

interface SettleBy { readonly correlationId: string; readonly now: () => number; readonly logger: Logger }

type RowOutcome = { readonly kind: 'completed'; readonly published: PublishedRun } | { readonly kind: 'discarded' } | { readonly kind: 'left' };

export async function settleCollection(ports: SettlePorts, collection: CollectionConfig, by: SettleBy): Promise<SettleResult> {
  const completed: { row: StatusRow; published: PublishedRun }[] = [];
  let discarded = 0;
  for (const row of await ports.status.unsettledRows(collection.name)) {
    const outcome = await settleRow(ports, collection, row, by);
    if (outcome.kind === 'completed') completed.push({ row, published: outcome.published });
    if (outcome.kind === 'discarded') discarded += 1;
  }
  if (completed.length > 0 || discarded > 0) {
    by.logger.warn({ collection: collection.name, completed: completed.map((c) => c.row.correlationId), discarded }, 'settled runs left by dead runners');
  }
  return { completed, discarded };
}

async function settleRow(ports: SettlePorts, collection: CollectionConfig, row: StatusRow, by: SettleBy, looks = 1): Promise<RowOutcome> {
  const folder = row.outputFolder;
  if (folder === undefined) {
    // Started before runs recorded their folder (or never started): nothing this step can check.
    await abandon(ports.status, row, by.now());
    return { kind: 'left' };
  }
  const published = await ports.sink.published(folder);
  if (published !== undefined && published.collection !== collection.name) throw foreignManifest(collection, row, published);
  if (published !== undefined && published.correlationId === row.correlationId) return completeFromManifest(ports, collection, row, published, by.correlationId);
  if (published !== undefined) {
    by.logger.warn({ folder, row: row.correlationId, manifestRun: published.correlationId }, 'folder holds another run\'s manifest; left alone');
    await abandon(ports.status, row, by.now());
    return { kind: 'left' };
  }
  if (row.publishClaim !== undefined) {
    const fromPending = await ports.sink.publishPending(folder, collection);
    if (fromPending !== undefined) return completeFromManifest(ports, collection, row, fromPending, by.correlationId);
    // Only a hand-edited row or folder gets here: a claim is made after its pending manifest, which goes after the manifest.
    by.logger.error({ folder, row: row.correlationId, claim: row.publishClaim }, 'row claims its publication, but its folder holds neither manifest nor pending manifest: treated as unpublished');
    await abandon(ports.status, row, by.now(), { force: true });
  } else if (!(await abandon(ports.status, row, by.now()))) {
    // Its runner claimed the publication meanwhile (or the row moved on): look again at what it is now.
    const current = await ports.status.get(row.correlationId, row.collection);
    if (current === undefined || current.outputChecked !== undefined || looks >= 3) return { kind: 'left' };
    return settleRow(ports, collection, current, by, looks + 1);
  }
  await ports.sink.discard(folder);
  return { kind: 'discarded' };
}

async function completeFromManifest(ports: SettlePorts, collection: CollectionConfig, row: StatusRow, published: PublishedRun, by: string): Promise<RowOutcome> {
  await ports.sink.ensureSuccessMarker(published.folder, collection);
  const reason = `completed from its published manifest (${published.rows} rows) by run ${by}; the row was ${row.status}`;
  const done = await ports.status.transition({
    correlationId: row.correlationId,
    collection: row.collection,
    triggeredTime: row.triggeredTime,
    status: 'EMR_COMPLETED',
    processedDataStart: published.window.start,
    processedDataEnd: published.maxTimestamp,
    reason,
    owner: null,
  }, [row.status]);
  return done ? { kind: 'completed', published } : { kind: 'left' };
}

/** Marks a dead run's row `OutputChecked` (never settled again), only while its publication is unclaimed (unless forced). */
function abandon(status: StatusStore, row: StatusRow, at: number, options: { readonly force?: boolean } = {}): Promise<boolean> {
  return status.transition(
    { correlationId: row.correlationId, collection: row.collection, triggeredTime: row.triggeredTime, status: row.status, outputChecked: at },
    [row.status],
    options.force === true ? {} : { unclaimed: true },
  );
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
