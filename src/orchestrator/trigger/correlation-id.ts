import { randomBytes } from 'node:crypto';
import { compactUtc } from '../emr/cluster-naming.js';

/**
 * A new run's correlation id: `<UTC time>-<8 hex>`, e.g. `20261125T103000Z-3f9a1c0d`. Sortable by time, unique
 * without coordination, and within what `run --correlation-id` and EMR cluster names accept.
 */
export function newCorrelationId(now: number, random: () => Buffer = () => randomBytes(4)): string {
  return `${compactUtc(now)}-${random().toString('hex')}`;
}
