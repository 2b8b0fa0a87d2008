import { Construct } from 'constructs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { TERMINATED_CLUSTER_STATES } from '../src/orchestrator/emr/ports.js';
import { CLUSTER_STATE_CHANGE } from '../src/orchestrator/purge/cluster-events.js';

/**
 * EMR cluster state changes to TERMINATED or TERMINATED_WITH_ERRORS → the purge Lambda. The states and the
 * detail-type are the handler's own constants, so the rule can never send what the handler skips. No name
 * filter: the handler decides ownership (name prefix or the Application tag).
 */
export const PURGE_EVENT_PATTERN = {
  source: ['aws.emr'],
  detailType: [CLUSTER_STATE_CHANGE],
  detail: { state: [...TERMINATED_CLUSTER_STATES] },
} satisfies events.EventPattern;

export class PurgeRule extends Construct {
  readonly rule: events.Rule;
  constructor(scope: Construct, id: string, props: { readonly function: lambda.IFunction }) {
    super(scope, id);
    this.rule = new events.Rule(this, 'Rule', {
      description: 'ingest-replica: purge a terminated replica\'s meta folder from the primary\'s HBase root',
      eventPattern: PURGE_EVENT_PATTERN,
      targets: [new targets.LambdaFunction(props.function)],
    });
  }
}
