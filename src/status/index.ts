/** Public surface of the job status table (DESIGN.md §3.3). The DynamoDB adapter is imported from its own file. */
export {
  ATTR, BY_COLLECTION_INDEX, BY_COLLECTION_PROJECTION, FAILED_STATUSES, SEED_CORRELATION_ID,
  keyOf, rowFromItem, transitionUpdate, watermarkOf, type StoredStatusRow,
} from './status-item.js';
export { isConditionFailed, statusStoreError } from './errors.js';
