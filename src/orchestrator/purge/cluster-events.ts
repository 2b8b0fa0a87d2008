import { TERMINATED_CLUSTER_STATES } from '../emr/ports.js';

/**
 * The EMR "EMR Cluster State Change" event, as EventBridge delivers it to a Lambda directly, or wrapped in SNS
 * (`Records[].Sns.Message` holds the event's JSON). Only the fields the purge reads.
 */
export interface ClusterStateChange {
  readonly clusterId: string;
  readonly state: string;
  readonly name?: string;
}

/** What the handler makes of one event: a terminated cluster to purge, or something to skip and why. */
export type EventAction =
  | { readonly kind: 'purge'; readonly change: ClusterStateChange }
  | { readonly kind: 'skip'; readonly reason: string; readonly clusterId?: string };

/** The detail-type the purge acts on; the EventBridge rule (infra/purge-rule.ts) matches this constant. */
export const CLUSTER_STATE_CHANGE = 'EMR Cluster State Change';
const DETAIL_TYPE = CLUSTER_STATE_CHANGE;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function fromEventBridge(event: Record<string, unknown>): EventAction {
  if (event['detail-type'] !== DETAIL_TYPE) return { kind: 'skip', reason: `not an ${DETAIL_TYPE} event (detail-type ${JSON.stringify(event['detail-type'])})` };
  const detail = event.detail;
  if (!isObject(detail) || typeof detail.clusterId !== 'string' || typeof detail.state !== 'string') {
    return { kind: 'skip', reason: 'the event has no detail.clusterId and detail.state' };
  }
  const change = { clusterId: detail.clusterId, state: detail.state, ...(typeof detail.name === 'string' ? { name: detail.name } : {}) };
  if (!(TERMINATED_CLUSTER_STATES as readonly string[]).includes(change.state)) {
    return { kind: 'skip', clusterId: change.clusterId, reason: `state ${change.state}: the purge waits for ${TERMINATED_CLUSTER_STATES.join(' or ')}` };
  }
  return { kind: 'purge', change };
}

/** Every cluster state change in a Lambda event, whether direct from EventBridge or in SNS records. */
export function eventActions(event: unknown): EventAction[] {
  if (isObject(event) && Array.isArray(event.Records)) {
    return event.Records.map((record: unknown): EventAction => {
      const message = isObject(record) && isObject(record.Sns) ? record.Sns.Message : undefined;
      if (typeof message !== 'string') return { kind: 'skip', reason: 'an SNS record without a Message' };
      let inner: unknown;
      try {
        inner = JSON.parse(message);
      } catch {
        return { kind: 'skip', reason: 'an SNS message that is not JSON' };
      }
      return isObject(inner) ? fromEventBridge(inner) : { kind: 'skip', reason: 'an SNS message that is not an event object' };
    });
  }
  return [isObject(event) ? fromEventBridge(event) : { kind: 'skip', reason: 'the event is not an object' }];
}
