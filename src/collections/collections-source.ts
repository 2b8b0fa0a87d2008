import type { CollectionConfig } from '../shared/types.js';

/** Port: where the configured collections come from (the Secrets Manager secret in production). */
export interface CollectionsSource {
  /** Every configured collection, in configuration order. Throws `ConfigError` when the configuration is bad. */
  collections(): Promise<CollectionConfig[]>;
}

/** A fixed list: for tests and for runs whose collections are all named on the command line. */
export class StaticCollections implements CollectionsSource {
  constructor(private readonly list: readonly CollectionConfig[]) {}

  collections(): Promise<CollectionConfig[]> {
    return Promise.resolve([...this.list]);
  }
}
