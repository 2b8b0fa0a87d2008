import { BlockedError, ConfigError, TransientError } from '../../shared/errors.js';

/** The cluster still runs: its replica still uses its meta folder, so nothing is deleted (exit 3). */
export class ClusterStillRunningError extends BlockedError {}

/** A cluster id that is not EMR's `j-…` form: refusing it keeps a typo from widening the prefix (exit 2). */
export class InvalidClusterIdError extends ConfigError {}

/** The HBase root's bucket does not exist: the root dir setting is wrong (exit 2). */
export class HBaseRootMissingError extends ConfigError {}

/** Some objects could not be deleted; a retry may succeed (the purge is idempotent), so Lambda retries. */
export class MetadataPurgeIncompleteError extends TransientError {}
