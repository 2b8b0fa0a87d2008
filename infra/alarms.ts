import { Construct } from 'constructs';
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';

export const METRIC_NAMESPACE = 'ingest-replica';
/** The trigger's log line when its rows went DEFERRED (another run active, or failed runs blocking). */
export const DEFERRED_LOG_MESSAGE = 'trigger stopped before launching';

/** Alarms to the alerts topic: trigger failures, DEFERRED runs, purge errors. */
export class Alarms extends Construct {
  constructor(scope: Construct, id: string, props: { readonly trigger: lambda.Function; readonly purge: lambda.Function; readonly topic: sns.ITopic }) {
    super(scope, id);
    const action = new actions.SnsAction(props.topic);
    const alarm = (alarmId: string, description: string, metric: cloudwatch.IMetric): void => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        alarmDescription: description, metric, threshold: 1, evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(action);
    };
    alarm('TriggerFailures', 'ingest-replica: the trigger Lambda failed (rows LAMBDA_FAILED; see its log)', props.trigger.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }));
    alarm('PurgeErrors', 'ingest-replica: the metadata purge failed or left objects behind', props.purge.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }));
    const deferred = new logs.MetricFilter(this, 'DeferredRunsFilter', {
      logGroup: logs.LogGroup.fromLogGroupName(this, 'TriggerLogs', `/aws/lambda/${props.trigger.functionName}`),
      filterPattern: logs.FilterPattern.stringValue('$.msg', '=', DEFERRED_LOG_MESSAGE),
      metricNamespace: METRIC_NAMESPACE, metricName: 'DeferredRuns', metricValue: '1',
    });
    alarm('DeferredRuns', 'ingest-replica: a trigger deferred its run (another run active, or failed runs need ack)', deferred.metric({ period: Duration.hours(1), statistic: 'Sum' }));
  }
}
