import { App, DefaultStackSynthesizer } from 'aws-cdk-lib';
import { localDeployment } from './moto-support.js';
import { applyNag } from './nag.js';
import { loadDeploySettings } from './settings.js';
import { IngestReplicaStack } from './stack.js';

/** The stack name unless `-c stackName=…`: also the prefix of the roles, functions, topic and schedules. */
export const DEFAULT_STACK_NAME = 'ingest-replica';

/**
 * Builds the app from CDK context: `-c config=deploy.json` (settings, as the CLI's --config file), any setting
 * as `-c key=value`, `-c localDeploy=true` for moto (infra/moto-support.ts), `-c stackName=…`.
 */
export function buildApp(app: App = new App()): { app: App; stack: IngestReplicaStack } {
  const context = (key: string): unknown => app.node.tryGetContext(key);
  const deployment = localDeployment(context('localDeploy'));
  const stackName = String(context('stackName') ?? DEFAULT_STACK_NAME);
  const stack = new IngestReplicaStack(app, stackName, {
    stackName,
    settings: loadDeploySettings(context),
    deployment,
    // moto has no bootstrap stack: make deploy-local publishes the assets itself and needs no version check.
    synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: !deployment.local }),
    description: 'ingest-replica: orchestrator, step runner and their data on AWS (infra/)',
  });
  if (!deployment.local) applyNag(stack);
  return { app, stack };
}
