/**
 * Resource types moto's CloudFormation cannot create (moto 5.2: it skips them with only a warning, and the
 * stack still reports CREATE_COMPLETE). The ONE list: with the context flag `localDeploy=true` the stack leaves
 * exactly these out (`deploys()`), `make deploy-local` refuses a template holding any of them, and the
 * template tests check both directions. What each one means for the local deployment:
 */
export const MOTO_UNSUPPORTED: Readonly<Record<string, string>> = {
  'AWS::S3::BucketPolicy': 'the TLS-only bucket policies (moto serves plain HTTP anyway)',
  'AWS::SNS::TopicPolicy': 'the TLS-only topic policy',
  'AWS::SecretsManager::Secret': 'the placeholder collections secret: locally the existing one, by name',
  'AWS::Scheduler::Schedule': 'the launch schedules: locally the trigger is run by hand (trigger --local)',
  'AWS::Scheduler::ScheduleGroup': 'the schedules\' group',
  'AWS::CloudWatch::Alarm': 'the alarms on trigger failures, deferred runs and purge errors',
  'AWS::Logs::MetricFilter': 'the metric filter counting deferred runs',
  'AWS::Lambda::EventInvokeConfig': 'no async retries of the trigger',
  // moto's CloudFormation reports this one CREATE_COMPLETE, but its EMR API never sees it (moto 5.2.1).
  'AWS::EMR::SecurityConfiguration': 'the EMR security configuration: locally trigger --local creates one under the same name on moto\'s EMR',
  'Custom::CDKBucketDeployment': 'the artifact upload (a custom resource moto cannot run); trigger --local needs none',
};

export interface LocalDeployment {
  /** True when the stack is synthesized for moto (`-c localDeploy=true`). */
  readonly local: boolean;
  /** Whether resources of this type are created: always in AWS, only moto's supported types locally. */
  deploys(type: string): boolean;
}

export function localDeployment(flag: unknown): LocalDeployment {
  const local = flag === true || flag === 'true';
  return { local, deploys: (type) => !local || !(type in MOTO_UNSUPPORTED) };
}
