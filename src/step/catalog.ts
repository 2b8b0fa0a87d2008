import { collectionFolderName } from '../shared/collection-folder.js';
import { toError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { CollectionConfig } from '../shared/types.js';
import type { CatalogTable, PartitionCatalog } from './ports.js';

/** Scheduled runs (`run`) and ad hoc reprocessing (`reprocess`) write under different prefixes and tables. */
export type OutputKind = 'incremental' | 'reprocess';

/** The Athena/Glue table of a collection's output: `<db>_<table>`, `_reprocess` for reprocess output. */
export function tableNameOf(collection: Pick<CollectionConfig, 'db' | 'table'>, kind: OutputKind = 'incremental'): string {
  const base = `${collection.db}_${collection.table}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
  return kind === 'reprocess' ? `${base}_reprocess` : base;
}

export function catalogTableOf(collection: Pick<CollectionConfig, 'db' | 'table'>, outputPrefix: string, kind: OutputKind): CatalogTable {
  return { table: tableNameOf(collection, kind), prefix: `${outputPrefix}/${collectionFolderName(collection)}` };
}

/**
 * Registers the collection's published runs in the catalog, after the manifest (DESIGN.md §3.5). Never fails
 * the run: the manifest is what publishes it, and a registration that fails now is made by the next run,
 * which registers every published folder the catalog lacks.
 */
export async function registerPublishedRuns(catalog: PartitionCatalog | undefined, table: CatalogTable, logger: Logger): Promise<readonly string[]> {
  if (catalog === undefined) return [];
  try {
    const added = await catalog.registerPublished(table);
    if (added.length > 0) logger.info({ table: table.table, added }, 'published runs registered in the catalog');
    return added;
  } catch (e) {
    logger.warn({ err: toError(e), table: table.table, prefix: table.prefix },
      'could not register published runs in the catalog; the next run of this collection retries');
    return [];
  }
}
