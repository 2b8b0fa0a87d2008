import { Construct } from 'constructs';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { schedulerExpressions, type ScheduleConfig } from '../src/orchestrator/schedule/index.js';

/**
 * One EventBridge Scheduler schedule per launch-slot rule, from `schedulerExpressions` — the function
 * `ingest-replica schedule` prints with — so the deployed expressions and time zone cannot differ from it.
 * The trigger itself still judges each launch (maintenance windows, bank holidays, tolerance).
 */
export class LaunchSchedules extends Construct {
  readonly schedules: scheduler.CfnSchedule[];
  constructor(scope: Construct, id: string, props: { readonly function: lambda.IFunction; readonly schedule: ScheduleConfig; readonly groupName: string }) {
    super(scope, id);
    const group = new scheduler.CfnScheduleGroup(this, 'Group', { name: props.groupName });
    const role = new iam.Role(this, 'InvokeRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
      inlinePolicies: {
        invokeTrigger: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.function.functionArn] })],
        }),
      },
    });
    this.schedules = schedulerExpressions(props.schedule).map((e, i) => {
      const s = new scheduler.CfnSchedule(this, `Launch${i + 1}`, {
        groupName: props.groupName,
        description: `ingest-replica launch slot rule ${i + 1}: ${e.expression} ${e.timezone}`,
        scheduleExpression: e.expression,
        scheduleExpressionTimezone: e.timezone,
        flexibleTimeWindow: { mode: 'OFF' },
        target: {
          arn: props.function.functionArn,
          roleArn: role.roleArn,
          input: '{}',
          // A refused or deferred launch is an outcome; a failed one left rows that block a retry.
          retryPolicy: { maximumRetryAttempts: 0 },
        },
      });
      s.node.addDependency(group);
      return s;
    });
  }
}
